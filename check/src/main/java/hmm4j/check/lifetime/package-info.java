/**
 * The lifetime sanitizer: model objects with a kernel lifetime are poisoned when freed and
 * checked by every accessor, reference holders (a task, or an explicit {@link
 * hmm4j.check.lifetime.RefHandle}, known by identity) are recorded with their sites, and
 * objects and references still live at the end of a run are reported as leaks.
 *
 * <p>Follows the behaviour of {@code mm/kasan/report.c} (a use-after-free report names the
 * access, the allocation and the free, each with its task and stack; a second free is a
 * double-free), {@code mm/kmemleak.c} (objects never freed), {@code lib/ref_tracker.c}
 * (who holds each reference and where it was taken) and {@code include/linux/refcount.h}
 * (a put without a get), as of Linux 6.x.
 */
package hmm4j.check.lifetime;
