package hmm4j.kernel.mm.lifetime;

import static hmm4j.kernel.mm.lifetime.Runs.assertClean;
import static hmm4j.kernel.mm.lifetime.Runs.assertSingleFailure;
import static hmm4j.kernel.mm.lifetime.Runs.checkedKernel;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import hmm4j.check.lifetime.RefHandle;
import hmm4j.kernel.mm.Errno;
import hmm4j.kernel.mm.MmStruct;
import hmm4j.kernel.mm.Mmap;
import hmm4j.kernel.mm.UserAccess;
import hmm4j.kernel.mm.notifier.MmuNotifier;
import hmm4j.kernel.mm.notifier.MmuNotifierOps;
import hmm4j.kernel.sched.Kthread;
import hmm4j.kernel.sched.Process;
import hmm4j.sim.Kernel;
import hmm4j.sim.Task;
import hmm4j.sim.failure.Failure;
import hmm4j.sim.sync.Completion;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.Test;

/**
 * Reference holders are known by identity, not by name: the pin rule, the release fence,
 * transfers and puts follow the task or handle that holds the reference, so a second task
 * (or handle) that merely shares a holder's name gets none of its rights.
 */
class PinRuleIdentityTest {

    private static final long[] SEEDS = {1, 2, 3, 99, 2024};
    private static final byte[] PATTERN = {1, 2, 3, 4, 5, 6, 7, 8};

    /** Maps a page in {@code mm} holding {@link #PATTERN}; process context. */
    private static long mapPattern(Kernel k, MmStruct mm) {
        long addr = Mmap.mmapAnonymous(mm, 4096, Mmap.PROT_READ | Mmap.PROT_WRITE);
        assertFalse(Errno.isError(addr));
        assertEquals(0, UserAccess.copyToUser(k, addr, PATTERN));
        return addr;
    }

    /** One {@code kthread_use_mm} round copying {@link #PATTERN} back; kernel-thread context. */
    private static void copyOnce(Kernel k, MmStruct mm, long addr) {
        Kthread.kthreadUseMm(mm);
        byte[] buf = new byte[PATTERN.length];
        assertEquals(0, UserAccess.copyFromUser(k, buf, addr));
        assertArrayEquals(PATTERN, buf);
        Kthread.kthreadUnuseMm(mm);
    }

    /**
     * Two kernel threads both named "worker": the first holds {@code mm_users}
     * ({@code mmget_not_zero}) for the whole window; the second touches the address space
     * while the first is pinned. With {@code secondPins} the second takes its own reference.
     */
    private static void twoWorkers(Kernel k, boolean secondPins) {
        Process.spawn(k, "process", self -> {
            MmStruct mm = MmStruct.of(self);
            long addr = mapPattern(k, mm);
            Completion pinned = new Completion(k, "first pinned");
            Completion copied = new Completion(k, "second copied");
            Task first = k.spawnKthread("worker", w -> {
                assertTrue(mm.mmgetNotZero());
                pinned.complete();
                copied.waitForCompletion();
                mm.mmput();
            });
            Task second = k.spawnKthread("worker", w -> {
                pinned.waitForCompletion();
                boolean own = secondPins && mm.mmgetNotZero();
                copyOnce(k, mm, addr);
                if (own) {
                    mm.mmput();
                }
                copied.complete();
            });
            first.join();
            second.join();
        });
    }

    @Test
    void aSecondTaskNamedLikeAPinnedOne_isUnpinnedUse() {
        for (long seed : SEEDS) {
            Kernel k = checkedKernel(seed);
            twoWorkers(k, false);
            Failure.UnpinnedAddressSpaceUse f = assertSingleFailure(k.run(), Failure.UnpinnedAddressSpaceUse.class);
            assertEquals("copy_from_user", f.operation(), "seed " + seed);
            assertEquals("worker", f.site().task());
            assertEquals("process, worker", f.holders(), "the first worker's reference is listed by name");
        }
    }

    @Test
    void aSecondTaskNamedLikeAPinnedOne_withItsOwnMmget_isClean() {
        for (long seed : SEEDS) {
            Kernel k = checkedKernel(seed);
            twoWorkers(k, true);
            assertClean(k.run());
        }
    }

    /** The process takes an mm_users reference and hands it to a worker at spawn, as clone does. */
    private static Task spawnWorkerWithTransferredRef(Kernel k, MmStruct mm, long addr, boolean put) {
        mm.mmget();
        return k.spawnKthread("worker", w -> {
            copyOnce(k, mm, addr);
            if (put) {
                mm.mmput();
            }
        }, w -> mm.transferUsersRef(w));
    }

    @Test
    void transferUsersRef_toATask_pinsThatTask_andItsMmputBalances() {
        for (long seed : SEEDS) {
            Kernel k = checkedKernel(seed);
            AtomicReference<MmStruct> ref = new AtomicReference<>();
            Process.spawn(k, "process", self -> {
                MmStruct mm = MmStruct.of(self);
                ref.set(mm);
                long addr = mapPattern(k, mm);
                Task worker = spawnWorkerWithTransferredRef(k, mm, addr, true);
                assertTrue(mm.usersLedger().holds(worker));
                assertEquals(2, mm.mmUsersPeek());
            });
            assertClean(k.run());
            assertTrue(ref.get().isFreed(), "seed " + seed + ": both references were put");
        }
    }

