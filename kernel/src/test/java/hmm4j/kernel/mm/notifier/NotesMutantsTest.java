package hmm4j.kernel.mm.notifier;

import static hmm4j.kernel.mm.lifetime.Runs.assertClean;
import static hmm4j.kernel.mm.lifetime.Runs.assertSingleFailure;
import static hmm4j.kernel.mm.lifetime.Runs.checkedKernel;
import static hmm4j.kernel.mm.notifier.ItreeHarness.PAGE;
import static hmm4j.kernel.mm.notifier.ItreeHarness.runProcess;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import hmm4j.kernel.KernelRules;
import hmm4j.kernel.mm.ErrPtr;
import hmm4j.kernel.mm.Errno;
import hmm4j.kernel.mm.MmStruct;
import hmm4j.kernel.mm.Mmap;
import hmm4j.kernel.mm.PhysMem;
import hmm4j.kernel.mm.Pte;
import hmm4j.kernel.mm.UserAccess;
import hmm4j.kernel.mm.devmap.DeviceMap;
import hmm4j.kernel.sched.Process;
import hmm4j.kernel.sched.Signal;
import hmm4j.sim.Kernel;
import hmm4j.sim.RunResult;
import hmm4j.sim.TraceEvent;
import hmm4j.sim.failure.Failure;
import hmm4j.sim.sync.SpinLock;
import java.util.List;
import java.util.Set;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;

/**
 * What mutation testing left unchecked at the edges of the notifier API: the notes each entry
 * point leaves on the trace (the timeline pictures label the calls with them), the
 * {@code might_sleep} of a blockable start, the device-map checker's view of a non-blocking
 * start, {@code srcu_barrier} from a callback, and {@code mm_take_all_locks} on an mm with
 * no VMAs while a signal is pending.
 */
class NotesMutantsTest {

    private static final MmuNotifierOps ANY = new MmuNotifierOps() { };

    /** Every note of the run's trace, in trace order, among {@code of}. */
    private static List<String> notes(RunResult r, Set<String> of) {
        return r.trace().stream().map(TraceEvent::notes).flatMap(List::stream).filter(of::contains).toList();
    }

    @Test
    void eachEntryPoint_notesItsCall_onTheTrace() {
        MmuNotifierEvent clear = MmuNotifierEvent.MMU_NOTIFY_CLEAR;
        RunResult run = runProcess(1, (k, mm, base) -> {
            MmuNotifier a = new MmuNotifier("a", ANY);
            assertEquals(0, a.register(mm));
            a.unregister(mm);
            MmuNotifier b = new MmuNotifier("b", ANY);
            assertEquals(0, b.register(mm));
            b.unregisterNoRelease(mm);
            MmuNotifier.mmuNotifierSynchronize(k);
            MmuIntervalNotifier i = new MmuIntervalNotifier("i");
            assertEquals(0, i.mmuIntervalNotifierInsert(mm, base, PAGE, (s, r, seq) -> {
                s.mmuIntervalSetSeq(seq);
                return true;
            }));
            MmuNotifierRange blocking = new MmuNotifierRange(clear, 0, mm, base, base + PAGE);
            mm.mmapReadLock();
            blocking.invalidateRangeStart();
            blocking.invalidateRangeEnd();
            MmuNotifierRange nonblock = new MmuNotifierRange(clear, 0, mm, base, base + PAGE);
            assertEquals(0, nonblock.invalidateRangeStartNonblock());
            nonblock.invalidateRangeEnd();
            mm.mmapReadUnlock();
            i.mmuIntervalNotifierRemove();
            ErrPtr<MmuNotifier> got = MmuNotifier.mmuNotifierGet(new ClassicMutantsTest.GetPut(), mm);
            assertTrue(!got.isErr());
            got.get().mmuNotifierPut();
        });
        assertClean(run);
        String start = clear.startNote();
        String end = clear.endNote();
        List<String> expected = List.of("mmu_notifier_register", "mmu_notifier_unregister",
                "mmu_notifier_register", "mmu_notifier_unregister_no_release",
                "mmu_interval_notifier_insert", start, end, start, "non-blockable section", end,
                "mmu_interval_notifier_remove", "mmu_notifier_get", "mmu_notifier_register", "mmu_notifier_put");
        assertEquals(expected, notes(run, Set.copyOf(expected)),
                "interval mode is enabled without a register note; each call is noted once");
    }

