/**
 * The checkers fed by the substrate: lockdep ({@link hmm4j.check.lockdep}) and the lifetime
 * sanitizer ({@link hmm4j.check.lifetime}), installed on a kernel by
 * {@link hmm4j.check.Checkers}. The kernel has them built in ({@code CONFIG_PROVE_LOCKING},
 * {@code CONFIG_KASAN}, {@code CONFIG_DEBUG_KMEMLEAK}, {@code CONFIG_REF_TRACKER}); here
 * they are attached per {@link hmm4j.sim.Kernel}.
 */
package hmm4j.check;
