package hmm4j.kernel.mm.ops;

import static hmm4j.kernel.mm.lifetime.Runs.assertClean;
import static hmm4j.kernel.mm.lifetime.Runs.checkedKernel;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import hmm4j.kernel.mm.Errno;
import hmm4j.kernel.mm.MmStruct;
import hmm4j.kernel.mm.Mmap;
import hmm4j.kernel.mm.Mremap;
import hmm4j.kernel.mm.Pte;
import hmm4j.kernel.mm.UserAccess;
import hmm4j.kernel.mm.hmm.Hmm;
import hmm4j.kernel.mm.hmm.HmmPfn;
import hmm4j.kernel.mm.hmm.HmmRange;
import hmm4j.kernel.mm.notifier.MmuIntervalNotifier;
import hmm4j.kernel.mm.notifier.MmuIntervalNotifierOps;
import hmm4j.kernel.mm.notifier.MmuNotifierEvent;
import hmm4j.kernel.sched.Process;
import hmm4j.sim.Kernel;
import hmm4j.sim.LockMode;
import hmm4j.sim.sync.Completion;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.Test;

/**
 * munmap in the kernel's order ({@code do_vmi_align_munmap}: detach the VMAs, downgrade the
 * mmap lock, then the UNMAP invalidation and the teardown): what the UNMAP callback sees, and
 * a driver's {@code hmm_range_fault} running concurrently with its own unmap callback.
 */
class MunmapContextTest {

    private static final long PAGE = Pte.PAGE_SIZE;
    private static final long BASE = 0x3000_0000L;
    private static final String MMAP_LOCK = "mm->mmap_lock";
    private static final String START_MAP = "mmu_notifier_invalidate_range_start";
    private static final String PTL = "mm->page_table_lock";

    private static long mapFixed(MmStruct mm, long addr, long len) {
        long a = Mmap.mmap(mm, addr, len, Mmap.PROT_READ | Mmap.PROT_WRITE,
                Mmap.MAP_PRIVATE | Mmap.MAP_ANONYMOUS | Mmap.MAP_FIXED, null, 0);
        assertEquals(addr, a);
        return a;
    }

    /** Runs {@code body} in a process with a context recorder over [BASE, BASE + 8 pages). */
    private static ContextRecorder recordIn(long seed, java.util.function.Consumer<MmStruct> body) {
        Kernel k = checkedKernel(seed);
        ContextRecorder rec = new ContextRecorder();
        AtomicInteger done = new AtomicInteger();
        Process.spawn(k, "proc", self -> {
            MmStruct mm = MmStruct.of(self);
            mapFixed(mm, BASE, 8 * PAGE);
            assertEquals(0, UserAccess.copyToUser(k, BASE, new byte[(int) (8 * PAGE)]));
            assertEquals(0, rec.sub.mmuIntervalNotifierInsert(mm, BASE, 8 * PAGE, rec));
            body.accept(mm);
            rec.sub.mmuIntervalNotifierRemove();
            done.incrementAndGet();
        });
        assertClean(k.run());
        assertEquals(1, done.get(), "the process ran to its end");
        return rec;
    }

    @Test
    void munmap_unmapCallbackRunsWithTheVmasDetachedAndTheMmapLockDowngradedToRead() {
        ContextRecorder rec = recordIn(1, mm -> assertEquals(0, Mmap.munmap(mm, BASE + 2 * PAGE, 3 * PAGE)));
        ContextRecorder.Seen unmap = rec.only(MmuNotifierEvent.MMU_NOTIFY_UNMAP);
        assertTrue(unmap.blockable(), "munmap's UNMAP is blockable");
        assertFalse(unmap.vmaAtStart(), "the VMAs are out of the tree before the invalidation");
        assertTrue(unmap.holds(MMAP_LOCK, LockMode.SHARED), "mmap_lock downgraded to read: " + unmap.held());
        assertFalse(unmap.holds(MMAP_LOCK, LockMode.EXCLUSIVE), "no longer held for write: " + unmap.held());
        assertTrue(unmap.holdsAny(START_MAP), "inside the invalidate_range_start map: " + unmap.held());
        assertFalse(unmap.holdsAny(PTL), "the page-table lock is taken after the callbacks: " + unmap.held());
        assertEquals(List.of(MMAP_LOCK + ":SHARED", START_MAP + ":EXCLUSIVE"), unmap.held(), "exactly these, in this order");
    }

    @Test
    void mmapFixedOverAMapping_unmapsWithTheWriteLockHeldAndTheOldVmasDetached() {
        ContextRecorder rec = recordIn(2, mm -> mapFixed(mm, BASE + PAGE, 2 * PAGE));
        ContextRecorder.Seen unmap = rec.only(MmuNotifierEvent.MMU_NOTIFY_UNMAP);
        assertFalse(unmap.vmaAtStart(), "the old VMA is detached (the new one not yet inserted)");
        assertTrue(unmap.holds(MMAP_LOCK, LockMode.EXCLUSIVE), "MAP_FIXED keeps the write lock: " + unmap.held());
    }

    @Test
    void mremapShrink_unmapsTheTailWithTheWriteLockHeld() {
        ContextRecorder rec = recordIn(3, mm -> assertEquals(BASE, Mremap.mremap(mm, BASE, 8 * PAGE, 4 * PAGE, 0, 0)));
        ContextRecorder.Seen unmap = rec.only(MmuNotifierEvent.MMU_NOTIFY_UNMAP);
        assertTrue(unmap.holds(MMAP_LOCK, LockMode.EXCLUSIVE), "mremap's unmap keeps the write lock: " + unmap.held());
    }

