package hmm4j.kernel.mm.ops;

import static hmm4j.kernel.mm.lifetime.Runs.assertClean;
import static hmm4j.kernel.mm.lifetime.Runs.checkedKernel;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import hmm4j.kernel.mm.MmStruct;
import hmm4j.kernel.mm.Mmap;
import hmm4j.kernel.mm.Mremap;
import hmm4j.kernel.mm.Pte;
import hmm4j.kernel.mm.Rmap;
import hmm4j.kernel.mm.UserAccess;
import hmm4j.kernel.mm.notifier.MmuIntervalNotifier;
import hmm4j.kernel.mm.notifier.MmuIntervalNotifierOps;
import hmm4j.kernel.mm.notifier.MmuNotifierEvent;
import hmm4j.kernel.sched.Process;
import hmm4j.sim.Kernel;
import hmm4j.sim.Task;
import hmm4j.sim.sync.Completion;
import hmm4j.sim.sync.RwSemaphore;
import hmm4j.sim.sync.SpinLock;
import org.junit.jupiter.api.Test;

/**
 * The anon_vma rwsem's write side in mremap ({@code mm/mremap.c}): {@code take_rmap_locks}
 * around a whole page-table move, after {@code copy_vma}'s {@code anon_vma_clone}. A walker
 * takes the read side once mremap's first UNMAP callback runs and looks, once mremap is
 * blocked (virtual time moves only then), whether the entries have moved yet.
 */
class AnonVmaChangeTest {

    private static final long PAGE = Pte.PAGE_SIZE;
    private static final long SRC = 0x4000_0000L;
    private static final long DST = 0x5000_0000L;

    /**
     * mremap of a touched private VMA to {@code dst}, with a walker that takes the read side
     * when mremap's first UNMAP callback (move_page_tables') runs, i.e. after copy_vma's
     * anon_vma_clone. Returns whether the source entry was still in place when the walker,
     * woken once mremap was blocked, looked.
     */
    private static boolean sourceStillMappedWhenMremapBlocked(long seed, long dst) {
        Kernel k = checkedKernel(seed);
        boolean[] stillMapped = new boolean[1];
        Process.spawn(k, "proc", self -> {
            MmStruct mm = MmStruct.of(self);
            assertEquals(SRC, Mmap.mmap(mm, SRC, Pte.PMD_SIZE, Mmap.PROT_READ | Mmap.PROT_WRITE,
                    Mmap.MAP_PRIVATE | Mmap.MAP_ANONYMOUS | Mmap.MAP_FIXED, null, 0));
            assertEquals(0, UserAccess.copyToUser(k, SRC, new byte[8]));
            Completion unmapStarted = new Completion(k, "unmap started");
            Completion walkerLocked = new Completion(k, "walker locked");
            MmuIntervalNotifier sub = new MmuIntervalNotifier("first-unmap");
            boolean[] first = {true};
            MmuIntervalNotifierOps ops = (s, range, seq) -> {
                s.mmuIntervalSetSeq(seq);
                if (range.event() == MmuNotifierEvent.MMU_NOTIFY_UNMAP && first[0]) {
                    first[0] = false;
                    unmapStarted.complete();
                    walkerLocked.waitForCompletion();
                }
                return true;
            };
            assertEquals(0, sub.mmuIntervalNotifierInsert(mm, SRC, Pte.PMD_SIZE, ops));
            Task walker = k.spawnKthread("walker", t -> {
                mm.mmget();
                unmapStarted.waitForCompletion();
                RwSemaphore sem = Rmap.anonVmaLockRead(mm);
                walkerLocked.complete();
                k.runtime().sleep(1_000_000);
                SpinLock ptl = mm.pageTableLock();
                ptl.lock();
                stillMapped[0] = !Pte.isNone(mm.pgd("walker").get(SRC));
                ptl.unlock();
                Rmap.anonVmaUnlockRead(sem);
                mm.mmput();
            });
            assertEquals(dst, Mremap.mremap(mm, SRC, Pte.PMD_SIZE, Pte.PMD_SIZE,
                    Mremap.MREMAP_MAYMOVE | Mremap.MREMAP_FIXED, dst));
            walker.join();
            sub.mmuIntervalNotifierRemove();
        });
        assertClean(k.run());
        return stillMapped[0];
    }

    @Test
    void mremapOfAWholePmdTable_takesTheRmapLocksAroundTheMove() {
        assertTrue(sourceStillMappedWhenMremapBlocked(5, DST), "blocked in take_rmap_locks, before the move");
    }

    @Test
    void mremapOfPartialTables_movesWithoutTheRmapLocks() {
        assertFalse(sourceStillMappedWhenMremapBlocked(6, DST + PAGE),
                "moved first, blocked later (unlink_anon_vmas of the source)");
    }
}
