package hmm4j.kernel.mm.lifetime;

import static hmm4j.kernel.mm.lifetime.Runs.assertClean;
import static hmm4j.kernel.mm.lifetime.Runs.assertSingleFailure;
import static hmm4j.kernel.mm.lifetime.Runs.checkedKernel;
import static hmm4j.kernel.mm.lifetime.Runs.describe;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertTrue;

import hmm4j.check.lifetime.KObject;
import hmm4j.check.lifetime.RefHandle;
import hmm4j.kernel.mm.Errno;
import hmm4j.kernel.mm.Exit;
import hmm4j.kernel.mm.ExitPhase;
import hmm4j.kernel.mm.MmState;
import hmm4j.kernel.mm.MmStruct;
import hmm4j.kernel.mm.Mmap;
import hmm4j.kernel.mm.PhysMem;
import hmm4j.kernel.mm.Pte;
import hmm4j.kernel.mm.UserAccess;
import hmm4j.kernel.sched.Process;
import hmm4j.sim.Kernel;
import hmm4j.sim.RunResult;
import hmm4j.sim.Task;
import hmm4j.sim.failure.Failure;
import hmm4j.sim.sync.Completion;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * The two counters of {@code mm_struct} and the LIVE → DEAD → FREED lifecycle (kernel-spec
 * §1.1–1.5, §1.8), and the reports for their misuse: get on zero, put without get, leak,
 * use after free.
 */
class MmStructLifetimeTest {

    private static final long[] SEEDS = {1, 7, 42, 1234};

    /** Makes {@code mm}, allocated in set-up code, task {@code t}'s own: {@code tsk->mm} and its reference. */
    private static void adopt(Task t, MmStruct mm) {
        t.set(MmStruct.TASK_MM, mm);
        mm.transferUsersRef(t);
    }

    @Test
    void mmAlloc_startsLiveWithOneUserAndOneCount() {
        Kernel k = checkedKernel(1);
        AtomicReference<MmStruct> ref = new AtomicReference<>();
        k.spawnUser("p", self -> {
            MmStruct mm = MmStruct.mmAlloc(k, self);
            ref.set(mm);
            assertEquals(1, mm.mmUsersPeek());
            assertEquals(1, mm.mmCountPeek());
            assertEquals(MmState.LIVE, mm.mmState());
            assertEquals(ExitPhase.NONE, mm.exitPhase());
            assertFalse(mm.hasNotifiers());
            assertTrue(mm.usersLedger().holds(self), "the owner holds the initial mm_users reference");
            assertEquals(List.of("mm_users"), mm.countLedger().holderNames(), "mm_count holds one reference for all users");
            mm.mmput();
        });
        assertClean(k.run());
        assertEquals(MmState.FREED, ref.get().mmState(), "the owner's mmput was the last of both counters");
    }

    @Test
    void mmgetMmput_balanceAndTheLastPutTearsDownThenTheLastDropFrees() {
        for (long seed : SEEDS) {
            Kernel k = checkedKernel(seed);
            List<String> trail = new ArrayList<>();
            AtomicReference<MmStruct> ref = new AtomicReference<>();
            k.spawnUser("p", self -> {
                MmStruct mm = MmStruct.mmAlloc(k, self);
                ref.set(mm);
                mm.mmget();
                mm.mmget();
                assertEquals(3, mm.mmUsersPeek());
                assertEquals(1, mm.mmCountPeek(), "mmget does not touch mm_count");
                mm.mmput();
                mm.mmput();
                assertEquals(1, mm.mmUsersPeek());
                assertEquals(MmState.LIVE, mm.mmState());
                assertTrue(mm.mmgetNotZero(), "mmget_not_zero succeeds while LIVE");
                assertEquals(2, mm.mmUsersPeek());
                mm.mmput();

                mm.mmgrab();
                assertEquals(2, mm.mmCountPeek());
                assertEquals(1, mm.mmUsersPeek(), "mmgrab does not touch mm_users");
                mm.mmput();
                trail.add(mm.mmState() + "/" + mm.exitPhase() + "/" + mm.mmUsersPeek() + "/" + mm.mmCountPeek());
                assertFalse(mm.mmgetNotZero(), "mmget_not_zero fails once mm_users hit 0");
                assertFalse(mm.mmgetNotZero(), "... and keeps failing");
                assertEquals(0, mm.mmUsersPeek());
                assertFalse(mm.isFreed());
                mm.mmdrop();
                trail.add(mm.mmState() + "/" + mm.isFreed());
            });
            assertClean(k.run());
            assertEquals(List.of("DEAD/VMAS_GONE/0/1", "FREED/true"), trail, "seed " + seed);
            assertEquals(KObject.State.FREED, ref.get().state());
        }
    }

