package hmm4j.kernel.mm.lifetime;

import static hmm4j.kernel.mm.lifetime.Runs.assertClean;
import static hmm4j.kernel.mm.lifetime.Runs.checkedKernel;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import hmm4j.kernel.mm.Errno;
import hmm4j.kernel.mm.MmState;
import hmm4j.kernel.mm.MmStruct;
import hmm4j.kernel.mm.Mmap;
import hmm4j.kernel.mm.PhysMem;
import hmm4j.kernel.mm.Pte;
import hmm4j.kernel.mm.UserAccess;
import hmm4j.kernel.mm.notifier.MmuNotifier;
import hmm4j.kernel.sched.Process;
import hmm4j.sim.Kernel;
import hmm4j.sim.Op;
import hmm4j.sim.Task;
import hmm4j.sim.sync.Completion;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.Test;

/**
 * {@code exit_mmap} with a classic notifier (kernel-spec §1.4 step 1, §2.8, §2.9):
 * {@code ->release} runs exactly once, first, while every page is still mapped; the classic
 * list is empty afterwards, so the [0, ULONG_MAX) UNMAP invalidation that follows does not
 * reach the released subscription; {@code mmu_notifier_unregister} after exit does not call
 * release again and drops the subscription's {@code mm_count}.
 */
class ExitMmapNotifierOrderTest {

    private static final long[] SEEDS = {1, 5, 17, 300};

    /** What {@code ->release} saw, as one line. */
    private static String observeInRelease(MmStruct mm, PhysMem phys, long addr) {
        mm.pageTableLock().lock();
        long pte;
        try {
            pte = mm.pgd("release-observer").get(addr);
        } finally {
            mm.pageTableLock().unlock();
        }
        return mm.mmState() + "/" + mm.exitPhase() + "/users=" + mm.mmUsersPeek() + "/present=" + Pte.isPresent(pte)
                + "/zero=" + Pte.isZero(pte) + "/used=" + phys.usedPages();
    }

    @Test
    void exit_callsReleaseOnceFirstWhilePagesAreMapped_unregisterAfterExitDropsTheCount() {
        for (long seed : SEEDS) {
            Kernel k = checkedKernel(seed);
            PhysMem phys = PhysMem.of(k);
            AtomicLong addrRef = new AtomicLong();
            AtomicLong usedMapped = new AtomicLong();
            AtomicLong usedBefore = new AtomicLong();
            AtomicReference<MmStruct> mmRef = new AtomicReference<>();
            List<String> inRelease = new ArrayList<>();
            List<String> afterUnregister = new ArrayList<>();
            RecordingNotifierOps ops = new RecordingNotifierOps(
                    mm -> inRelease.add(observeInRelease(mm, phys, addrRef.get())));
            MmuNotifier sub = new MmuNotifier("recorder", ops);

            Task proc = Process.spawn(k, "proc", self -> {
                MmStruct mm = MmStruct.of(self);
                mmRef.set(mm);
                usedBefore.set(phys.usedPages());
                long addr = Mmap.mmapAnonymous(mm, 2 * Pte.PAGE_SIZE, Mmap.PROT_READ | Mmap.PROT_WRITE);
                assertFalse(Errno.isError(addr));
                addrRef.set(addr);
                assertEquals(0, UserAccess.copyToUser(k, addr, new byte[] {1, 2, 3}));
                usedMapped.set(phys.usedPages());
                assertEquals(0, sub.register(mm));
                assertTrue(mm.hasNotifiers());
                assertEquals(2, mm.mmCountPeek(), "the subscription pins mm_count");
            });
            k.spawnKthread("driver", self -> {
                proc.join();
                MmStruct mm = mmRef.get();
                afterUnregister.add("before:" + mm.mmState() + "/count=" + mm.mmCountPeek() + "/linked="
                        + sub.isLinked() + "/released=" + sub.releaseReturned());
                sub.unregister(mm);
                afterUnregister.add("after:" + mm.mmState());
            });
            assertClean(k.run());

            String s = "seed " + seed;
            assertEquals(List.of("release"), ops.events(),
                    s + ": release exactly once, and the classic list is empty for the exit UNMAP and for unregister");
            assertEquals(usedBefore.get() + 1, usedMapped.get(), s);
            assertEquals(List.of("EXITING/RELEASING_NOTIFIERS/users=0/present=true/zero=false/used=" + usedMapped.get()),
                    inRelease, s + ": release runs before anything is unmapped");
            assertEquals(List.of("before:DEAD/count=1/linked=false/released=true", "after:FREED"), afterUnregister, s);
            assertEquals(usedBefore.get(), phys.usedPages(), s + ": exit_mmap freed the page");
        }
    }

