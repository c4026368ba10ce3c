package hmm4j.kernel.sched;

import hmm4j.kernel.KernelRules;
import hmm4j.kernel.mm.MmStruct;
import hmm4j.sim.Kernel;
import hmm4j.sim.Op;
import hmm4j.sim.Task;
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
 */
public final class Kthread {
    private static final Op.Kind KTHREAD_USE_MM = new Op.Kind("kthread_use_mm", Op.Access.WRITE);
    private static final Op.Kind KTHREAD_UNUSE_MM = new Op.Kind("kthread_unuse_mm", Op.Access.WRITE);
    private Kthread() {
    }

    /**
     * {@code kthread_use_mm}: the calling kernel thread (which must have no mm) adopts
     * {@code mm}: {@code mmgrab}, then {@code tsk->mm = mm}. Misuse (a user task, or a
     * kthread already using an mm) is reported as the kernel's WARN.
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
        mm.mmgrab();
        t.set(MmStruct.TASK_MM, mm);
    }

    /** {@code kthread_unuse_mm}: clears {@code tsk->mm}, then {@code mmdrop}. */
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
        mm.mmdrop();
    }
}