    @Test
    void transferUsersRef_notPutByTheReceiver_isALeakNamingTheReceiver_atTheSenderGetSite() {
        Kernel k = checkedKernel(7);
        Process.spawn(k, "process", self -> {
            MmStruct mm = MmStruct.of(self);
            spawnWorkerWithTransferredRef(k, mm, mapPattern(k, mm), false);
        });
        Failure.RefcountError e = assertSingleFailure(k.run(), Failure.RefcountError.class);
        assertEquals(Failure.RefcountProblem.LEAK, e.problem());
        assertEquals("mm#1 mm_users", e.object());
        assertTrue(e.detail().startsWith("1 reference(s) never put: worker (get at process @ step "), e.detail());
    }

    @Test
    void transferUsersRef_fromAContextHoldingNoReference_isAPutWithoutGet() {
        Kernel k = checkedKernel(8);
        AtomicReference<MmStruct> ref = new AtomicReference<>();
        Completion ready = new Completion(k, "mm ready");
        Completion done = new Completion(k, "transfer done");
        Process.spawn(k, "process", self -> {
            ref.set(MmStruct.of(self));
            ready.complete();
            done.waitForCompletion();
        });
        k.spawnKthread("stranger", self -> {
            ready.waitForCompletion();
            ref.get().transferUsersRef(new RefHandle("receiver"));
            done.complete();
        });
        Failure.RefcountError e = assertSingleFailure(k.run(), Failure.RefcountError.class);
        assertEquals(Failure.RefcountProblem.PUT_WITHOUT_GET, e.problem());
        assertTrue(e.detail().startsWith("transfer from stranger to receiver at stranger @ step "), e.detail());
        assertTrue(e.detail().contains("but stranger holds no reference; outstanding: process (get at "), e.detail());
    }

    @Test
    void mmdropAs_withAnotherHandleOfTheSameName_isAPutWithoutGetOnMmCount() {
        Kernel k = checkedKernel(9);
        RefHandle device = new RefHandle("device");
        Process.spawn(k, "process", self -> {
            MmStruct mm = MmStruct.of(self);
            mm.mmgrabAs(device);
            mm.mmdropAs(new RefHandle("device"));
        });
        Failure.RefcountError e = assertSingleFailure(k.run(), Failure.RefcountError.class);
        assertEquals(Failure.RefcountProblem.PUT_WITHOUT_GET, e.problem());
        assertEquals("mm#1 mm_count", e.object());
        assertTrue(e.detail().startsWith("put by device at process @ step "), e.detail());
        assertTrue(e.detail().contains("outstanding: mm_users (get at "), e.detail());
        assertTrue(e.detail().contains(", device (get at process @ step "), e.detail());
    }

    @Test
    void aForkedChildNamedLikeItsParent_holdsItsOwnMmReference() {
        for (long seed : SEEDS) {
            Kernel k = checkedKernel(seed);
            AtomicReference<MmStruct> childMm = new AtomicReference<>();
            Process.spawn(k, "process", self -> {
                MmStruct mm = MmStruct.of(self);
                long addr = mapPattern(k, mm);
                Task child = Process.fork(self, "process", c -> {
                    MmStruct own = MmStruct.of(c);
                    childMm.set(own);
                    assertTrue(own.usersLedger().holds(c));
                    assertFalse(own.usersLedger().holds(self));
                    byte[] buf = new byte[PATTERN.length];
                    assertEquals(0, UserAccess.copyFromUser(k, buf, addr));
                    assertArrayEquals(PATTERN, buf);
                });
                assertTrue(mm.usersLedger().holds(self));
                assertFalse(mm.usersLedger().holds(child));
                child.join();
            });
            assertClean(k.run());
            assertTrue(childMm.get().isFreed(), "seed " + seed + ": the child's exit_mm put its reference");
        }
    }

    @Test
    void aReleaseFence_coversTheDeclaredTaskOnly_notANamesake() {
        for (boolean namesakeToo : new boolean[] {false, true}) {
            Kernel k = checkedKernel(namesakeToo ? 11 : 12);
            Process.spawn(k, "process", self -> {
                MmStruct mm = MmStruct.of(self);
                long addr = mapPattern(k, mm);
                MmuNotifier fence = new MmuNotifier("fence", new MmuNotifierOps() { });
                assertEquals(0, fence.register(mm));
                k.spawnKthread("worker", w -> copyOnce(k, mm, addr), w -> mm.declareReleaseFence(w, fence)).join();
                if (namesakeToo) {
                    k.spawnKthread("worker", w -> copyOnce(k, mm, addr)).join();
                }
                fence.unregister(mm);
            });
            if (namesakeToo) {
                Failure.UnpinnedAddressSpaceUse f = assertSingleFailure(k.run(), Failure.UnpinnedAddressSpaceUse.class);
                assertEquals("worker", f.site().task());
                assertEquals("process", f.holders());
            } else {
                assertClean(k.run());
            }
        }
    }
}