    @Test
    void unregisterBeforeExit_callsReleaseOnce_andExitDoesNotCallItAgain() {
        for (long seed : SEEDS) {
            Kernel k = checkedKernel(seed);
            List<String> phases = new ArrayList<>();
            RecordingNotifierOps ops = new RecordingNotifierOps(mm -> phases.add(mm.mmState() + "/" + mm.exitPhase()));
            MmuNotifier sub = new MmuNotifier("recorder", ops);
            AtomicReference<MmStruct> mmRef = new AtomicReference<>();
            List<Integer> counts = new ArrayList<>();
            Process.spawn(k, "proc", self -> {
                MmStruct mm = MmStruct.of(self);
                mmRef.set(mm);
                sub.register(mm);
                counts.add(mm.mmCountPeek());
                sub.unregister(mm);
                counts.add(mm.mmCountPeek());
                assertFalse(sub.isLinked());
                assertTrue(mm.notifierSubscriptions().subscriptions().isEmpty());
            });
            assertClean(k.run());
            assertEquals(List.of("release"), ops.events(), "seed " + seed);
            assertEquals(List.of("LIVE/NONE"), phases, "seed " + seed + ": release from unregister, not from exit");
            assertEquals(List.of(2, 1), counts);
            assertEquals(MmState.FREED, mmRef.get().mmState());
        }
    }

    @Test
    void exitWithTwoSubscriptions_releasesBothBeforeUnmapping_inListOrder() {
        Kernel k = checkedKernel(8);
        PhysMem phys = PhysMem.of(k);
        List<String> log = new ArrayList<>();
        AtomicLong mapped = new AtomicLong();
        MmuNotifier first = new MmuNotifier("first", new RecordingNotifierOps(
                mm -> log.add("first " + mm.exitPhase() + " used=" + phys.usedPages())));
        MmuNotifier second = new MmuNotifier("second", new RecordingNotifierOps(
                mm -> log.add("second " + mm.exitPhase() + " used=" + phys.usedPages())));
        AtomicReference<MmStruct> mmRef = new AtomicReference<>();
        Task proc = Process.spawn(k, "proc", self -> {
            MmStruct mm = MmStruct.of(self);
            mmRef.set(mm);
            long addr = Mmap.mmapAnonymous(mm, Pte.PAGE_SIZE, Mmap.PROT_READ | Mmap.PROT_WRITE);
            assertEquals(0, UserAccess.copyToUser(k, addr, new byte[] {9}));
            mapped.set(phys.usedPages());
            first.register(mm);
            second.register(mm);
        });
        k.spawnKthread("driver", self -> {
            proc.join();
            first.unregister(mmRef.get());
            assertEquals(MmState.DEAD, mmRef.get().mmState(), "second still pins the struct");
            second.unregister(mmRef.get());
        });
        assertClean(k.run());
        assertEquals(List.of("second RELEASING_NOTIFIERS used=" + mapped.get(),
                "first RELEASING_NOTIFIERS used=" + mapped.get()), log, "most recent registration first");
        assertEquals(MmState.FREED, mmRef.get().mmState());
    }

    /**
     * The final grace period of {@code mmu_notifier_release}: a driver thread unregistering
     * while the process exits runs {@code ->release} itself; exit also calls it (the
     * subscription is still listed), but must not unmap anything before the driver's
     * {@code ->release} has returned. The driver's release waits until exit's release has
     * run, then works a while (scheduling points) and looks at the exit phase and the page.
     */
    @Test
    void unregisterRacingExit_exitUnmapsOnlyAfterTheReleaseRunByUnregisterReturned() {
        for (long seed = 1; seed <= 12; seed++) {
            Kernel k = checkedKernel(seed);
            Completion registered = new Completion(k, "registered");
            Completion inRelease = new Completion(k, "driver in release");
            Completion exitReleased = new Completion(k, "exit called release");
            AtomicLong addrRef = new AtomicLong();
            AtomicReference<MmStruct> mmRef = new AtomicReference<>();
            List<String> seenByDriver = new CopyOnWriteArrayList<>();
            Op work = new Op(new Op.Kind("driver work", Op.Access.READ), k.newTarget("driver->work"), "driver work");
            RecordingNotifierOps ops = new RecordingNotifierOps(mm -> {
                if (!"driver".equals(k.current().name())) {
                    exitReleased.complete();
                    return;
                }
                inRelease.complete();
                exitReleased.waitForCompletion();
                for (int i = 0; i < 16; i++) {
                    k.point(work);
                }
                seenByDriver.add(mm.exitPhase() + "/present=" + Pte.isPresent(mm.ptePeek(addrRef.get())));
            });
            MmuNotifier sub = new MmuNotifier("driver->notifier", ops);
            Process.spawn(k, "proc", self -> {
                MmStruct mm = MmStruct.of(self);
                mmRef.set(mm);
                long addr = Mmap.mmapAnonymous(mm, Pte.PAGE_SIZE, Mmap.PROT_READ | Mmap.PROT_WRITE);
                assertFalse(Errno.isError(addr));
                addrRef.set(addr);
                assertEquals(0, UserAccess.copyToUser(k, addr, new byte[] {1}));
                assertEquals(0, sub.register(mm));
                registered.complete();
                inRelease.waitForCompletion();
            });
            k.spawnKthread("driver", self -> {
                registered.waitForCompletion();
                sub.unregister(mmRef.get());
            });
            assertClean(k.run());
            String s = "seed " + seed;
            assertEquals(List.of("release", "release"), ops.events(), s + ": unregister's and exit's");
            assertEquals(List.of("RELEASING_NOTIFIERS/present=true"), seenByDriver,
                    s + ": exit waits in mmu_notifier_release for the release unregister is running");
            assertEquals(MmState.FREED, mmRef.get().mmState(), s);
        }
    }
}
