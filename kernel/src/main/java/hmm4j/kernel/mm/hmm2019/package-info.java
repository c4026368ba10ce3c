/**
 * The 2019 HMM mirror API ({@code struct hmm}, {@code hmm_mirror}, the {@code hmm_range}
 * with its {@code valid} flag), in the three shapes mm/hmm.c and include/linux/hmm.h had in
 * v5.2, v5.3 and v5.4, before and after Jason Gunthorpe's June 2019 locking review
 * ("Various revisions from a locking/code review", merged for 5.3) and the August 2019
 * {@code mmu_notifier_get} conversion (5.4). v5.5 removed the API in favour of interval
 * notifiers ({@link hmm4j.kernel.mm.notifier.MmuIntervalNotifier}, {@link hmm4j.kernel.mm.hmm}).
 *
 * <p>Which shape runs is a {@link hmm4j.kernel.mm.hmm2019.Hmm2019Config}: a
 * {@link hmm4j.kernel.mm.hmm2019.Hmm2019Version} and the set of review patches
 * ({@link hmm4j.kernel.mm.hmm2019.Hmm2019Patch}) applied on top of v5.2, chosen per kernel or
 * per mm ({@link hmm4j.kernel.mm.hmm2019.MmHmm}); a patch the review's dependencies allow can
 * be flipped on its own. The windows in which the reviewed races happen are named scheduling
 * points ({@link hmm4j.kernel.mm.hmm2019.Hmm2019Windows}); the lifetime model of the review
 * thread is checked as rules ({@link hmm4j.kernel.mm.hmm2019.Hmm2019Rules}, I-H1 to I-H14).
 *
 * <p>Kernel version modelled: v5.2 (mm/hmm.c after "Improve HMM driver API v3"), v5.3 (the 12
 * review patches plus the 5.3-rc {@code -EBUSY} fix) and v5.4 ({@code mmu_notifier_get}).
 * Behaviour follows the project's behavioural specification of that API, not kernel text.
 */
@hmm4j.sim.ModelCode
package hmm4j.kernel.mm.hmm2019;
