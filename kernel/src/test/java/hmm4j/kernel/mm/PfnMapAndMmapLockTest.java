package hmm4j.kernel.mm;

import static hmm4j.kernel.mm.lifetime.Runs.assertClean;
import static hmm4j.kernel.mm.lifetime.Runs.assertSingleFailure;
import static hmm4j.kernel.mm.lifetime.Runs.checkedKernel;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import hmm4j.kernel.mm.notifier.MmuIntervalNotifier;
import hmm4j.kernel.mm.notifier.MmuNotifierEvent;
import hmm4j.kernel.sched.Clone;
import hmm4j.kernel.sched.Process;
import hmm4j.kernel.sched.Signal;
import hmm4j.sim.Kernel;
import hmm4j.sim.failure.Failure;
import hmm4j.sim.rule.SimRules;
import hmm4j.sim.sync.Completion;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import org.junit.jupiter.api.Test;

/** remap_pfn_range / zap_vma_ptes on a driver's mapping, and the mmap lock's trylock and killable forms. */
class PfnMapAndMmapLockTest {
    private static final long PAGE = Pte.PAGE_SIZE;

    /** A 2-page VM_PFNMAP mapping made as a driver's f_op->mmap makes it. */
    private static long pfnMapping(MmStruct mm) {
        FileRefStub file = new FileRefStub();
        long addr = Mmap.mmapFile(mm, 2 * PAGE, Mmap.PROT_READ | Mmap.PROT_WRITE, Mmap.MAP_SHARED, file,
                vma -> PfnMap.remapPfnRange(mm, vma, vma.vmStart(), 0x200000, 2 * PAGE));
        assertTrue(addr > 0, "mmap: " + addr);
        return addr;
    }

    private static final class FileRefStub implements hmm4j.kernel.fs.FileRef {
        int count = 1;

        @Override
        public void getFile() {
            count++;
        }

        @Override
        public void fput() {
            count--;
        }
    }

    @Test
    void zapVmaPtes_clearsThePfnEntries_inAClearInvalidationTheMirrorsSee() {
        Kernel k = checkedKernel(1);
        List<MmuNotifierEvent> seen = new CopyOnWriteArrayList<>();
        Process.spawn(k, "proc", self -> {
            MmStruct mm = MmStruct.of(self);
            long addr = pfnMapping(mm);
            MmuIntervalNotifier sub = new MmuIntervalNotifier("mirror");
            sub.mmuIntervalNotifierInsert(mm, addr, 2 * PAGE, (s, range, seq) -> {
                s.mmuIntervalSetSeq(seq);
                seen.add(range.event());
                return true;
            });
            mm.mmapReadLock();
            Vma vma = mm.findVma(addr);
            PfnMap.zapVmaPtes(mm, vma, addr + PAGE, PAGE);
            assertTrue(Pte.isPresent(mm.pgd("test").get(addr)), "the first page is left");
            assertTrue(Pte.isNone(mm.pgd("test").get(addr + PAGE)), "the second is zapped");
            PfnMap.zapVmaPtes(mm, vma, addr, 4 * PAGE); // beyond the VMA: refused
            mm.mmapReadUnlock();
            sub.mmuIntervalNotifierRemove();
        });
        assertClean(k.run());
        assertEquals(List.of(MmuNotifierEvent.MMU_NOTIFY_CLEAR), seen);
        assertTrue(k.marksHit().contains(PfnMap.ZAP_REFUSED));
    }

    @Test
    void zapVmaPtesOnAnOrdinaryMapping_doesNothing_asInTheKernel() {
        Kernel k = checkedKernel(1);
        Process.spawn(k, "proc", self -> {
            MmStruct mm = MmStruct.of(self);
            long addr = Mmap.mmapAnonymous(mm, PAGE, Mmap.PROT_READ | Mmap.PROT_WRITE);
            UserAccess.copyToUser(k, addr, new byte[] {1});
            mm.mmapReadLock();
            PfnMap.zapVmaPtes(mm, mm.findVma(addr), addr, PAGE);
            assertTrue(Pte.isPresent(mm.pgd("test").get(addr)), "not VM_PFNMAP: untouched");
            mm.mmapReadUnlock();
        });
        assertClean(k.run());
        assertTrue(k.marksHit().contains(PfnMap.ZAP_REFUSED));
    }

    @Test
    void zapVmaPtesWithoutTheMmapLock_isReported() {
        Kernel k = checkedKernel(1);
        Process.spawn(k, "proc", self -> {
            MmStruct mm = MmStruct.of(self);
            long addr = pfnMapping(mm);
            mm.mmapReadLock();
            Vma vma = mm.findVma(addr);
            mm.mmapReadUnlock();
            PfnMap.zapVmaPtes(mm, vma, addr, PAGE);
        });
        Failure.InvariantViolation v = assertSingleFailure(k.run(), Failure.InvariantViolation.class);
        assertEquals(SimRules.ASSERT_HELD, v.rule());
    }

    @Test
    void trylocksFailWhileAWriterHolds_andTheKillableLockGivesUpOnlyWhenItWouldSleep() {
        Kernel k = checkedKernel(1);
        int[] killable = new int[2];
        boolean[] tries = new boolean[3];
        Process.spawn(k, "proc", self -> {
            MmStruct mm = MmStruct.of(self);
            Completion held = new Completion(k, "held");
            Completion done = new Completion(k, "done");
            var writer = Clone.cloneVm(k, "writer", t -> {
                mm.mmapWriteLock();
                held.complete();
                done.waitForCompletion();
                mm.mmapWriteUnlock();
            });
            held.waitForCompletion();
            tries[0] = mm.mmapReadTrylock();
            tries[1] = mm.mmapWriteTrylock();
            Signal.kill(self, Signal.SIGKILL);
            killable[0] = mm.mmapReadLockKillable();
            done.complete();
            writer.join();
            killable[1] = mm.mmapWriteLockKillable();
            if (killable[1] == 0) {
                mm.mmapWriteUnlock();
            }
            tries[2] = mm.mmapReadTrylock();
            if (tries[2]) {
                mm.mmapReadUnlock();
            }
        });
        k.run();
        assertFalse(tries[0] || tries[1], "both trylocks fail while the writer holds the lock");
        assertEquals(-Errno.EINTR, killable[0], "contended, with SIGKILL pending: -EINTR");
        assertEquals(0, killable[1], "uncontended: taken even with the signal pending");
        assertTrue(tries[2]);
    }
}
