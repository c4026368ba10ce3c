package hmm4j.kernel.sched;

import hmm4j.check.lifetime.RefHandle;
import hmm4j.kernel.KernelRules;
import hmm4j.kernel.mm.MmStruct;
import hmm4j.sim.Kernel;
import hmm4j.sim.Op;
import hmm4j.sim.Task;
import hmm4j.sim.TaskKey;
import hmm4j.sim.failure.Failure;

/**
 * {@code kthread_use_mm} / {@code kthread_unuse_mm} (kernel/kthread.c): a kernel thread
 * adopts a process address space so that user-memory accesses go to it.
 *
 * <p>Rule (rule mm.pin): these pin only {@code mm_count} ({@code mmgrab}); the
 * caller must hold an {@code mm_users} reference (from {@code mmget_not_zero}) for the
 * whole use/unuse window, or be fenced by a release notifier. The pin rule of
 * {@link MmStruct#assertAddressSpacePinned} enforces that at every access the kthread
 * makes; these functions do not check it themselves, exactly like the kernel.
 *
 * <p>Lazy TLB ({@code mmgrab_lazy_tlb} / {@code mmdrop_lazy_tlb}, include/linux/sched/mm.h).
 * {@code kthread_unuse_mm} clears {@code tsk->mm} but leaves {@code tsk->active_mm} on the
 * mm, so it takes a lazy-TLB {@code mm_count} reference before it drops the one
 * {@code kthread_use_mm} took: the mm structure outlives the unuse until the kthread stops
 * using it as its active mm. The kernel drops that reference when the CPU switches to a task
 * with an mm ({@code context_switch} → {@code finish_task_switch}), and when the kthread
 * adopts another mm ({@code kthread_use_mm}'s {@code mmdrop_lazy_tlb(active_mm)}). The model
 * keeps it, under a holder of its own ({@code "lazy-TLB active_mm of T"}), until the
 * kthread's next {@code kthread_use_mm}, its next {@link #lazyTlbSwitchOut switch-out} (a
 * kworker going idle between works) or its exit, whichever comes first.
 *
 * <p>Differences from the kernel: the kernel may pass the lazy reference on to the next
 * kernel thread of the CPU (the idle task), so it can last until a user task runs there; the
 * model drops it at the kthread's exit at the latest, so that a run's end is quiescent.
 */
public final class Kthread {
    private static final Op.Kind KTHREAD_USE_MM = new Op.Kind("kthread_use_mm", Op.Access.WRITE);
    private static final Op.Kind KTHREAD_UNUSE_MM = new Op.Kind("kthread_unuse_mm", Op.Access.WRITE);
    /** The kthread's {@code active_mm} while it is a lazy-TLB reference ({@code tsk->mm} is NULL). */
    private static final TaskKey<MmStruct> LAZY_ACTIVE_MM = new TaskKey<>("tsk->active_mm (lazy TLB)");
    /** The holder of a kthread's lazy-TLB reference. */
    private static final TaskKey<RefHandle> LAZY_HOLDER = new TaskKey<>("lazy-TLB holder");

    private Kthread() {
    }

    /**
     * {@code kthread_use_mm}: the calling kernel thread (which must have no mm) adopts
     * {@code mm}: {@code mmgrab}, then {@code tsk->mm = tsk->active_mm = mm}, then
     * {@code mmdrop_lazy_tlb} of the previous active mm if it held one. Misuse (a user task,
     * or a kthread already using an mm) is reported as the kernel's WARN.
     */
    public static void kthreadUseMm(MmStruct mm) {
        Kernel k = mm.kernel();
        Task t = k.current();
        if (t == null || !t.isKthread() || MmStruct.of(t) != null) {
            k.report(new Failure.InvariantViolation(KernelRules.KTHREAD_USE_MM,
                    "WARN_ON_ONCE(!(tsk->flags & PF_KTHREAD) || tsk->mm): kthread_use_mm(" + mm.name() + ") called by " + (t == null ? "<main>" : t.name())
                            + (t != null && !t.isKthread() ? ", not a kernel thread" : ", which already has an mm"),
                    k.site()));
            return;
        }
        k.point(Op.of(KTHREAD_USE_MM, mm.target()));
        // Even when mm is the lazy active mm already: the two references are not the same one.
        mm.mmgrab();
        t.set(MmStruct.TASK_MM, mm);
        mmdropLazyTlb(t);
    }

    /**
     * {@code kthread_unuse_mm}: clears {@code tsk->mm}, takes the lazy-TLB reference for
     * {@code active_mm} ({@code mmgrab_lazy_tlb}), then {@code mmdrop}s the use's reference.
     */
    public static void kthreadUnuseMm(MmStruct mm) {
        Kernel k = mm.kernel();
        Task t = k.current();
        if (t == null || !t.isKthread() || MmStruct.of(t) != mm) {
            k.report(new Failure.InvariantViolation(KernelRules.KTHREAD_UNUSE_MM,
                    "WARN_ON_ONCE(!(tsk->flags & PF_KTHREAD) || tsk->mm != mm): kthread_unuse_mm(" + mm.name() + ") by a task that does not use it", k.site()));
            return;
        }
        k.point(Op.of(KTHREAD_UNUSE_MM, mm.target()));
        t.set(MmStruct.TASK_MM, null);
        mm.mmgrabAs(lazyHolder(t));
        t.set(LAZY_ACTIVE_MM, mm);
        mm.mmdrop();
    }

    /**
     * The calling kthread is switched out for a task with an mm (it goes to sleep, a kworker
     * between works): {@code finish_task_switch} drops its lazy-TLB reference, if it holds one.
     */
    public static void lazyTlbSwitchOut(Kernel k) {
        Task t = k.current();
        if (t != null && t.isKthread()) {
            mmdropLazyTlb(t);
        }
    }

    /** The mm the calling kthread holds as its lazy-TLB active mm, or null. */
    public static MmStruct lazyActiveMm(Task t) {
        return t.get(LAZY_ACTIVE_MM);
    }

    private static RefHandle lazyHolder(Task t) {
        RefHandle h = t.get(LAZY_HOLDER);
        if (h == null) {
            h = new RefHandle("lazy-TLB active_mm of " + t.name());
            t.set(LAZY_HOLDER, h);
            // do_exit's final switch away from the dead kthread drops what it still holds.
            t.atExit(() -> mmdropLazyTlb(t));
        }
        return h;
    }

    /** {@code mmdrop_lazy_tlb} of {@code t}'s lazy active mm, if it has one. */
    private static void mmdropLazyTlb(Task t) {
        MmStruct lazy = t.get(LAZY_ACTIVE_MM);
        if (lazy != null) {
            t.set(LAZY_ACTIVE_MM, null);
            lazy.mmdropAs(t.get(LAZY_HOLDER));
        }
    }
}
