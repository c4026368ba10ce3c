package hmm4j.drivers.dmirror;

import static hmm4j.drivers.dmirror.DmirrorProtocol.BLOCK_IN_NONBLOCKABLE;
import static hmm4j.drivers.dmirror.DmirrorProtocol.NO_CLEAR_IN_INVALIDATE;
import static hmm4j.drivers.dmirror.DmirrorProtocol.NO_SET_SEQ;
import static hmm4j.drivers.dmirror.DmirrorProtocol.READ_BEGIN_IN_CALLBACK;
import static hmm4j.drivers.dmirror.DmirrorProtocol.SET_SEQ_OUTSIDE_MUTEX;
import static hmm4j.drivers.dmirror.DmirrorProtocol.SKIP_ANY_MIGRATE;

import hmm4j.check.lifetime.KObject;
import hmm4j.kernel.mm.Gfp;
import hmm4j.kernel.mm.MmStruct;
import hmm4j.kernel.mm.Pte;
import hmm4j.kernel.mm.notifier.MmuIntervalNotifier;
import hmm4j.kernel.mm.notifier.MmuNotifierEvent;
import hmm4j.kernel.mm.notifier.MmuNotifierRange;
import hmm4j.sim.Kernel;
import hmm4j.sim.sync.Mutex;
import java.util.concurrent.atomic.AtomicLong;

/**
 * One mirror ({@code struct dmirror}): what an open file of a dmirror device holds — the
 * device, the address space of the task that opened it, the simulated device page table, the
 * mutex that guards it, the whole-address-space interval subscription that keeps it coherent,
 * and the fault-injection flags ({@code struct dmirror}, {@code dmirror_fops_open} and
 * {@code dmirror_interval_invalidate} in lib/test_hmm.c).
 *
 * <p>Overview. {@link #dmirrorFopsOpen} subscribes [0, {@code ULONG_MAX & PAGE_MASK}) of
 * {@code current->mm}; {@link #dmirrorIntervalInvalidate} then sees every change of the CPU
 * page table of that mm and erases the device entries of the range, after bumping the
 * subscription's sequence under the mutex so that a fault in flight retries (the fault path is
 * {@link DmirrorFault}). The one exception is a {@code MMU_NOTIFY_MIGRATE} event owned by this
 * mirror's device: the device's own migration code updates the tables itself
 * ({@link DmirrorMigrate}), so the callback returns at once.
 *
 * <p>Locking. {@link #mutex()} guards the table and orders the callback's {@code set_seq}
 * against the fault path's {@code read_retry}. In a blockable invalidation the callback sleeps
 * for it; in a non-blockable one it only tries, and on failure answers false holding nothing.
 *
 * <p>Lifetime. A {@link KObject}: allocated by {@link #dmirrorFopsOpen}, freed by
 * {@link #dmirrorFopsRelease} after the subscription is removed (no callback can run any more)
 * and after the device forgot it (its list of mirrors and the backing links of its pages, both
 * followed only under the device's locks). Every callback touches the mirror first, so a
 * callback, a backing link or an ioctl reaching a released mirror is a reported
 * use-after-free.
 *
 * <p>Differences from lib/test_hmm.c: see {@link DmirrorDevice} for the memory and the
 * backing links, {@link DmirrorMigrate} for the mirrors the device's own migrations update;
 * the invalidation's end pfn is inclusive (quirk Q3), as in the driver.
 *
 * <p>Observation (the model's finding, kept as in the driver). The own-migration skip bumps no
 * sequence, so a fault of this device whose {@code hmm_range_fault} saw a page of the device
 * before a CPU fault migrated it back ({@code migrate_to_ram}) still passes
 * {@code read_retry} and commits the device page after the migration erased the entries: a
 * stale entry naming a page back on the free list. The selftests never race a device fault
 * with a CPU fault on one page; the validator reports the race when a test does
 * ({@code DmirrorScenarios.observations()}).
 */
