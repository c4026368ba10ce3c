/**
 * Classic mmu notifiers, following {@code mm/mmu_notifier.c} and
 * {@code include/linux/mmu_notifier.h} (Linux 6.x): the per-mm subscriptions object, the
 * subscription list under one global SRCU domain, registration with the mmap lock held for
 * write and {@code mm_take_all_locks} semantics, unregistration with a grace period, the
 * release at {@code exit_mmap} and the {@code invalidate_range_start/end} wrappers with the
 * lockdep map around them. Interval notifiers, get/put and non-blocking starts are added by
 * the notifier issue; what is here is faithful for what it covers.
 */
@hmm4j.sim.ModelCode
package hmm4j.kernel.mm.notifier;
