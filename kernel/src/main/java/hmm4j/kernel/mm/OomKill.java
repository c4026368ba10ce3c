package hmm4j.kernel.mm;

import hmm4j.check.lifetime.RefHandle;
import hmm4j.kernel.KernelRules;
import hmm4j.kernel.mm.notifier.MmuNotifierEvent;
import hmm4j.kernel.mm.notifier.MmuNotifierRange;
import hmm4j.sim.Kernel;
import hmm4j.sim.Mark;
import hmm4j.sim.Task;
import hmm4j.sim.TaskKey;
import hmm4j.sim.failure.Failure;
import hmm4j.sim.sync.SpinLock;
import java.util.Objects;

/**
 * The OOM reaper (mm/oom_kill.c): what the kernel does to the address space of an OOM victim
 * so that its memory comes back before the victim has finished exiting.
 *
 * <p>Overview: {@link #markOomVictim} is the part of {@code mark_oom_victim} that matters
 * here: the victim's {@code signal->oom_mm} takes an {@code mm_count} pin ({@code mmgrab}),
 * never an {@code mm_users} one, so the reaper never delays {@code __mmput}. {@link #oomReapTask}
 * is what the {@code oom_reaper} kernel thread does with one queued victim
 * ({@code oom_reap_task}): up to {@link #MAX_OOM_REAP_RETRIES} attempts of
 * {@code oom_reap_task_mm}, {@code schedule_timeout_idle(HZ/10)} between them; then
 * {@code MMF_OOM_SKIP}. One attempt takes the mmap lock with {@code mmap_read_trylock} (it
 * never waits for it), returns at once if {@code MMF_OOM_SKIP} is set ({@code exit_mmap} has
 * freed the memory), else runs {@code __oom_reap_task_mm}: sets {@code MMF_UNSTABLE}, then for
 * every VMA that is neither {@code VM_HUGETLB} nor {@code VM_PFNMAP} and is anonymous or
 * private, a non-blockable {@code MMU_NOTIFY_UNMAP} invalidation of [vm_start, vm_end)
 * ({@code mmu_notifier_invalidate_range_start_nonblock}) around a zap of the whole VMA. A
 * VMA whose start fails with {@code -EAGAIN} is left as it is (no end: the notifier core has
 * already ended it for the subscriptions that had started) and makes the attempt fail, so the
 * whole address space is tried again later.
 *
 * <p>{@code MMF_UNSTABLE} ({@link #checkStableAddressSpace}) then makes every fault that would
 * populate private memory fail with {@code VM_FAULT_SIGBUS} (so {@code hmm_range_fault}
 * returns {@code -EFAULT}) and every {@code migrate_vma_pages} insert into a hole abort,
 * checked under the page-table lock as in the kernel.
 *
 * <p>Locking: the mmap lock for read (trylock), the notifier lockdep map inside the
 * non-blockable start, then the page-table lock around each zap; the reaper sleeps only
 * between attempts, holding nothing. Its accesses to the address space pass the pin rule
 * while it holds the read lock and has seen {@code MMF_OOM_SKIP} clear under it:
 * {@code exit_mmap} sets that bit before it takes the write lock to free the page tables and
 * VMAs, so the read lock keeps them there ({@link MmStruct#setOomReaper}).
 *
 * <p>Lifetime: the victim's {@code oom_mm} pin is dropped by {@link #oomReapTask} when it is
 * done, standing for the reaper's {@code put_task_struct} being the victim's last task
 * reference (in the kernel {@code free_signal_struct} drops it, whenever the victim's signal
 * struct goes).
 *
 * <p>Differences from the kernel: no victim selection, no {@code SIGKILL} (the victim keeps
 * running, as if the kill were still on its way), no {@code oom_reaper_list} and no
 * {@code OOM_REAPER_DELAY} timer: a scenario's kernel thread calls {@link #oomReapTask} for a
 * victim, as the {@code oom_reaper} thread does when it takes one off its list. A private file
 * mapping's page-cache pages are zapped like anonymous ones ({@code unmap_page_range} without
 * {@code zap_details}). When the reaper gives up, the kernel prints
 * {@code oom_reaper: unable to reap} and moves on; the model reports it as rule
 * {@link KernelRules#OOM_REAPER_UNABLE_TO_REAP}, since a driver that keeps the reaper from its
 * memory is what the rule is for.
 */