    @Test
    void lastMmput_unmapsEverything_pagesReturnToBaseline_thenMmdropFrees() {
        for (long seed : SEEDS) {
            Kernel k = checkedKernel(seed);
            PhysMem phys = PhysMem.of(k);
            List<Long> used = new ArrayList<>();
            AtomicReference<MmStruct> ref = new AtomicReference<>();
            MmStruct mm = MmStruct.mmAlloc(k, RefHandle.mainContext(k));
            k.spawnUser("proc", self -> {
                used.add(phys.usedPages());
                long addr = Mmap.mmapAnonymous(mm, 3 * Pte.PAGE_SIZE, Mmap.PROT_READ | Mmap.PROT_WRITE);
                assertFalse(Errno.isError(addr));
                byte[] data = new byte[(int) (3 * Pte.PAGE_SIZE)];
                data[0] = 1;
                assertEquals(0, UserAccess.copyToUser(k, addr, data), "touching three pages");
                used.add(phys.usedPages());
                mm.mmgrab();
                Exit.exitMm(self);
                assertSame(null, MmStruct.of(self), "exit_mm cleared tsk->mm");
                used.add(phys.usedPages());
                assertEquals(MmState.DEAD, mm.mmState(), "users gone, struct pinned by mmgrab");
                assertEquals(ExitPhase.VMAS_GONE, mm.exitPhase());
                assertEquals(0, mm.mmUsersPeek());
                assertEquals(1, mm.mmCountPeek());
                ref.set(mm);
                mm.mmdrop();
                assertEquals(MmState.FREED, mm.mmState());
            }, t -> adopt(t, mm));
            assertClean(k.run());
            long base = used.get(0);
            assertEquals(List.of(base, base + 3, base), used, "seed " + seed + ": pages mapped then freed by exit_mmap");
            assertTrue(ref.get().isFreed());
        }
    }

    @Test
    void mmgetOnADeadMm_isAdditionOnZero() {
        Kernel k = checkedKernel(3);
        k.spawnUser("p", self -> {
            MmStruct mm = MmStruct.mmAlloc(k, self);
            mm.mmgrab();
            mm.mmput();
            mm.mmget();
        });
        RunResult r = k.run();
        Failure.RefcountError e = assertSingleFailure(r, Failure.RefcountError.class);
        assertEquals(Failure.RefcountProblem.ADDITION_ON_ZERO, e.problem());
        assertEquals("mm#1 mm_users", e.object());
        assertEquals("p", e.site().task());
    }

    @Test
    void accessAfterFree_isUseAfterFreeWithAllocFreeAndAccessSites() {
        Kernel k = checkedKernel(5);
        MmStruct mm = MmStruct.mmAlloc(k, RefHandle.mainContext(k));
        Completion freed = new Completion(k, "freed");
        k.spawnUser("owner", self -> {
            mm.mmput();
            assertEquals(MmState.FREED, mm.mmState(), "mmput of the only user with no mmgrab frees the mm");
            freed.complete();
        }, t -> mm.transferUsersRef(t));
        k.spawnKthread("late", self -> {
            freed.waitForCompletion();
            mm.mmapLock();
        });
        RunResult r = k.run();
        Failure.UseAfterFree uaf = assertSingleFailure(r, Failure.UseAfterFree.class);
        assertEquals("mm#1", uaf.object());
        assertEquals("mm->mmap_lock", uaf.access());
        assertEquals("<main>", uaf.allocated().task());
        assertEquals("owner", uaf.freed().task());
        assertEquals("late", uaf.site().task());
    }

    /** A reference operation on an mm, and the access its use-after-free report names. */
    enum RefOperation {
        MMGET("mmget", MmStruct::mmget),
        MMGET_NOT_ZERO("mmget_not_zero", MmStruct::mmgetNotZero),
        MMPUT("mmput", MmStruct::mmput),
        MMGRAB("mmgrab", MmStruct::mmgrab),
        MMDROP("mmdrop", MmStruct::mmdrop),
        TRANSFER("mm_users transfer", mm -> mm.transferUsersRef(RefHandle.mainContext(mm.kernel())));

        final String access;
        final java.util.function.Consumer<MmStruct> call;

        RefOperation(String access, java.util.function.Consumer<MmStruct> call) {
            this.access = access;
            this.call = call;
        }
    }

