package hmm4j.kernel.mm;

import hmm4j.check.lifetime.KObject;
import hmm4j.check.lifetime.RefHandle;
import hmm4j.check.lifetime.RefLedger;
import hmm4j.kernel.mm.notifier.MmuNotifier;
import hmm4j.kernel.mm.notifier.MmuNotifierSubscriptions;
import hmm4j.sim.Kernel;
import hmm4j.sim.RefHolder;
import hmm4j.sim.Mark;
import hmm4j.sim.Op;
import hmm4j.sim.Task;
import hmm4j.sim.TaskKey;
import hmm4j.sim.failure.Failure;
import hmm4j.sim.sync.AtomicT;
import hmm4j.sim.sync.RwSemaphore;
import hmm4j.sim.sync.SpinLock;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * {@code struct mm_struct}: one process address space and its two reference counts.
 *
 * <p>Overview: {@code mm_users} counts users of the <em>address space</em> (tasks whose
 * {@code mm} it is, plus {@code mmget} holders); {@code mm_count} counts references to the
 * <em>structure</em> ({@code mmgrab} holders, notifier subscriptions, plus one for all users
 * together). When {@code mm_users} reaches 0, {@code __mmput} tears the address space down
 * ({@link Exit#exitMmap}: notifier release first, then unmap, then free page tables and
 * VMAs) and drops the users' {@code mm_count}; when {@code mm_count} reaches 0 the
 * structure is freed and poisoned, so any later access is a use-after-free. The
 * {@link MmState} and {@link ExitPhase} make the lifecycle explicit.
 *
 * <p>The pin rule (rule mm.pin): {@link #assertAddressSpacePinned} is called by every VMA
 * lookup, page-table walk and fault. It reports "address space used without mmget" unless
 * the acting task itself (by identity, not by name) holds an {@code mm_users} reference
 * (its own tasks hold theirs until {@code exit_mm}), is the task running {@code __mmput}, is
 * the OOM reaper reaping it under the mmap read lock ({@link OomKill}),
 * or is fenced by a classic notifier's {@code ->release} that has not yet returned
 * ({@link #declareReleaseFence}), or by a teardown barrier that {@code __mmput} waits for
 * before {@code exit_mmap} ({@link #declareTeardownBarrier}: an in-flight AIO iocb). The rule holds whether or not the mm happens to be alive,
 * so "mmgrab is not enough" is found on schedules where the race does not bite.
 *
 * <p>Locking: {@code mmap_lock} (a {@link RwSemaphore}) guards the VMA tree;
 * {@code page_table_lock} (a {@link SpinLock}) guards the page table. The counters are
 * {@link AtomicT}s; every counter operation is a scheduling point. The references are
 * recorded per holder in {@link RefLedger}s, so leaks and stray puts are reported with
 * names and sites. A holder is known by identity: {@link #mmget}, {@link #mmput},
 * {@link #mmgrab} and {@link #mmdrop} act for the calling task; a device or subscription
 * passes its own {@link RefHandle} to {@link #mmgrabAs}/{@link #mmdropAs}; a reference
 * handed to another context moves with {@link #transferUsersRef}.
 *
 * <p>Lifetime: allocated by {@link #mmAlloc} (users = 1, count = 1), freed by the
 * {@code mmdrop} that drops {@code mm_count} to 0.
 *
 * <p>Differences from the kernel: no lazy-TLB {@code active_mm} references, no KSM or
 * uprobes; of AIO only {@code mm->ioctx_table} ({@link #ioctxTable}, fs/aio.c in
 * {@code hmm4j.kernel.fs.aio}); {@code mmput} runs {@code __mmput} synchronously in the caller as the kernel
 * does. The kernel does not record who holds {@code mm_users} or {@code mm_count} (there is
 * no {@code ref_tracker} on them) and any context may drop a reference another took; here
 * every reference has a holder and moving one to another context is an explicit, checked
 * {@link #transferUsersRef}.
 */
public final class MmStruct extends KObject {
    /** Coverage mark: mmget_not_zero found the address space dead and took no reference. */
    public static final Mark MMGET_NOT_ZERO_FAILED = Mark.of("mm.mmget-not-zero.failed",
            "mmget_not_zero found the address space dead and took no reference");
    /** Coverage mark: get_task_mm returned NULL: a kernel thread, or a task whose mm is gone. */
    public static final Mark GET_TASK_MM_NULL = Mark.of("mm.get-task-mm.null",
            "get_task_mm returned NULL: a kernel thread, or a task whose mm is gone");
    /** Coverage mark: an access without mm_users was allowed by a release fence whose ->release had not returned. */
    public static final Mark RELEASE_FENCE_ACCESS = Mark.of("mm.release-fence.access",
            "An access without mm_users was allowed by a release fence whose ->release had not returned");

    /** Coverage mark: an access without mm_users was allowed by a teardown barrier (an in-flight iocb exit_aio waits for). */
    public static final Mark TEARDOWN_BARRIER_ACCESS = Mark.of("mm.teardown-barrier.access",
            "An access without mm_users was allowed by a teardown barrier __mmput waits for (an in-flight AIO iocb)");

    /** Coverage mark: the OOM reaper touched the address space without mm_users, under the mmap read lock with MMF_OOM_SKIP clear. */
    public static final Mark OOM_REAPER_ACCESS = Mark.of("mm.oom-reaper.access",
            "The OOM reaper touched the address space without mm_users, under the mmap read lock with MMF_OOM_SKIP clear");

    /** {@code MMF_OOM_SKIP}: the OOM killer and reaper leave this mm alone (exit_mmap freed it, or the reaper gave up). */
    public static final int MMF_OOM_SKIP = 21;
    /** {@code MMF_UNSTABLE}: the OOM reaper has unmapped memory here; faults that would populate it fail. */
    public static final int MMF_UNSTABLE = 22;
    /** {@code MMF_OOM_REAP_QUEUED}: the mm was queued for the OOM reaper once. */
    public static final int MMF_OOM_REAP_QUEUED = 25;

    private static final Op.Kind TEST_BIT = new Op.Kind("test_bit", Op.Access.READ);
    private static final Op.Kind SET_BIT = new Op.Kind("test_and_set_bit", Op.Access.WRITE);

    /** {@code tsk->mm}: the mm a task uses (user tasks, and kernel threads inside kthread_use_mm). */
    public static final TaskKey<MmStruct> TASK_MM = new TaskKey<>("tsk->mm");

    private final int id;
    private final AtomicT mmUsers;
    private final AtomicT mmCount;
    private final RefLedger users;
    private final RefLedger count;
    /** Holder of the one {@code mm_count} reference all users share. */
    private final RefHandle usersCountRef = new RefHandle("mm_users");
    private final RwSemaphore mmapLock;
    private final SpinLock pageTableLock;
    private final VmaTree vmas = new VmaTree();
    private final PageTable pgd = new PageTable();
    private final PinRule pinRule = new PinRule();
    private volatile hmm4j.kernel.fs.aio.KioctxTable ioctxTable;
    private volatile MmState state = MmState.LIVE;
    private volatile ExitPhase exitPhase = ExitPhase.NONE;
    private volatile Task exitingTask;
    private volatile MmuNotifierSubscriptions notifierSubscriptions;
    /** {@code mm->flags}: the {@code MMF_*} bits the model uses; each access a point on the mm. */
    private final AtomicInteger flags = new AtomicInteger();
    private final Op testBitOp;
    private final Op setBitOp;
    /** The per-VMA locks, made on the first per-VMA fault. */
    private VmaLock vmaLocks;
    /** The OOM reaper while it reaps this mm (mmap read lock held, MMF_OOM_SKIP seen clear), else null. */
    private volatile Task oomReaper;

    /** Per-kernel numbering of mms (mm#1, mm#2, ...). */
    private static final class Ids {
        final AtomicInteger next = new AtomicInteger();
    }

    private MmStruct(Kernel kernel, int id, RefHolder owner) {
        super(kernel, "mm#" + id);
        this.id = id;
        this.mmUsers = new AtomicT(kernel, name() + "->mm_users", 1);
        this.mmCount = new AtomicT(kernel, name() + "->mm_count", 1);
        this.users = new RefLedger(kernel, name() + " mm_users");
        this.count = new RefLedger(kernel, name() + " mm_count");
        this.mmapLock = new RwSemaphore(kernel, "mm->mmap_lock", name() + "->mmap_lock");
        this.pageTableLock = new SpinLock(kernel, "mm->page_table_lock", name() + "->page_table_lock");
        this.testBitOp = new Op(TEST_BIT, target(), "test_bit(" + name() + "->flags)");
        this.setBitOp = new Op(SET_BIT, target(), "test_and_set_bit(" + name() + "->flags)");
        vmas.recordSites(kernel);
        users.get(owner, allocSite());
        count.get(usersCountRef, allocSite());
        users.checkBalancedAtQuiescence();
        count.checkBalancedAtQuiescence();
    }

    /**
     * {@code mm_alloc}: a new, empty address space with {@code mm_users == 1} held by
     * {@code owner} (the calling context, which hands it to the task that will use it with
     * {@link #transferUsersRef}) and {@code mm_count == 1} held for the users.
     */
    public static MmStruct mmAlloc(Kernel kernel, RefHolder owner) {
        int id = kernel.component(Ids.class, Ids::new).next.incrementAndGet();
        MmStruct mm = new MmStruct(kernel, id, owner);
        MmList.of(kernel).add(mm);
        return mm;
    }

    /** The mm of {@code task} ({@code tsk->mm}), or null. */
    public static MmStruct of(Task task) {
        return task == null ? null : task.get(TASK_MM);
    }

    /** The holder of the calling context for the reference ledgers: the current task, or the main context. */
    static RefHolder holder(Kernel kernel) {
        return RefHandle.current(kernel);
    }

    public int id() {
        return id;
    }

    // ---- mm_users ----

    /** {@code mmget}: the caller must know {@code mm_users > 0} (it holds one, or it is current->mm). */
    public void mmget() {
        checkAccess("mmget");
        if (mmUsers.incReturn() == 1) {
            kernel().report(new Failure.RefcountError(name() + " mm_users", Failure.RefcountProblem.ADDITION_ON_ZERO,
                    "mmget on an mm whose address space is gone (mm_users was 0; use mmget_not_zero)",
                    kernel().site()));
        }
        users.get(holder(kernel()), kernel().site());
    }

    /**
     * Hands an {@code mm_users} reference held by the calling context over to
     * {@code newHolder} (a task or handle, by identity), as the kernel does implicitly when a
     * reference taken by one thread is released by another (a work item queued with a pinned
     * mm, a new thread started by {@code clone(CLONE_VM)}). The pin rule and the leak check
     * follow the reference: afterwards {@code newHolder} holds it and must {@code mmput} it.
     * A caller that holds no reference is reported as a put without a get.
     */
    public void transferUsersRef(RefHolder newHolder) {
        checkAccess("mm_users transfer");
        users.transfer(holder(kernel()), newHolder);
    }

    /**
     * {@code mmget_not_zero}: takes an {@code mm_users} reference unless the address space
     * is dead. Legal whenever the struct is pinned. Returns false forever once it failed.
     */
    public boolean mmgetNotZero() {
        checkAccess("mmget_not_zero");
        if (!mmUsers.incNotZero()) {
            kernel().mark(MMGET_NOT_ZERO_FAILED);
            return false;
        }
        users.get(holder(kernel()), kernel().site());
        return true;
    }

    /** {@code mmput}: drops an {@code mm_users} reference; the last one runs {@code __mmput}. May sleep. */
    public void mmput() {
        checkAccess("mmput");
        kernel().syncObserver().mightSleep(kernel().current(), "mmput(" + name() + ")");
        users.put(holder(kernel()), kernel().site());
        if (mmUsers.decAndTest()) {
            Exit.mmputLast(this);
        }
    }

    /**
     * {@code mmput_async} (kernel/fork.c): drops an {@code mm_users} reference without
     * sleeping, so it may be called from atomic context; the last one queues
     * {@code mm->async_put_work} on {@code system_wq}, whose kworker runs {@code __mmput}.
     * The {@code mm_count} reference of the users keeps the structure alive until then.
     */
    public void mmputAsync() {
        checkAccess("mmput_async");
        users.put(holder(kernel()), kernel().site());
        if (mmUsers.decAndTest()) {
            hmm4j.kernel.workqueue.WorkStruct asyncPut = new hmm4j.kernel.workqueue.WorkStruct(this,
                    name() + "->async_put_work", w -> Exit.mmputLast(this));
            asyncPut.scheduleWork();
        }
    }

    // ---- mm_count ----

    /** {@code mmgrab}: pins the structure (not the address space). The caller must already pin it. */
    public void mmgrab() {
        mmgrabAs(holder(kernel()));
    }

    /** {@code mmdrop}: drops a structure reference; the last one frees the mm ({@code __mmdrop}). */
    public void mmdrop() {
        mmdropAs(holder(kernel()));
    }

    /** {@code mmdrop} on behalf of {@code holder} (by identity: the users' reference, a subscription's handle). */
    public void mmdropAs(RefHolder holder) {
        checkAccess("mmdrop");
        count.put(holder, kernel().site());
        if (mmCount.decAndTest()) {
            Exit.mmdropLast(this);
        }
    }

    /** {@code mmgrab} on behalf of {@code holder} (by identity: a device's or a notifier subscription's handle). */
    public void mmgrabAs(RefHolder holder) {
        checkAccess("mmgrab");
        if (mmCount.incReturn() == 1) {
            kernel().report(new Failure.RefcountError(name() + " mm_count", Failure.RefcountProblem.ADDITION_ON_ZERO,
                    "mmgrab on an mm whose mm_count was 0", kernel().site()));
        }
        count.get(holder, kernel().site());
    }

    /**
     * {@code get_task_mm}: NULL for kernel threads and for a task whose mm is gone; else
     * {@code mmget} of the task's mm for the caller. {@code tsk->mm} is read and the reference
     * taken under {@code task_lock(task)} ({@link TaskLock}), which {@code exit_mm} takes to
     * clear it, so the mm found still has users. Takes a spinlock; does not sleep. Pairs
     * with {@link #mmput}.
     */
    public static MmStruct getTaskMm(Task task) {
        return TaskLock.getTaskMm(task);
    }

    /** {@code mm_users} without a scheduling point (checkers, reports). */
    public int mmUsersPeek() {
        return mmUsers.peek();
    }

    /** {@code mm_count} without a scheduling point (checkers, reports). */
    public int mmCountPeek() {
        return mmCount.peek();
    }

    /** Who holds {@code mm_users} references, for reports. */
    public RefLedger usersLedger() {
        return users;
    }

    /** The holder of the {@code mm_count} reference all users share ({@code __mmput} drops it). */
    RefHolder usersCountRef() {
        return usersCountRef;
    }

    /** Who holds {@code mm_count} references, for reports. */
    public RefLedger countLedger() {
        return count;
    }

    // ---- state ----

    public MmState mmState() {
        return state;
    }

    public ExitPhase exitPhase() {
        return exitPhase;
    }

    void setState(MmState next) {
        if (!state.canBecome(next)) {
            throw new IllegalStateException(name() + ": illegal transition " + state + " -> " + next);
        }
        state = next;
    }

    void setExitPhase(ExitPhase phase) {
        this.exitPhase = phase;
    }

    void setExitingTask(Task t) {
        this.exitingTask = t;
    }

    /** "LIVE", "EXITING(UNMAPPING)", ... for reports. */
    public String describeState() {
        String s = state == MmState.EXITING ? "EXITING(" + exitPhase + ")" : state.name();
        return s + ", mm_users=" + mmUsers.peek() + ", mm_count=" + mmCount.peek();
    }

    // ---- locks and structures ----

    /** {@code mm->mmap_lock}. */
    public RwSemaphore mmapLock() {
        checkAccess("mm->mmap_lock");
        return mmapLock;
    }

    /** {@code mm->page_table_lock}. */
    public SpinLock pageTableLock() {
        checkAccess("mm->page_table_lock");
        return pageTableLock;
    }

    /** {@code mmap_assert_locked}: the mmap lock is held (read or write) by the caller. */
    public void mmapAssertLocked() {
        RwSemaphore lock = mmapLock();
        if (!lock.heldByCurrent()) { // the assertion's text only when it fails
            lock.assertHeld("mmap_assert_locked(" + name() + ")");
        }
    }

    /** {@code mmap_assert_write_locked}. */
    public void mmapAssertWriteLocked() {
        RwSemaphore lock = mmapLock();
        if (!lock.heldForWriteByCurrent()) {
            lock.assertHeldWrite("mmap_assert_write_locked(" + name() + ")");
        }
    }

    /** {@code mmap_read_lock}. */
    public void mmapReadLock() {
        mmapLock().downRead();
    }

    /** {@code mmap_read_unlock}. */
    public void mmapReadUnlock() {
        mmapLock().upRead();
    }

    /**
     * {@code mmap_write_lock}; then every VMA with a per-VMA lock is write-locked (the model's
     * {@code vma_start_write}, see {@link VmaLock}), so no fault runs under a VMA lock until the
     * mmap lock is released or downgraded.
     */
    public void mmapWriteLock() {
        mmapLock().downWrite();
        MmapLock.startVmaWrites(this);
    }

    /** The per-VMA locks of this mm, made on first use. */
    synchronized VmaLock vmaLocks() {
        if (vmaLocks == null) {
            vmaLocks = new VmaLock(this);
        }
        return vmaLocks;
    }

    synchronized VmaLock vmaLocksOrNull() {
        return vmaLocks;
    }

    /** {@code mmap_write_unlock}. */
    public void mmapWriteUnlock() {
        mmapLock().upWrite();
    }

    /** {@code mmap_read_trylock}: true if the mmap lock was taken for read. Does not sleep. */
    public boolean mmapReadTrylock() {
        return mmapLock().downReadTrylock();
    }

    /** {@code mmap_write_trylock}: true if the mmap lock was taken for write. Does not sleep. */
    public boolean mmapWriteTrylock() {
        return MmapLock.writeTrylock(this);
    }

    /**
     * {@code mmap_read_lock_killable}: takes the mmap lock for read, or gives up with
     * {@code -EINTR} when a fatal signal is pending on the caller as it would sleep, or is
     * sent to it while it sleeps ({@link MmapLock}). May sleep.
     *
     * @return 0 with the lock held, or {@code -EINTR} without it
     */
    public int mmapReadLockKillable() {
        return MmapLock.readLockKillable(this);
    }

    /** {@code mmap_write_lock_killable}: as {@link #mmapReadLockKillable}, for write. May sleep. */
    public int mmapWriteLockKillable() {
        return MmapLock.writeLockKillable(this);
    }

    /** {@code mmap_write_downgrade}: the write lock becomes a read lock; waiting readers enter. */
    public void mmapWriteDowngrade() {
        mmapLock().downgradeWrite();
    }

    /**
     * The VMA tree, for a caller that holds the mmap lock and a pin. {@code op} names the
     * access for the pin rule ("find_vma", "mmap", ...).
     */
    public VmaTree vmas(String op) {
        assertAddressSpacePinned(op);
        return vmas;
    }

    /** The page table, for a caller holding the page-table lock and a pin. */
    public PageTable pgd(String op) {
        assertAddressSpacePinned(op);
        return pgd;
    }

    /**
     * The page-table entry mapping {@code addr} (0 when none), for validators: no pin rule, no
     * scheduling point, no lock. Only meaningful where the caller already excludes changes
     * (in the controlled runtime, any code between two scheduling points; or the end of a
     * run) or tolerates a racy answer. Reports a use-after-free if the mm structure is freed.
     *
     * @throws IllegalArgumentException if {@code addr} is not a user address
     */
    public long ptePeek(long addr) {
        checkAccess("pte peek");
        return pgd.get(addr & Pte.PAGE_MASK);
    }

    /** Teardown access to the VMA tree and page table (only {@code exit_mmap}). */
    VmaTree vmasForTeardown() {
        checkAccess("exit_mmap");
        return vmas;
    }

    PageTable pgdForTeardown() {
        checkAccess("exit_mmap");
        return pgd;
    }

    /**
     * {@code find_vma}: the first VMA ending above {@code addr}. The caller holds the mmap
     * lock (asserted) and an {@code mm_users} pin (the pin rule).
     */
    public Vma findVma(long addr) {
        mmapAssertLocked();
        return vmas("find_vma").findVma(addr);
    }

    /** {@code vma_lookup}: the VMA containing {@code addr}, or null. Same context as {@link #findVma}. */
    public Vma vmaLookup(long addr) {
        mmapAssertLocked();
        return vmas("vma_lookup").vmaLookup(addr);
    }

    // ---- mm->flags ----

    /** {@code test_bit(bit, &mm->flags)} (a scheduling point). */
    public boolean testBit(int bit) {
        checkAccess("test_bit(mm->flags)");
        kernel().point(testBitOp);
        return (flags.get() & (1 << bit)) != 0;
    }

    /**
     * {@code test_bit(bit, &mm->flags)} without a scheduling point, for a caller whose lock
     * already orders it against the writer (a fault checking {@code MMF_UNSTABLE} under the
     * page-table lock the OOM reaper's zap takes after setting it), and for checkers.
     */
    public boolean testBitPeek(int bit) {
        checkAccess("test_bit(mm->flags)");
        return (flags.get() & (1 << bit)) != 0;
    }

    /** {@code set_bit(bit, &mm->flags)}. */
    public void setBit(int bit) {
        testAndSetBit(bit);
    }

    /** {@code test_and_set_bit(bit, &mm->flags)}: the old value of the bit. */
    public boolean testAndSetBit(int bit) {
        checkAccess("set_bit(mm->flags)");
        kernel().point(setBitOp);
        int mask = 1 << bit;
        return (flags.getAndUpdate(v -> v | mask) & mask) != 0;
    }

    /**
     * The OOM reaper ({@link OomKill}) starts or stops reaping: while {@code reaper} is set, its
     * accesses pass the pin rule. It holds the mmap read lock and saw {@code MMF_OOM_SKIP} clear
     * under it, which {@code exit_mmap} sets before it takes the write lock to free the page
     * tables and VMAs: that, not an {@code mm_users} reference, keeps the address space there.
     */
    void setOomReaper(Task reaper) {
        this.oomReaper = reaper;
    }

    // ---- notifiers ----

    /** {@code mm->notifier_subscriptions}, or null (then {@code mm_has_notifiers} is false). */
    public MmuNotifierSubscriptions notifierSubscriptions() {
        checkAccess("mm->notifier_subscriptions");
        return notifierSubscriptions;
    }

    /** Publishes the subscriptions object (registration, under the mmap write lock). */
    public void setNotifierSubscriptions(MmuNotifierSubscriptions subscriptions) {
        checkAccess("mm->notifier_subscriptions");
        this.notifierSubscriptions = subscriptions;
    }

    /** {@code mm_has_notifiers}. */
    public boolean hasNotifiers() {
        return notifierSubscriptions() != null;
    }

    // ---- AIO ----

    /** {@code mm->ioctx_table}: the mm's AIO contexts, or null before the first {@code io_setup}. */
    public hmm4j.kernel.fs.aio.KioctxTable ioctxTable() {
        checkAccess("mm->ioctx_table");
        return ioctxTable;
    }

    /** Publishes or clears {@code mm->ioctx_table} (fs/aio.c: {@code ioctx_add_table}, {@code exit_aio}). */
    public void setIoctxTable(hmm4j.kernel.fs.aio.KioctxTable table) {
        checkAccess("mm->ioctx_table");
        this.ioctxTable = table;
    }

    // ---- the pin rule ----

    /**
     * Declares that {@code worker}'s accesses to this address space are fenced by
     * {@code subscription}'s {@code ->release}: the driver promises that release stops the
     * worker before it returns (the amdkfd pattern, the one exception rule mm.pin allows).
     * The fence holds while the subscription is registered and its release has not
     * returned; an access by the worker after that is reported like any unpinned access.
     */
    public void declareReleaseFence(Task worker, MmuNotifier subscription) {
        checkAccess("declare release fence");
        pinRule.addReleaseFence(worker, subscription);
    }

    /**
     * Declares that {@code worker}'s accesses to this address space are covered by
     * {@code barrier}, something {@code __mmput} waits for before {@code exit_mmap} (the
     * f_fs AIO copy worker: its iocb, which {@code exit_aio} waits for). The model's form of
     * the comment Linus Torvalds asked for above such a {@code use_mm}: the pin rule accepts
     * the worker's accesses only while the barrier really holds the teardown back.
     */
    public void declareTeardownBarrier(Task worker, TeardownBarrier barrier) {
        checkAccess("declare teardown barrier");
        pinRule.addTeardownBarrier(worker, barrier);
    }

    /**
     * Rule mm.pin: reports "address space used without mmget" unless the calling task (this
     * task, not another of the same name) holds an {@code mm_users} reference, is the task
     * running {@code __mmput}, is the OOM reaper reaping it, or is fenced by a
     * release notifier that has not returned or by a teardown barrier that still holds. Set-up code outside any task is exempt.
     */
    public void assertAddressSpacePinned(String op) {
        checkAccess(op);
        pinRule.check(this, op, exitingTask, oomReaper);
    }

    @Override
    public String toString() {
        return name() + " [" + describeState() + "]";
    }
}