    /**
     * The kernel's race, deterministic: the driver read its sequence before munmap; munmap's
     * UNMAP callback waits (as a driver waits for its device) before it takes its lock and
     * sets the sequence; meanwhile the driver's fault thread takes the mmap lock for read —
     * possible only because munmap downgraded it — and {@code hmm_range_fault} finds no VMA:
     * {@code -EFAULT}, not {@code -EBUSY} (the sequence is not bumped yet). With munmap
     * holding the write lock throughout, this run would deadlock.
     */
    @Test
    void hmmRangeFault_duringAConcurrentMunmapsUnmapCallback_returnsEfault() {
        for (long seed = 1; seed <= 20; seed++) {
            Kernel k = checkedKernel(seed);
            Completion seqRead = new Completion(k, "seq read");
            Completion entered = new Completion(k, "unmap callback entered");
            Completion faulted = new Completion(k, "fault done");
            AtomicReference<Integer> ret = new AtomicReference<>();
            List<String> order = new ArrayList<>();
            MmuIntervalNotifier sub = new MmuIntervalNotifier("mirror");
            MmuIntervalNotifierOps ops = (s, range, curSeq) -> {
                if (range.event() == MmuNotifierEvent.MMU_NOTIFY_UNMAP) {
                    synchronized (order) {
                        order.add("unmap callback");
                    }
                    entered.complete();
                    faulted.waitForCompletion();
                }
                s.mmuIntervalSetSeq(curSeq);
                return true;
            };
            Process.spawn(k, "app", self -> {
                MmStruct mm = MmStruct.of(self);
                mapFixed(mm, BASE, 4 * PAGE);
                assertEquals(0, UserAccess.copyToUser(k, BASE, new byte[(int) (4 * PAGE)]));
                assertEquals(0, sub.mmuIntervalNotifierInsert(mm, BASE, 4 * PAGE, ops));
                k.spawnKthread("gpu-fault", w -> {
                    assertTrue(mm.mmgetNotZero());
                    HmmRange range = new HmmRange(sub, BASE, BASE + 4 * PAGE, new long[4],
                            HmmPfn.HMM_PFN_REQ_FAULT, 0, null);
                    range.setNotifierSeq(sub.mmuIntervalReadBegin());
                    seqRead.complete();
                    entered.waitForCompletion();
                    mm.mmapReadLock();
                    ret.set(Hmm.hmmRangeFault(range));
                    mm.mmapReadUnlock();
                    synchronized (order) {
                        order.add("hmm_range_fault " + ret.get());
                    }
                    faulted.complete();
                    mm.mmput();
                });
                seqRead.waitForCompletion();
                assertEquals(0, Mmap.munmap(mm, BASE, 4 * PAGE));
                synchronized (order) {
                    order.add("munmap returned");
                }
                sub.mmuIntervalNotifierRemove();
            });
            assertClean(k.run());
            assertEquals(-Errno.EFAULT, ret.get(), "seed " + seed);
            assertEquals(List.of("unmap callback", "hmm_range_fault " + -Errno.EFAULT, "munmap returned"), order,
                    "seed " + seed);
        }
    }

    /** The rest of the address space stays usable by readers while munmap tears down its range. */
    @Test
    void hmmRangeFault_ofAStillMappedRangeDuringTheUnmapCallback_succeeds() {
        Kernel k = checkedKernel(7);
        Completion entered = new Completion(k, "unmap callback entered");
        Completion faulted = new Completion(k, "fault done");
        AtomicReference<Integer> ret = new AtomicReference<>();
        MmuIntervalNotifier sub = new MmuIntervalNotifier("mirror");
        MmuIntervalNotifierOps ops = (s, range, curSeq) -> {
            if (range.event() == MmuNotifierEvent.MMU_NOTIFY_UNMAP) {
                entered.complete();
                faulted.waitForCompletion();
            }
            s.mmuIntervalSetSeq(curSeq);
            return true;
        };
        MmuIntervalNotifier other = new MmuIntervalNotifier("mirror-low");
        Process.spawn(k, "app", self -> {
            MmStruct mm = MmStruct.of(self);
            mapFixed(mm, BASE, 4 * PAGE);
            assertEquals(0, sub.mmuIntervalNotifierInsert(mm, BASE + 2 * PAGE, 2 * PAGE, ops));
            assertEquals(0, other.mmuIntervalNotifierInsert(mm, BASE, 2 * PAGE, (s, r, c) -> {
                s.mmuIntervalSetSeq(c);
                return true;
            }));
            k.spawnKthread("gpu-fault", w -> {
                assertTrue(mm.mmgetNotZero());
                entered.waitForCompletion();
                HmmRange range = new HmmRange(other, BASE, BASE + 2 * PAGE, new long[2],
                        HmmPfn.HMM_PFN_REQ_FAULT | HmmPfn.HMM_PFN_REQ_WRITE, 0, null);
                range.setNotifierSeq(other.mmuIntervalReadBegin());
                mm.mmapReadLock();
                ret.set(Hmm.hmmRangeFault(range));
                mm.mmapReadUnlock();
                faulted.complete();
                mm.mmput();
            });
            assertEquals(0, Mmap.munmap(mm, BASE + 2 * PAGE, 2 * PAGE));
            sub.mmuIntervalNotifierRemove();
            other.mmuIntervalNotifierRemove();
        });
        assertClean(k.run());
        assertEquals(0, ret.get(), "the pages below the unmapped range fault in under the shared lock");
    }
}
