package hmm4j.kernel.mm.ops;

import static hmm4j.kernel.mm.lifetime.Runs.assertClean;
import static hmm4j.kernel.mm.lifetime.Runs.checkedKernel;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import hmm4j.check.lockdep.LockGraph;
import hmm4j.check.lockdep.Lockdep;
import hmm4j.kernel.mm.Fault;
import hmm4j.kernel.mm.MmStruct;
import hmm4j.kernel.mm.Mmap;
import hmm4j.kernel.mm.Mprotect;
import hmm4j.kernel.mm.Mremap;
import hmm4j.kernel.mm.Pte;
import hmm4j.kernel.mm.Rmap;
import hmm4j.kernel.mm.UserAccess;
import hmm4j.kernel.mm.notifier.MmuIntervalNotifier;
import hmm4j.kernel.mm.notifier.MmuIntervalNotifierOps;
import hmm4j.kernel.mm.notifier.MmuNotifierEvent;
import hmm4j.kernel.sched.Process;
import hmm4j.sim.Kernel;
import hmm4j.sim.LockClass;
import hmm4j.sim.Task;
import hmm4j.sim.sync.Completion;
import hmm4j.sim.sync.RwSemaphore;
import hmm4j.sim.sync.SpinLock;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.function.Consumer;
import org.junit.jupiter.api.Test;

/**
 * The anon_vma rwsem's write side where an anonymous VMA gets its anon_vma or changes its
 * range: {@code __anon_vma_prepare} on the first anonymous fault (rwsem, then
 * {@code mm->page_table_lock} inside it), {@code vma_prepare} around a split or merge
 * (mprotect here), and mremap's {@code take_rmap_locks} around a whole page-table move. The
 * order tests hold the read side in an rmap walker and see who waits for it: virtual time
 * moves only once every other task is blocked.
 */
class AnonVmaChangeTest {

    private static final long PAGE = Pte.PAGE_SIZE;
    private static final long SRC = 0x4000_0000L;
    private static final long DST = 0x5000_0000L;
    private static final LockClass MMAP = new LockClass("mm->mmap_lock");
    private static final LockClass ANON_VMA = new LockClass(Rmap.ANON_VMA_RWSEM);
    private static final LockClass PTL = new LockClass("mm->page_table_lock");

    private static long map(MmStruct mm, long pages, int flags) {
        return Mmap.mmap(mm, 0, pages * PAGE, Mmap.PROT_READ | Mmap.PROT_WRITE, flags, null, 0);
    }

    /**
     * Runs {@code op} in a kthread of {@code mm} while the calling task holds the anon_vma
     * rwsem for read, and returns the order in which the walker and {@code op} finished.
     */
    private static List<String> raceWithWalker(Kernel k, MmStruct mm, Consumer<MmStruct> op) {
        List<String> order = new CopyOnWriteArrayList<>();
        RwSemaphore walker = Rmap.anonVmaLockRead(mm);
        Task t = k.spawnKthread("op", self -> {
            mm.mmget();
            op.accept(mm);
            order.add("op done");
            mm.mmput();
        });
        k.runtime().sleep(1_000_000);
        order.add("walker done");
        Rmap.anonVmaUnlockRead(walker);
        t.join();
        return order;
    }

    private static void writeFault(MmStruct mm, long addr) {
        mm.mmapReadLock();
        assertEquals(0, Fault.handleMmFault(mm, mm.vmas("test").vmaLookup(addr), addr, Fault.FAULT_FLAG_WRITE));
        mm.mmapReadUnlock();
    }