final class Dmirror extends KObject {
    private final DmirrorDevice mdevice;
    private final MmStruct mm;
    private final Mutex mutex;
    private final DmirrorPageTable pt;
    private final MmuIntervalNotifier notifier;
    private final AtomicLong flags = new AtomicLong();
    /** A freed bounce buffer kept for the next command of the same size ({@link DmirrorReadWrite.Bounce}). */
    final java.util.concurrent.atomic.AtomicReference<byte[]> spareBounce = new java.util.concurrent.atomic.AtomicReference<>();

    private Dmirror(DmirrorDevice mdevice, MmStruct mm, String name) {
        super(mdevice.kernel(), name);
        this.mdevice = mdevice;
        this.mm = mm;
        this.mutex = new Mutex(mdevice.kernel(), "dmirror->mutex", name + "->mutex");
        this.pt = new DmirrorPageTable(mdevice.kernel(), name + "->pt");
        this.notifier = new MmuIntervalNotifier(this, name + "->notifier");
    }

    /**
     * {@code dmirror_fops_open}: a new mirror of {@code mdevice} on {@code current->mm}, its
     * whole-address-space subscription inserted. Process context (may sleep).
     *
     * @throws IllegalStateException if the caller is not a task with an mm, or the insert fails
     */
    static Dmirror dmirrorFopsOpen(DmirrorDevice mdevice) {
        Kernel k = mdevice.kernel();
        MmStruct mm = MmStruct.of(k.current());
        if (mm == null) {
            throw new IllegalStateException("open of " + mdevice.name() + " from a context without an mm");
        }
        Gfp.mightAlloc(k, Gfp.GFP_KERNEL);
        Dmirror dmirror = new Dmirror(mdevice, mm, mdevice.nextMirrorName());
        int ret = dmirror.notifier.mmuIntervalNotifierInsert(mm, 0, MmuNotifierRange.ULONG_MAX & Pte.PAGE_MASK,
                dmirror::dmirrorIntervalInvalidate);
        if (ret != 0) {
            dmirror.kfree();
            throw new IllegalStateException("mmu_interval_notifier_insert failed with " + ret);
        }
        mdevice.mirrorAdd(dmirror);
        return dmirror;
    }

    /**
     * {@code dmirror_fops_release}: validates the table one last time, removes the
     * subscription (waiting for a callback in flight), makes the device forget the mirror,
     * destroys the table and frees the mirror. Process context; the caller holds no lock of the
     * mirror.
     */
    void dmirrorFopsRelease() {
        mutex().lock();
        try {
            DmirrorValidator.checkTable(this, "at release");
        } finally {
            mutex.unlock();
        }
        notifier.mmuIntervalNotifierRemove();
        mdevice.dmirrorDeviceEvictChunks();
        mdevice.mirrorRemove(this);
        pt.destroy();
        kfree();
    }

    // ---- the invalidation callbacks ----

    /**
     * {@code dmirror_interval_invalidate}: the CPU page table of {@code range} is about to
     * change. Own migrations are skipped; otherwise, under the mutex, {@code set_seq} and the
     * erase of [start >> PAGE_SHIFT, end >> PAGE_SHIFT] (end inclusive, Q3). False only when the
     * range is non-blockable and the mutex is taken.
     */
    boolean dmirrorIntervalInvalidate(MmuIntervalNotifier sub, MmuNotifierRange range, long curSeq) {
        DmirrorProtocol protocol = mdevice.protocol();
        if (protocol == READ_BEGIN_IN_CALLBACK) {
            sub.mmuIntervalReadBegin();
        }
        if (range.event() == MmuNotifierEvent.MMU_NOTIFY_MIGRATE
                && (range.owner() == mdevice || protocol == SKIP_ANY_MIGRATE)) {
            if (range.owner() == mdevice) {
                kernel().mark(DmirrorDevice.OWN_MIGRATE_SKIPPED);
            }
            return true;
        }
        if (range.event() == MmuNotifierEvent.MMU_NOTIFY_MIGRATE) {
            kernel().mark(DmirrorDevice.OTHER_MIGRATE_INVALIDATED);
        }
        if (!lockForInvalidate(range)) {
            return false;
        }
        try {
            if (protocol != NO_SET_SEQ && protocol != SET_SEQ_OUTSIDE_MUTEX) {
                sub.mmuIntervalSetSeq(curSeq);
            }
            if (protocol != NO_CLEAR_IN_INVALIDATE) {
                dmirrorDoUpdate(range.start(), range.end());
            }
            DmirrorValidator.checkInvalidated(this, range);
        } finally {
            mutex.unlock();
        }
        if (protocol == SET_SEQ_OUTSIDE_MUTEX) {
            sub.mmuIntervalSetSeq(curSeq);
        }
        return true;
    }

