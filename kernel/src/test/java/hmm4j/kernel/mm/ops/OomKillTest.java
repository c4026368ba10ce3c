package hmm4j.kernel.mm.ops;

import static hmm4j.kernel.mm.lifetime.Runs.assertClean;
import static hmm4j.kernel.mm.lifetime.Runs.checkedKernel;
import static hmm4j.kernel.mm.lifetime.Runs.describe;
import static hmm4j.kernel.mm.ops.MmHarness.PAGE;
import static hmm4j.kernel.mm.ops.MmHarness.RW;
import static hmm4j.kernel.mm.ops.MmHarness.mapAnon;
import static hmm4j.kernel.mm.ops.MmHarness.pattern;
import static hmm4j.kernel.mm.ops.MmHarness.pte;
import static hmm4j.kernel.mm.ops.MmHarness.write;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import hmm4j.kernel.KernelRules;
import hmm4j.kernel.mm.Fault;
import hmm4j.kernel.mm.MmState;
import hmm4j.kernel.mm.MmStruct;
import hmm4j.kernel.mm.Mmap;
import hmm4j.kernel.mm.OomKill;
import hmm4j.kernel.mm.Pte;
import hmm4j.kernel.mm.UserAccess;
import hmm4j.kernel.mm.notifier.MmuNotifier;
import hmm4j.kernel.sched.Process;
import hmm4j.sim.Kernel;
import hmm4j.sim.RunResult;
import hmm4j.sim.failure.Failure;
import java.util.List;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.Test;

/**
 * The OOM reaper (mm/oom_kill.c): an {@code mm_count} pin, {@code mmap_read_trylock}, one
 * non-blockable {@code MMU_NOTIFY_UNMAP} per private VMA with the mmap lock held for read and
 * no page-table lock, retries while a notifier refuses, {@code MMF_UNSTABLE} failing later
 * faults, and the hand-over with {@code exit_mmap} through {@code MMF_OOM_SKIP}.
 */
class OomKillTest {

    /** A process body with its kernel, mm and the recording notifier. */
    private interface Body {
        void run(Kernel k, MmStruct mm, CallbackContext ops) throws Exception;
    }

    private static RunResult runProcess(long seed, CallbackContext ops, Body body, AtomicBoolean finished) {
        Kernel k = checkedKernel(seed);
        Process.spawn(k, "victim", self -> {
            MmStruct mm = MmStruct.of(self);
            MmuNotifier sub = ops.register(mm);
            body.run(k, mm, ops);
            sub.unregister(mm);
            finished.set(true);
        });
        return k.run();
    }

    /** Marks the calling process a victim and reaps it from the kernel thread "oom_reaper"; waits for it. */
    private static boolean reapAndWait(Kernel k) {
        OomKill.OomVictim victim = OomKill.markOomVictim(k.current());
        AtomicBoolean reaped = new AtomicBoolean();
        k.spawnKthread("oom_reaper", t -> reaped.set(OomKill.oomReapTask(victim))).join();
        return reaped.get();
    }

    @Test
    void reap_unmapsEachPrivateVma_underANonBlockableUnmap_withTheMmapLockReadTrylocked() {
        CallbackContext ops = new CallbackContext();
        AtomicBoolean finished = new AtomicBoolean();
        RunResult r = runProcess(71, ops, (k, mm, o) -> {
            long a = mapAnon(mm, 2, RW);
            long b = mapAnon(mm, 1, Mmap.PROT_READ);
            long s = Mmap.mmap(mm, 0, PAGE, RW, Mmap.MAP_SHARED | Mmap.MAP_ANONYMOUS, null, 0);
            write(k, a, pattern((int) (2 * PAGE), 1));
            write(k, s, pattern(8, 2));
            int countBefore = mm.mmCountPeek();
            o.clear();

            assertTrue(reapAndWait(k));

            List<CallbackContext.Call> calls = o.calls();
            assertEquals(2, calls.size(), "one invalidation per private VMA, none for the shared one: " + calls);
            for (CallbackContext.Call c : calls) {
                assertEquals("MMU_NOTIFY_UNMAP", c.event());
                assertFalse(c.blockable(), "the reaper never blocks");
                assertEquals(null, c.owner());
                assertEquals("oom_reaper", c.task());
                assertTrue(c.held().contains("mm->mmap_lock [read] [trylock]"), c.held().toString());
                assertFalse(c.holds("mm->page_table_lock"), "callbacks run outside the page-table lock");
            }
            assertEquals(List.of(a, a + 2 * PAGE), calls.stream().map(c -> List.of(c.start(), c.end()))
                    .filter(l -> l.get(0) == a).findFirst().orElseThrow(), "the whole VMA");
            assertTrue(calls.stream().anyMatch(c -> c.start() == b && c.end() == b + PAGE));
            assertTrue(Pte.isNone(pte(mm, a)) && Pte.isNone(pte(mm, a + PAGE)), "private pages reaped");
            assertTrue(Pte.isPresent(pte(mm, s)), "shared memory is left to exit_mmap");
            assertTrue(mm.testBitPeek(MmStruct.MMF_UNSTABLE));
            assertTrue(mm.testBitPeek(MmStruct.MMF_OOM_SKIP));
            assertEquals(countBefore, mm.mmCountPeek(), "the oom_mm pin is dropped when the reaper is done");
        }, finished);
        assertClean(r);
        assertTrue(finished.get());
        assertTrue(r.hit(MmStruct.OOM_REAPER_ACCESS), "the reaper works without mm_users");
    }