    @Test
    void firstWriteFault_preparesTheAnonVma_withThePageTableLockInsideIt() {
        Kernel k = checkedKernel(1);
        Process.spawn(k, "proc", self -> {
            MmStruct mm = MmStruct.of(self);
            long a = map(mm, 1, Mmap.MAP_PRIVATE | Mmap.MAP_ANONYMOUS);
            assertEquals(0, UserAccess.copyToUser(k, a, new byte[8]));
        });
        assertClean(k.run());
        LockGraph g = Lockdep.of(k).graph();
        assertTrue(g.hasDependency(MMAP, ANON_VMA), "mmap_lock -> &anon_vma->rwsem");
        assertTrue(g.hasDependency(ANON_VMA, PTL), "&anon_vma->rwsem -> mm->page_table_lock (__anon_vma_prepare)");
        assertFalse(g.hasDependency(PTL, ANON_VMA));
    }

    @Test
    void firstWriteFault_waitsForAWalker_butALaterFaultOfThePreparedVmaDoesNot() {
        Kernel k = checkedKernel(2);
        List<List<String>> orders = new CopyOnWriteArrayList<>();
        Process.spawn(k, "proc", self -> {
            MmStruct mm = MmStruct.of(self);
            long prepared = map(mm, 2, Mmap.MAP_PRIVATE | Mmap.MAP_ANONYMOUS);
            assertEquals(0, UserAccess.copyToUser(k, prepared, new byte[8]));
            orders.add(raceWithWalker(k, mm, m -> writeFault(m, prepared + PAGE)));
            long fresh = map(mm, 1, Mmap.MAP_PRIVATE | Mmap.MAP_ANONYMOUS);
            orders.add(raceWithWalker(k, mm, m -> writeFault(m, fresh)));
        });
        assertClean(k.run());
        assertEquals(List.of(List.of("op done", "walker done"), List.of("walker done", "op done")), orders);
    }

    @Test
    void readFaultOfAnAnonymousVma_mapsTheZeroPageWithoutAnAnonVma() {
        Kernel k = checkedKernel(3);
        Process.spawn(k, "proc", self -> {
            MmStruct mm = MmStruct.of(self);
            long a = map(mm, 1, Mmap.MAP_PRIVATE | Mmap.MAP_ANONYMOUS);
            assertEquals(0, UserAccess.copyFromUser(k, new byte[8], a));
        });
        assertClean(k.run());
        // (exit's unlink_anon_vmas still takes the rwsem: the model counts every private VMA
        // as having an anon_vma there; only the prepare nests the page-table lock in it.)
        assertFalse(Lockdep.of(k).graph().hasDependency(ANON_VMA, PTL), "no anon_vma_prepare for a read fault");
    }

    @Test
    void mprotectSplit_ofAPrivateVma_waitsForTheWalker_ofASharedOneDoesNot() {
        Kernel k = checkedKernel(4);
        List<List<String>> orders = new CopyOnWriteArrayList<>();
        Process.spawn(k, "proc", self -> {
            MmStruct mm = MmStruct.of(self);
            long priv = map(mm, 4, Mmap.MAP_PRIVATE | Mmap.MAP_ANONYMOUS);
            assertEquals(0, UserAccess.copyToUser(k, priv, new byte[(int) (4 * PAGE)]));
            long shared = map(mm, 4, Mmap.MAP_SHARED | Mmap.MAP_ANONYMOUS);
            assertEquals(0, UserAccess.copyToUser(k, shared, new byte[(int) (4 * PAGE)]));
            orders.add(raceWithWalker(k, mm, m -> assertEquals(0, Mprotect.mprotect(m, priv, PAGE, Mmap.PROT_READ))));
            orders.add(raceWithWalker(k, mm, m -> assertEquals(0, Mprotect.mprotect(m, shared, PAGE, Mmap.PROT_READ))));
            // The merge back (commit_merge) of the private VMA, after the walker.
            orders.add(raceWithWalker(k, mm,
                    m -> assertEquals(0, Mprotect.mprotect(m, priv, PAGE, Mmap.PROT_READ | Mmap.PROT_WRITE))));
            assertEquals(4 * PAGE, mm.vmas("test").vmaLookup(priv).vmEnd() - priv, "merged again");
        });
        assertClean(k.run());
        assertEquals(List.of(List.of("walker done", "op done"), List.of("op done", "walker done"),
                List.of("walker done", "op done")), orders);
    }

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