    @ParameterizedTest
    @EnumSource(RefOperation.class)
    void aReferenceOperationOnAFreedMm_isAUseAfterFree_beforeAnyCounterIsTouched(RefOperation op) {
        Kernel k = checkedKernel(5);
        MmStruct mm = MmStruct.mmAlloc(k, RefHandle.mainContext(k));
        Completion freed = new Completion(k, "freed");
        k.spawnUser("owner", self -> {
            mm.mmput();
            freed.complete();
        }, t -> mm.transferUsersRef(t));
        k.spawnKthread("late", self -> {
            freed.waitForCompletion();
            op.call.accept(mm);
        });
        Failure.UseAfterFree uaf = assertSingleFailure(k.run(), Failure.UseAfterFree.class);
        assertEquals("mm#1", uaf.object());
        assertEquals(op.access, uaf.access());
        assertEquals("late", uaf.site().task());
    }

    @Test
    void mmputByAHolderThatNeverTookOne_isPutWithoutGet_andChangesNothing() {
        Kernel k = checkedKernel(9);
        MmStruct mm = MmStruct.mmAlloc(k, RefHandle.mainContext(k));
        Completion stray = new Completion(k, "stray put done");
        k.spawnUser("owner", self -> {
            stray.waitForCompletion();
            mm.mmput();
        }, t -> adopt(t, mm));
        k.spawnKthread("stranger", self -> {
            mm.mmput();
            stray.complete();
        });
        RunResult r = k.run();
        Failure.RefcountError e = assertSingleFailure(r, Failure.RefcountError.class);
        assertEquals(Failure.RefcountProblem.PUT_WITHOUT_GET, e.problem());
        assertEquals("mm#1 mm_users", e.object());
        assertEquals("stranger", e.site().task());
        assertEquals(1, mm.mmUsersPeek(), "the stray put is reported before it decrements");
        assertEquals(MmState.LIVE, mm.mmState());
    }

    @Test
    void mmgetNeverPut_isALeakAtTheEndOfTheRun() {
        Kernel k = checkedKernel(11);
        AtomicReference<MmStruct> ref = new AtomicReference<>();
        Process.spawn(k, "proc", self -> {
            MmStruct mm = MmStruct.of(self);
            ref.set(mm);
            mm.mmget();
        });
        RunResult r = k.run();
        Failure.RefcountError e = assertSingleFailure(r, Failure.RefcountError.class);
        assertEquals(Failure.RefcountProblem.LEAK, e.problem());
        assertEquals("mm#1 mm_users", e.object());
        assertTrue(e.detail().contains("proc"), e.detail());
        assertNotNull(ref.get());
        assertEquals(1, ref.get().mmUsersPeek());
        assertEquals(MmState.LIVE, ref.get().mmState(), "the leaked reference keeps the address space alive");
    }

    @Test
    void mmgrabNeverDropped_isAnMmCountLeakAtTheEndOfTheRun_namingTheHolder() {
        Kernel k = checkedKernel(13);
        AtomicReference<MmStruct> ref = new AtomicReference<>();
        Process.spawn(k, "proc", self -> {
            MmStruct mm = MmStruct.of(self);
            ref.set(mm);
            mm.mmgrab();
        });
        RunResult r = k.run();
        assertFalse(r.failures().isEmpty(), "a structure reference never dropped must be reported");
        Failure.RefcountError e = assertInstanceOf(Failure.RefcountError.class, r.failures().get(0), () -> describe(r));
        assertEquals(Failure.RefcountProblem.LEAK, e.problem());
        assertEquals("mm#1 mm_count", e.object());
        assertTrue(e.detail().startsWith("1 reference(s) never put: proc (get at proc @ step "), e.detail());
        assertEquals(MmState.DEAD, ref.get().mmState(), "the address space went, the structure stayed");
    }

    @Test
    void balancedGetsFromAnotherTask_leaveTheRunClean() {
        for (long seed : SEEDS) {
            Kernel k = checkedKernel(seed);
            AtomicReference<MmStruct> ref = new AtomicReference<>();
            List<Boolean> got = new ArrayList<>();
            Process.spawn(k, "proc", self -> {
                MmStruct mm = MmStruct.of(self);
                ref.set(mm);
                mm.mmgrab();
                Completion done = new Completion(k, "helper done");
                k.spawnKthread("helper", h -> {
                    boolean ok = mm.mmgetNotZero();
                    got.add(ok);
                    if (ok) {
                        mm.mmput();
                    }
                    done.complete();
                });
                done.waitForCompletion();
                mm.mmdrop();
            });
            assertClean(k.run());
            assertEquals(List.of(true), got, "seed " + seed + ": the process was alive while waiting");
            assertEquals(MmState.FREED, ref.get().mmState());
        }
    }
}