    @Test
    void afterTheReap_privateFaultsFailWithSigbus_andSharedMemoryStillWorks() {
        AtomicBoolean finished = new AtomicBoolean();
        RunResult r = runProcess(72, new CallbackContext(), (k, mm, o) -> {
            long a = mapAnon(mm, 1, RW);
            long s = Mmap.mmap(mm, 0, PAGE, RW, Mmap.MAP_SHARED | Mmap.MAP_ANONYMOUS, null, 0);
            write(k, a, new byte[] {1});
            reapAndWait(k);
            assertNotEquals(0, UserAccess.copyToUser(k, a, new byte[] {2}), "the reaped page cannot come back");
            mm.mmapReadLock();
            try {
                assertEquals(Fault.VM_FAULT_SIGBUS, Fault.handleMmFault(mm, mm.vmaLookup(a), a, 0),
                        "a read fault is refused too (no zero page)");
            } finally {
                mm.mmapReadUnlock();
            }
            write(k, s, new byte[] {3});
        }, finished);
        assertClean(r);
        assertTrue(finished.get());
        assertTrue(r.hit(OomKill.UNSTABLE_REFUSED));
    }

    @Test
    void aNotifierThatRefusesOnce_makesTheReaperSkipTheVmaAndRetry_andTheSecondAttemptReaps() {
        AtomicInteger refusals = new AtomicInteger();
        CallbackContext ops = new CallbackContext(range -> refusals.getAndIncrement() == 0);
        AtomicBoolean finished = new AtomicBoolean();
        RunResult r = runProcess(73, ops, (k, mm, o) -> {
            long a = mapAnon(mm, 1, RW);
            long b = mapAnon(mm, 1, RW);
            write(k, a, new byte[] {1});
            write(k, b, new byte[] {1});
            o.clear();
            long before = k.runtime().nanoTime();
            assertTrue(reapAndWait(k));
            assertEquals(4, o.calls().size(), "two VMAs, two attempts: " + o.calls());
            assertEquals(OomKill.REAP_RETRY_NANOS, k.runtime().nanoTime() - before, "one schedule_timeout_idle(HZ/10)");
            assertTrue(Pte.isNone(pte(mm, a)) && Pte.isNone(pte(mm, b)));
        }, finished);
        assertClean(r);
        assertTrue(finished.get());
        assertTrue(r.hit(OomKill.VMA_EAGAIN));
    }

    @Test
    void aNotifierThatAlwaysRefuses_stallsTheReaper_whichGivesUpAfterTenAttempts() {
        CallbackContext ops = new CallbackContext(range -> true);
        AtomicReference<MmStruct> mmRef = new AtomicReference<>();
        AtomicReference<Long> addr = new AtomicReference<>();
        RunResult r = runProcess(74, ops, (k, mm, o) -> {
            mmRef.set(mm);
            long a = mapAnon(mm, 1, RW);
            addr.set(a);
            write(k, a, new byte[] {1});
            o.clear();
            reapAndWait(k);
        }, new AtomicBoolean());
        assertEquals(1, r.failures().size(), () -> describe(r));
        Failure.InvariantViolation v = (Failure.InvariantViolation) r.failures().get(0);
        assertEquals(KernelRules.OOM_REAPER_UNABLE_TO_REAP, v.rule());
        assertTrue(v.detail().startsWith("oom_reaper: unable to reap victim"), v.detail());
        assertEquals(OomKill.MAX_OOM_REAP_RETRIES, ops.calls().size(), "one refused start per attempt");
        assertTrue(Pte.isPresent(mmRef.get().ptePeek(addr.get())), "nothing was reaped");
    }

    @Test
    void aReaperThatFindsTheMmapLockTaken_triesAgainLater() {
        AtomicBoolean finished = new AtomicBoolean();
        RunResult r = runProcess(75, new CallbackContext(), (k, mm, o) -> {
            long a = mapAnon(mm, 1, RW);
            write(k, a, new byte[] {1});
            OomKill.OomVictim victim = OomKill.markOomVictim(k.current());
            mm.mmapWriteLock();
            var reaper = k.spawnKthread("oom_reaper", t -> OomKill.oomReapTask(victim));
            k.runtime().sleep(OomKill.REAP_RETRY_NANOS / 2);
            mm.mmapWriteUnlock();
            reaper.join();
            assertTrue(Pte.isNone(pte(mm, a)));
        }, finished);
        assertClean(r);
        assertTrue(finished.get());
        assertTrue(r.hit(OomKill.TRYLOCK_FAILED));
    }

    @Test
    void aReaperAfterExitMmap_findsMmfOomSkip_andItsPinIsTheLastReference() {
        Kernel k = checkedKernel(76);
        AtomicReference<MmStruct> mmRef = new AtomicReference<>();
        AtomicReference<OomKill.OomVictim> victim = new AtomicReference<>();
        var proc = Process.spawn(k, "victim", self -> {
            MmStruct mm = MmStruct.of(self);
            mmRef.set(mm);
            write(k, mapAnon(mm, 1, RW), new byte[] {1});
            victim.set(OomKill.markOomVictim(self));
        });
        k.spawnKthread("oom_reaper", t -> {
            proc.join();
            assertEquals(MmState.DEAD, mmRef.get().mmState(), "exit_mmap is done, the oom_mm pin keeps the struct");
            assertTrue(OomKill.oomReapTask(victim.get()), "nothing left to do is success");
        });
        RunResult r = k.run();
        assertClean(r);
        assertEquals(MmState.FREED, mmRef.get().mmState());
        assertTrue(r.hit(OomKill.FOUND_SKIP));
    }
}