public final class OomKill {
    /** {@code MAX_OOM_REAP_RETRIES}. */
    public static final int MAX_OOM_REAP_RETRIES = 10;
    /** {@code schedule_timeout_idle(HZ/10)} between attempts, in virtual nanoseconds. */
    public static final long REAP_RETRY_NANOS = 100_000_000L;

    /** Coverage mark: mmap_read_trylock failed, the attempt is retried later. */
    public static final Mark TRYLOCK_FAILED = Mark.of("oom.reap.trylock-failed",
            "The OOM reaper's mmap_read_trylock failed; it tries again later");
    /** Coverage mark: a non-blockable start failed with -EAGAIN, the VMA is skipped and the attempt retried. */
    public static final Mark VMA_EAGAIN = Mark.of("oom.reap.vma-eagain",
            "A notifier refused the OOM reaper's non-blockable invalidation of a VMA; it is retried later");
    /** Coverage mark: the reaper found MMF_OOM_SKIP set (exit_mmap freed the memory first). */
    public static final Mark FOUND_SKIP = Mark.of("oom.reap.found-skip",
            "The OOM reaper found MMF_OOM_SKIP set: exit_mmap had freed the memory first");
    /** Coverage mark: one attempt reaped every VMA it looked at. */
    public static final Mark REAPED = Mark.of("oom.reap.reaped",
            "The OOM reaper unmapped every private VMA of the victim");
    /** Coverage mark: a fault or migrate_vma insert found MMF_UNSTABLE set and failed. */
    public static final Mark UNSTABLE_REFUSED = Mark.of("oom.unstable.refused",
            "A fault or migrate_vma insert found MMF_UNSTABLE set and failed");

    /** {@code tsk->signal->oom_mm}. */
    private static final TaskKey<OomVictim> OOM_MM = new TaskKey<>("tsk->signal->oom_mm");

    private OomKill() {
    }

    /**
     * An OOM victim: its task and {@code signal->oom_mm}, pinned by {@code mm_count}
     * ({@code pin} holds the {@code mmgrab}).
     */
    public static final class OomVictim {
        private final Task task;
        private final MmStruct mm;
        private final RefHandle pin;
        private volatile boolean released;

        private OomVictim(Task task, MmStruct mm) {
            this.task = task;
            this.mm = mm;
            this.pin = new RefHandle("signal->oom_mm(" + task.name() + ")");
        }

        public Task task() {
            return task;
        }

        /** {@code tsk->signal->oom_mm}: the struct is pinned, not the address space. */
        public MmStruct oomMm() {
            return mm;
        }
    }

    /**
     * {@code mark_oom_victim}: under {@code task_lock(tsk)}, the first call for {@code tsk}
     * records its mm as {@code signal->oom_mm} and pins it with {@code mmgrab}; a later call
     * returns the same victim. Null for a task without an mm.
     */
    public static OomVictim markOomVictim(Task tsk) {
        Objects.requireNonNull(tsk, "tsk");
        TaskLock.taskLock(tsk);
        try {
            OomVictim v = tsk.get(OOM_MM);
            if (v != null) {
                return v;
            }
            MmStruct mm = MmStruct.of(tsk);
            if (mm == null) {
                return null;
            }
            v = new OomVictim(tsk, mm);
            mm.mmgrabAs(v.pin);
            tsk.set(OOM_MM, v);
            return v;
        } finally {
            TaskLock.taskUnlock(tsk);
        }
    }