    @Test
    void aBlockableStart_mightSleep_evenWithNoSubscription() {
        RunResult run = runProcess(1, (k, mm, base) -> {
            SpinLock lock = new SpinLock(k, "driver->lock");
            MmuNotifierRange r = new MmuNotifierRange(MmuNotifierEvent.MMU_NOTIFY_CLEAR, 0, mm, base, base + PAGE);
            lock.lock();
            r.invalidateRangeStart();
            r.invalidateRangeEnd();
            lock.unlock();
        });
        Failure.SleepInAtomic f = assertSingleFailure(run, Failure.SleepInAtomic.class);
        assertEquals("mmu_notifier_invalidate_range_start", f.operation());
    }

    @Test
    void aNonblockingStart_isFollowedByTheDeviceMapChecker_soAStaleEntryIsFoundAtItsEnd() {
        Kernel k = checkedKernel(1);
        AtomicLong start = new AtomicLong();
        Process.spawn(k, "proc", self -> {
            MmStruct mm = MmStruct.of(self);
            long base = Mmap.mmapAnonymous(mm, 4 * PAGE, Mmap.PROT_READ | Mmap.PROT_WRITE);
            start.set(base);
            assertEquals(0, UserAccess.copyToUser(k, base, new byte[(int) PAGE]));
            DeviceMap map = DeviceMap.create(mm, "dev->pt", new Object());
            map.map(base, PhysMem.of(k).pfnToPage(Pte.pfn(mm.ptePeek(base))), true);
            MmuNotifierRange r = new MmuNotifierRange(MmuNotifierEvent.MMU_NOTIFY_CLEAR, 0, mm, base, base + PAGE);
            mm.mmapReadLock();
            assertEquals(0, r.invalidateRangeStartNonblock());
            r.invalidateRangeEnd(); // the entry was not cleared by any callback
            mm.mmapReadUnlock();
        });
        RunResult run = k.run();
        Failure f = run.firstFailure().orElseThrow();
        assertTrue(f instanceof Failure.InvariantViolation v && v.rule() == KernelRules.DEVMAP_NO_ENTRY_SURVIVES,
                run.failures()::toString);
        // found at the end of the non-blocking CLEAR range itself, not later by the exit's unmap
        String range = "survived the invalidation MMU_NOTIFY_CLEAR [" + Long.toHexString(start.get()) + ", "
                + Long.toHexString(start.get() + PAGE) + ")";
        assertTrue(((Failure.InvariantViolation) f).detail().contains(range), f::toString);
    }

    @Test
    void srcuBarrier_fromInsideACallback_isReported() {
        RunResult run = runProcess(1, (k, mm, base) -> {
            MmuNotifier sub = new MmuNotifier("sub", new MmuNotifierOps() {
                @Override
                public void invalidateRangeEnd(MmuNotifier s, MmuNotifierRange r) {
                    MmuNotifier.mmuNotifierSrcuBarrier(k);
                }
            });
            sub.register(mm);
            Mmap.munmap(mm, base, PAGE);
            sub.unregister(mm);
        });
        Failure.InvariantViolation v = assertSingleFailure(run, Failure.InvariantViolation.class);
        assertEquals(KernelRules.NOT_FROM_CALLBACK, v.rule());
        assertTrue(v.detail().contains("srcu_barrier"), v.detail());
    }

    @Test
    void aPendingSignal_doesNotInterruptRegistration_onAnMmWithoutVmas_andIsMarkedWhereItDoes() {
        AtomicInteger vmas = new AtomicInteger(-1);
        AtomicInteger ret = new AtomicInteger(1);
        Kernel k = checkedKernel(1);
        Process.spawn(k, "proc", self -> {
            MmStruct mm = MmStruct.of(self);
            mm.mmapReadLock();
            vmas.set(mm.vmas("test").count());
            mm.mmapReadUnlock();
            assertEquals(0, Signal.kill(self, Signal.SIGKILL));
            MmuNotifier sub = new MmuNotifier("sub", ANY);
            ret.set(sub.register(mm));
            sub.unregister(mm);
        });
        RunResult run = k.run();
        assertClean(run);
        assertEquals(0, vmas.get(), "a fresh process maps nothing");
        assertEquals(0, ret.get(), "no VMA to walk, so no signal check");
        assertTrue(!run.hit(MmuNotifierSubscriptions.TAKE_ALL_LOCKS_EINTR));
        RunResult interrupted = runProcess(1, (kk, mm, base) -> {
            assertEquals(0, Signal.kill(kk.current(), Signal.SIGKILL));
            assertEquals(-Errno.EINTR, new MmuNotifier("sub", ANY).register(mm));
        });
        assertClean(interrupted);
        assertTrue(interrupted.hit(MmuNotifierSubscriptions.TAKE_ALL_LOCKS_EINTR), interrupted.marks()::toString);
    }
}
