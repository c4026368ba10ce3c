package hmm4j.kernel.mm;

import hmm4j.kernel.KernelRules;
import hmm4j.kernel.fs.aio.Aio;
import hmm4j.kernel.mm.notifier.MmuNotifierEvent;
import hmm4j.kernel.mm.notifier.MmuNotifierRange;
import hmm4j.kernel.mm.notifier.MmuNotifierSubscriptions;
import hmm4j.sim.Kernel;
import hmm4j.sim.Op;
import hmm4j.sim.Task;
import hmm4j.sim.failure.Failure;

/**
 * Address-space teardown: {@code __mmput} (with {@code exit_aio} first), {@code exit_mmap}, {@code __mmdrop} and
 * {@code exit_mm} (kernel/fork.c, mm/mmap.c, kernel/exit.c), in the kernel's order.
 *
 * <p>{@code exit_mmap}: (1) {@code mmu_notifier_release}, before any lock and before
 * anything is unmapped; (2–4) under the mmap read lock, one UNMAP invalidation over
 * [0, ULONG_MAX) around unmapping every VMA; (5) {@code MMF_OOM_SKIP}; (6–7) under the mmap write lock, free the page
 * tables below the pgd, then the VMAs. The task running it is the only one allowed to touch
 * the address space without a pin.
 */
public final class Exit {
    /** The start of the address space's teardown, before the notifiers are released; target: the mm. */
    private static final Op.Kind EXIT_MMAP = new Op.Kind("exit_mmap", Op.Access.WRITE);
    private Exit() {
    }

    /**
     * {@code __mmput}: the last {@code mm_users} reference is gone. {@code exit_aio} kills the
     * mm's AIO contexts and waits for their in-flight iocbs, then {@code exit_mmap} tears the
     * address space down (the kernel's order; {@link Aio.TeardownOrder#MMAP_FIRST} is the
     * counterfactual that swaps them, for the catalogue).
     */
    static void mmputLast(MmStruct mm) {
        Task self = mm.kernel().current();
        mm.setExitingTask(self);
        mm.setState(MmState.EXITING);
        try {
            boolean aioFirst = Aio.teardownOrder(mm.kernel()) == Aio.TeardownOrder.AIO_FIRST;
            if (aioFirst) {
                if (mm.ioctxTable() != null) {
                    mm.setExitPhase(ExitPhase.EXIT_AIO);
                }
                Aio.exitAio(mm);
            }
            Ksm.ksmExit(mm);
            exitMmap(mm);
            if (!aioFirst) {
                Aio.exitAio(mm);
            }
        } finally {
            mm.setExitingTask(null);
        }
        mm.setState(MmState.DEAD);
        MmList.of(mm.kernel()).remove(mm);
        mm.mmdropAs(mm.usersCountRef());
    }

    /** {@code exit_mmap}. */
    static void exitMmap(MmStruct mm) {
        Kernel k = mm.kernel();
        mm.setExitPhase(ExitPhase.RELEASING_NOTIFIERS);
        k.point(new Op(EXIT_MMAP, mm.target(), "exit_mmap(" + mm.name() + "): mmu_notifier_release"));
        MmuNotifierSubscriptions.mmuNotifierRelease(mm);

        mm.setExitPhase(ExitPhase.UNMAPPING);
        mm.mmapReadLock();
        try {
            VmaTree vmas = mm.vmasForTeardown();
            if (vmas.count() > 0) {
                MmuNotifierRange range = new MmuNotifierRange(MmuNotifierEvent.MMU_NOTIFY_UNMAP, 0, mm, 0,
                        MmuNotifierRange.ULONG_MAX);
                range.invalidateRangeStart();
                mm.pageTableLock().lock();
                try {
                    PageTable pgd = mm.pgdForTeardown();
                    PhysMem phys = PhysMem.of(k);
                    for (Vma vma : vmas) {
                        Hugetlb.unreserveRange(mm, pgd, vma, vma.vmStart(), vma.vmEnd());
                        Zap.zapRange(phys, pgd, vma.vmStart(), vma.vmEnd());
                    }
                } finally {
                    mm.pageTableLock().unlock();
                }
                range.invalidateRangeEnd();
            }
        } finally {
            mm.mmapReadUnlock();
        }

        // MMF_OOM_SKIP before the write lock: an OOM reaper that gets the read lock after this
        // sees it and leaves the page tables and VMAs alone (oom_reap_task_mm).
        mm.setBit(MmStruct.MMF_OOM_SKIP);
        mm.setExitPhase(ExitPhase.FREEING_PGTABLES);
        mm.mmapWriteLock();
        try {
            // free_pgtables: unlink_anon_vmas first, then the tables.
            Rmap.unlinkAnonVmas(mm, mm.vmasForTeardown());
            mm.pageTableLock().lock();
            try {
                mm.pgdForTeardown().freeTables(0, Pte.TASK_SIZE);
            } finally {
                mm.pageTableLock().unlock();
            }
            mm.vmasForTeardown().removeAll();
            mm.setExitPhase(ExitPhase.VMAS_GONE);
        } finally {
            mm.mmapWriteUnlock();
        }
    }

    /** {@code __mmdrop}: the last {@code mm_count} reference is gone; frees and poisons the mm. */
    static void mmdropLast(MmStruct mm) {
        Kernel k = mm.kernel();
        if (mm.mmState() != MmState.DEAD) {
            k.report(new Failure.InvariantViolation(KernelRules.MM_COUNT_OUTLIVES_USERS,
                    mm.name() + " lost its last mm_count reference in state " + mm.describeState(), k.site()));
        }
        MmuNotifierSubscriptions.destroy(mm);
        mm.setState(MmState.FREED);
        mm.kfree();
    }

    /**
     * {@code exit_mm}: a user task gives up its address space ({@code tsk->mm = NULL} under
     * {@code task_lock}, so that a concurrent {@code get_task_mm} either finds the mm and
     * takes its reference first or finds NULL; then {@code mmput}). Called when a process
     * task exits.
     */
    public static void exitMm(Task task) {
        MmStruct mm = MmStruct.of(task);
        if (mm == null) {
            return;
        }
        TaskLock.taskLock(task);
        task.set(MmStruct.TASK_MM, null);
        TaskLock.taskUnlock(task);
        mm.mmput();
    }
}