    /**
     * {@code oom_reap_task}: what the {@code oom_reaper} thread does for one victim. Up to
     * {@link #MAX_OOM_REAP_RETRIES} attempts, sleeping {@link #REAP_RETRY_NANOS} between them;
     * then {@code MMF_OOM_SKIP} is set whatever the outcome and the victim's pin is dropped.
     * Called by a kernel thread holding nothing; sleeps.
     *
     * @return true if an attempt reaped the address space or found it already freed
     */
    public static boolean oomReapTask(OomVictim victim) {
        if (victim.released) {
            throw new IllegalStateException("victim " + victim.task.name() + " was already reaped");
        }
        MmStruct mm = victim.mm;
        Kernel k = mm.kernel();
        int attempts = 0;
        boolean done = false;
        while (attempts++ < MAX_OOM_REAP_RETRIES) {
            if (oomReapTaskMm(mm)) {
                done = true;
                break;
            }
            k.runtime().sleep(REAP_RETRY_NANOS);
        }
        if (!done && !mm.testBit(MmStruct.MMF_OOM_SKIP)) {
            k.report(new Failure.InvariantViolation(KernelRules.OOM_REAPER_UNABLE_TO_REAP,
                    "oom_reaper: unable to reap " + victim.task.name() + " (" + mm.name() + ") after "
                            + MAX_OOM_REAP_RETRIES + " attempts: a notifier refused every non-blockable invalidation, "
                            + "or the mmap lock was never free", k.site()));
        }
        mm.setBit(MmStruct.MMF_OOM_SKIP);
        victim.released = true;
        mm.mmdropAs(victim.pin);
        return done;
    }

    /**
     * {@code oom_reap_task_mm}: one attempt. False if the mmap lock was not free or part of
     * the address space could not be reaped (try again later).
     */
    static boolean oomReapTaskMm(MmStruct mm) {
        Kernel k = mm.kernel();
        if (!mm.mmapReadTrylock()) {
            k.mark(TRYLOCK_FAILED);
            return false;
        }
        try {
            if (mm.testBit(MmStruct.MMF_OOM_SKIP)) {
                k.mark(FOUND_SKIP);
                return true;
            }
            mm.setOomReaper(k.current());
            try {
                boolean ret = reapLocked(mm);
                if (ret) {
                    k.mark(REAPED);
                }
                return ret;
            } finally {
                mm.setOomReaper(null);
            }
        } finally {
            mm.mmapReadUnlock();
        }
    }

    /** {@code __oom_reap_task_mm}, with the mmap read lock held. */
    private static boolean reapLocked(MmStruct mm) {
        Kernel k = mm.kernel();
        mm.setBit(MmStruct.MMF_UNSTABLE);
        boolean ret = true;
        PhysMem phys = PhysMem.of(k);
        for (Vma vma : mm.vmas("__oom_reap_task_mm").stream().toList()) {
            if (vma.hasAny(VmFlags.VM_HUGETLB | VmFlags.VM_PFNMAP)) {
                continue;
            }
            if (!vma.isAnonymous() && vma.isShared()) {
                continue;
            }
            MmuNotifierRange range = new MmuNotifierRange(MmuNotifierEvent.MMU_NOTIFY_UNMAP, 0, mm, vma.vmStart(),
                    vma.vmEnd());
            if (range.invalidateRangeStartNonblock() != 0) {
                k.mark(VMA_EAGAIN);
                ret = false;
                continue;
            }
            SpinLock ptl = mm.pageTableLock();
            ptl.lock();
            try {
                Zap.zapRange(phys, mm.pgd("unmap_page_range"), vma.vmStart(), vma.vmEnd());
            } finally {
                ptl.unlock();
            }
            range.invalidateRangeEnd();
        }
        return ret;
    }

    /**
     * {@code check_stable_address_space} (include/linux/oom.h): {@code VM_FAULT_SIGBUS} once the
     * OOM reaper has started on {@code mm}, else 0. Called under the page-table lock, which
     * orders it against the reaper's zaps (no scheduling point of its own).
     */
    public static int checkStableAddressSpace(MmStruct mm) {
        if (mm.testBitPeek(MmStruct.MMF_UNSTABLE)) {
            mm.kernel().mark(UNSTABLE_REFUSED);
            return Fault.VM_FAULT_SIGBUS;
        }
        return 0;
    }
}
