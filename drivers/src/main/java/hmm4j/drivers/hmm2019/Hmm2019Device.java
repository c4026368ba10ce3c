package hmm4j.drivers.hmm2019;

import hmm4j.kernel.mm.Errno;
import hmm4j.kernel.mm.MmStruct;
import hmm4j.kernel.mm.Pte;
import hmm4j.kernel.mm.hmm2019.Hmm2019Rules;
import hmm4j.kernel.mm.hmm2019.HmmMirror;
import hmm4j.kernel.mm.hmm2019.HmmMirrorOps;
import hmm4j.kernel.mm.hmm2019.HmmRange2019;
import hmm4j.kernel.mm.hmm2019.HmmUpdate;
import hmm4j.sim.Kernel;
import hmm4j.sim.failure.Failure;
import hmm4j.sim.sync.Mutex;
import java.util.Map;
import java.util.TreeMap;

/**
 * The device of the 2019 scenarios: a page table (address → pfn) under {@code dev->pt_lock},
 * which {@code sync_cpu_device_pagetables} takes (a trylock, {@code -EAGAIN} on failure, when
 * it may not block) to drop the entries of the update. {@link #commit} programs it from a
 * range's pfns under the same lock and checks each pfn against the CPU page table: an entry
 * naming a page the CPU no longer maps there is I-H14 (rule hmm2019.valid-means-current), the
 * stale mapping {@code hmm_range_valid} cannot rule out.
 *
 * <p>Locking: the table is guarded by {@link #ptLock}.
 */
public final class Hmm2019Device implements HmmMirrorOps {
    private final Kernel kernel;
    private final Mutex ptLock;
    private final Map<Long, Long> table = new TreeMap<>();
    private int syncs;

    public Hmm2019Device(Kernel kernel, String name) {
        this.kernel = kernel;
        this.ptLock = new Mutex(kernel, "dev->pt_lock", name + "->pt_lock");
    }

    /** {@code dev->pt_lock}: the driver lock of the documented pattern. */
    public Mutex ptLock() {
        return ptLock;
    }

    @Override
    public int syncCpuDevicePagetables(HmmMirror mirror, HmmUpdate update) {
        if (update.blockable()) {
            ptLock.lock();
        } else if (!ptLock.trylock()) {
            return -Errno.EAGAIN;
        }
        try {
            syncs++;
            table.keySet().removeIf(a -> a >= update.start() && a < update.end());
        } finally {
            ptLock.unlock();
        }
        return 0;
    }

    /**
     * Programs the device from {@code range}'s valid pfns; the caller holds {@link #ptLock}
     * and saw {@code hmm_range_valid} true. Reports an entry the CPU no longer maps (I-H14).
     */
    public void commit(MmStruct mm, HmmRange2019 range) {
        ptLock.assertHeld();
        long[] pfns = range.pfns();
        for (int i = 0; i < pfns.length; i++) {
            if ((pfns[i] & HmmRange2019.FLAG_VALID) == 0) {
                continue;
            }
            long addr = range.start() + i * Pte.PAGE_SIZE;
            long pfn = pfns[i] >>> HmmRange2019.PFN_SHIFT;
            long pte = mm.ptePeek(addr);
            if (!Pte.isPresent(pte) || Pte.pfn(pte) != pfn) {
                kernel.report(new Failure.InvariantViolation(Hmm2019Rules.VALID_MEANS_CURRENT, "device maps pfn 0x"
                        + Long.toHexString(pfn) + " at 0x" + Long.toHexString(addr) + " after hmm_range_valid returned true,"
                        + " but the CPU page table has " + (Pte.isNone(pte) ? "no entry" : "pfn 0x" + Long.toHexString(Pte.pfn(pte)))
                        + " (an invalidation started and ended since the walk)", kernel.site()));
                return;
            }
            table.put(addr, pfn);
        }
    }

    /** Entries in the table (under the lock, for tests). */
    public int entries() {
        ptLock.lock();
        try {
            return table.size();
        } finally {
            ptLock.unlock();
        }
    }

    /** Sync calls so far (tests). */
    public int syncs() {
        return syncs;
    }
}
