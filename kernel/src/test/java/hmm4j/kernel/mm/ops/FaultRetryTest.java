package hmm4j.kernel.mm.ops;

import static hmm4j.kernel.mm.lifetime.Runs.assertClean;
import static hmm4j.kernel.mm.lifetime.Runs.checkedKernel;
import static hmm4j.kernel.mm.ops.MmHarness.PAGE;
import static hmm4j.kernel.mm.ops.MmHarness.RW;
import static hmm4j.kernel.mm.ops.MmHarness.mapAnon;
import static hmm4j.kernel.mm.ops.MmHarness.read;
import static hmm4j.kernel.mm.ops.MmHarness.write;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import hmm4j.kernel.mm.Fault;
import hmm4j.kernel.mm.MmStruct;
import hmm4j.kernel.mm.Mmap;
import hmm4j.kernel.mm.Mprotect;
import hmm4j.kernel.mm.VmaLock;
import hmm4j.kernel.mm.notifier.MmuNotifier;
import hmm4j.kernel.mm.notifier.MmuNotifierOps;
import hmm4j.kernel.mm.notifier.MmuNotifierRange;
import hmm4j.kernel.sched.Clone;
import hmm4j.kernel.sched.Process;
import hmm4j.sim.Kernel;
import hmm4j.sim.RunResult;
import hmm4j.sim.sync.Completion;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicBoolean;
import org.junit.jupiter.api.Test;

/**
 * CPU faults under per-VMA locks ({@code lock_vma_under_rcu}): the fault's callbacks run with
 * {@code vma->vm_lock} held for read and no {@code mmap_lock}; {@code mmap_write_lock} waits for
 * such a fault ({@code vma_start_write}) and, while it is held, faults fall back to
 * {@code mmap_lock}; {@code hmm_range_fault}-style callers (no {@code FAULT_FLAG_ALLOW_RETRY})
 * keep their lock.
 */
class FaultRetryTest {

    /** Records each start with the held locks; the first CLEAR start waits for {@code release}. */
    private static final class BlockingRecorder implements MmuNotifierOps {
        final List<String> log = new CopyOnWriteArrayList<>();
        final Completion inFault;
        final Completion release;
        volatile List<String> heldAtClear;

        BlockingRecorder(Kernel k) {
            inFault = new Completion(k, "in-fault");
            release = new Completion(k, "release");
        }

        @Override
        public int invalidateRangeStart(MmuNotifier s, MmuNotifierRange range) {
            Kernel k = range.mm().kernel();
            log.add("start " + range.event());
            if (range.event().name().equals("MMU_NOTIFY_CLEAR") && heldAtClear == null) {
                heldAtClear = CallbackContext.heldNow(k);
                inFault.completeAll();
                release.waitForCompletion();
            }
            return 0;
        }

        @Override
        public void invalidateRangeEnd(MmuNotifier s, MmuNotifierRange range) {
            log.add("end " + range.event());
        }
    }

    @Test
    void aCowFault_runsUnderItsVmaLock_andMmapWriteLockWaitsForIt() {
        Kernel k = checkedKernel(91);
        BlockingRecorder rec = new BlockingRecorder(k);
        AtomicBoolean finished = new AtomicBoolean();
        Process.spawn(k, "proc", self -> {
            MmStruct mm = MmStruct.of(self);
            MmuNotifier sub = new MmuNotifier("blocking", rec);
            sub.register(mm);
            long a = mapAnon(mm, 1, RW);
            read(k, a, 1);
            var writer = Clone.cloneVm(k, "writer", t -> {
                rec.inFault.waitForCompletion();
                Mprotect.mprotect(mm, a, PAGE, Mmap.PROT_READ | Mmap.PROT_WRITE | Mmap.PROT_EXEC);
                rec.log.add("mprotect done");
            });
            var releaser = Clone.cloneVm(k, "releaser", t -> {
                rec.inFault.waitForCompletion();
                rec.release.complete();
            });
            write(k, a, new byte[] {1});
            writer.join();
            releaser.join();
            assertEquals(List.of("start MMU_NOTIFY_CLEAR", "end MMU_NOTIFY_CLEAR", "start MMU_NOTIFY_PROTECTION_VMA",
                    "end MMU_NOTIFY_PROTECTION_VMA", "mprotect done"), rec.log,
                    "mprotect's write lock waited for the fault holding the VMA lock");
            assertTrue(rec.heldAtClear.contains("vma->vm_lock [read] [trylock]"), rec.heldAtClear.toString());
            assertFalse(rec.heldAtClear.stream().anyMatch(h -> h.startsWith("mm->mmap_lock")), rec.heldAtClear.toString());
            sub.unregister(mm);
            finished.set(true);
        });
        RunResult r = k.run();
        assertClean(r);
        assertTrue(finished.get());
        assertTrue(r.hit(VmaLock.FAULT_UNDER_VMA_LOCK));
        assertTrue(r.hit(VmaLock.WRITER_WAITED));
    }

    @Test
    void whileMmapLockIsHeldForWrite_aFaultFallsBackToMmapLock() {
        Kernel k = checkedKernel(92);
        AtomicBoolean finished = new AtomicBoolean();
        Process.spawn(k, "proc", self -> {
            MmStruct mm = MmStruct.of(self);
            long a = mapAnon(mm, 2, RW);
            write(k, a, new byte[] {1});
            List<String> order = new CopyOnWriteArrayList<>();
            mm.mmapWriteLock();
            var cpu = Clone.cloneVm(k, "cpu", t -> {
                write(k, a + PAGE, new byte[] {2});
                order.add("write done");
            });
            k.runtime().sleep(1_000_000);
            order.add("writer unlocks");
            mm.mmapWriteUnlock();
            cpu.join();
            assertEquals(List.of("writer unlocks", "write done"), order);
            finished.set(true);
        });
        RunResult r = k.run();
        assertClean(r);
        assertTrue(finished.get());
        assertTrue(r.hit(VmaLock.VMA_LOCK_MISS));
    }

    @Test
    void aFaultWithoutAllowRetry_keepsItsMmapLock_andFaultsInPlace() {
        Kernel k = checkedKernel(93);
        Process.spawn(k, "proc", self -> {
            MmStruct mm = MmStruct.of(self);
            long a = mapAnon(mm, 1, RW);
            mm.mmapReadLock();
            try {
                assertEquals(0, Fault.handleMmFault(mm, mm.vmaLookup(a), a, Fault.FAULT_FLAG_WRITE));
                assertTrue(mm.mmapLock().heldByCurrent(), "no VM_FAULT_RETRY without FAULT_FLAG_ALLOW_RETRY");
            } finally {
                mm.mmapReadUnlock();
            }
            assertEquals(0, read(k, a, 1)[0]);
        });
        assertClean(k.run());
    }
}