    /**
     * {@code dmirror_snapshot_invalidate}: the callback of a SNAPSHOT's temporary subscription.
     * Any change inside the snapshot window spoils the whole snapshot, so it only bumps the
     * sequence (under the mutex, with the same blockable/trylock rule).
     */
    boolean dmirrorSnapshotInvalidate(MmuIntervalNotifier sub, MmuNotifierRange range, long curSeq) {
        if (!lockForInvalidate(range)) {
            return false;
        }
        try {
            sub.mmuIntervalSetSeq(curSeq);
        } finally {
            mutex.unlock();
        }
        return true;
    }

    /** The mutex for a callback: sleep for it if the range is blockable, else only try. */
    private boolean lockForInvalidate(MmuNotifierRange range) {
        checkAccess("dmirror->mutex");
        if (range.blockable() || mdevice.protocol() == BLOCK_IN_NONBLOCKABLE) {
            mutex.lock();
            return true;
        }
        if (mutex.trylock()) {
            return true;
        }
        kernel().mark(DmirrorDevice.INVALIDATE_TRYLOCK_FAILED);
        return false;
    }

    /** {@code dmirror_do_update}: erases [start >> PAGE_SHIFT, end >> PAGE_SHIFT], end inclusive (Q3). Mutex held. */
    void dmirrorDoUpdate(long start, long end) {
        pt.eraseRange(start >>> Pte.PAGE_SHIFT, end >>> Pte.PAGE_SHIFT);
    }

    // ---- accessors (each touches the mirror first) ----

    DmirrorDevice mdevice() {
        checkAccess("dmirror->mdevice");
        return mdevice;
    }

    /** The opener's address space ({@code dmirror->notifier.mm}). */
    MmStruct mm() {
        checkAccess("dmirror->notifier.mm");
        return mm;
    }

    Mutex mutex() {
        checkAccess("dmirror->mutex");
        return mutex;
    }

    DmirrorPageTable pt() {
        checkAccess("dmirror->pt");
        return pt;
    }

    MmuIntervalNotifier notifier() {
        checkAccess("dmirror->notifier");
        return notifier;
    }

    /** {@code dmirror->flags = value} (the FLAGS command). */
    void setFlags(long value) {
        checkAccess("dmirror->flags");
        flags.set(value);
    }

    /** Tests and clears {@code HMM_DMIRROR_FLAG_FAIL_ALLOC}: true means "fail this allocation" (one-shot). */
    boolean takeFailAlloc() {
        checkAccess("dmirror->flags");
        long f;
        do {
            f = flags.get();
            if ((f & HmmDmirrorUapi.HMM_DMIRROR_FLAG_FAIL_ALLOC) == 0) {
                return false;
            }
        } while (!flags.compareAndSet(f, f & ~HmmDmirrorUapi.HMM_DMIRROR_FLAG_FAIL_ALLOC));
        return true;
    }

    /** The flags, for tests. */
    long flags() {
        checkAccess("dmirror->flags");
        return flags.get();
    }
}
