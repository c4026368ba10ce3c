package hmm4j.kernel.mm.notifier;

import static hmm4j.kernel.mm.lifetime.Runs.assertSingleFailure;
import static hmm4j.kernel.mm.lifetime.Runs.checkedKernel;
import static hmm4j.kernel.mm.notifier.ItreeHarness.PAGE;
import static hmm4j.kernel.mm.notifier.ItreeHarness.runProcess;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import hmm4j.kernel.KernelRules;
import hmm4j.kernel.mm.Errno;
import hmm4j.kernel.mm.MmStruct;
import hmm4j.kernel.sched.Process;
import hmm4j.sim.Kernel;
import hmm4j.sim.RunResult;
import hmm4j.sim.failure.Failure;
import hmm4j.sim.rule.SimRules;
import hmm4j.sim.sync.SpinLock;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * The calling-context rules each notifier entry point asserts itself, each checked where no
 * later assertion of another function would report the same thing: may sleep
 * ({@code might_sleep}), the mmap write lock ({@code mmap_assert_write_locked}), the pin rule,
 * and a live address space ({@code mm_users > 0}).
 */
class EntryPointRulesTest {

    private static final MmuIntervalNotifierOps ANY = (s, r, seq) -> true;

    /** An entry point that may sleep, called with a spinlock held after its set-up. */
    enum Sleeper {
        REGISTER("mmu_notifier_register") {
            @Override
            void call(MmStruct mm, long base, Runnable underSpinLock) {
                MmuNotifier sub = new MmuNotifier("sub", new MmuNotifierOps() { });
                underSpinLock.run();
                sub.register(mm);
            }
        },
        UNREGISTER("mmu_notifier_unregister") {
            @Override
            void call(MmStruct mm, long base, Runnable underSpinLock) {
                MmuNotifier sub = new MmuNotifier("sub", new MmuNotifierOps() { });
                sub.register(mm);
                underSpinLock.run();
                sub.unregister(mm);
            }
        },
        INSERT("mmu_interval_notifier_insert") {
            @Override
            void call(MmStruct mm, long base, Runnable underSpinLock) {
                new MmuIntervalNotifier("first").mmuIntervalNotifierInsert(mm, base, PAGE, ANY);
                underSpinLock.run();
                new MmuIntervalNotifier("second").mmuIntervalNotifierInsert(mm, base + PAGE, PAGE, ANY);
            }
        },
        REMOVE("mmu_interval_notifier_remove") {
            @Override
            void call(MmStruct mm, long base, Runnable underSpinLock) {
                MmuIntervalNotifier sub = new MmuIntervalNotifier("sub");
                sub.mmuIntervalNotifierInsert(mm, base, PAGE, ANY);
                underSpinLock.run();
                sub.mmuIntervalNotifierRemove();
            }
        },
        MMPUT("mmput(mm#1)") {
            @Override
            void call(MmStruct mm, long base, Runnable underSpinLock) {
                mm.mmget();
                underSpinLock.run();
                mm.mmput();
            }
        };

        final String operation;

        Sleeper(String operation) {
            this.operation = operation;
        }

        abstract void call(MmStruct mm, long base, Runnable underSpinLock);
    }

    @ParameterizedTest
    @EnumSource(Sleeper.class)
    void anEntryPointThatMaySleep_calledUnderASpinlock_isReportedByItsOwnMightSleep(Sleeper entry) {
        RunResult run = runProcess(1, (k, mm, base) -> {
            SpinLock lock = new SpinLock(k, "driver->lock");
            entry.call(mm, base, lock::lock);
            lock.unlock();
        });
        Failure.SleepInAtomic f = assertSingleFailure(run, Failure.SleepInAtomic.class);
        assertEquals(entry.operation, f.operation(), f.toString());
        assertEquals("sched.sleep-in-atomic", f.rule().id());
    }

    @Test
    void registerLocked_withoutTheMmapLock_isReportedEvenWhenTheOpsAreRefused() {
        RunResult run = runProcess(1, (k, mm, base) -> {
            MmuNotifier both = new MmuNotifier("both", new MmuNotifierOps() {
                @Override
                public void archInvalidateSecondaryTlbs(MmuNotifier s, MmStruct m, long start, long end) {
                }

                @Override
                public int invalidateRangeStart(MmuNotifier s, MmuNotifierRange range) {
                    return 0;
                }
            });
            assertEquals(-Errno.EINVAL, both.registerLocked(mm));
        });
        Failure.InvariantViolation v = assertSingleFailure(run, Failure.InvariantViolation.class);
        assertEquals(SimRules.ASSERT_HELD, v.rule());
        assertTrue(v.detail().contains("mmap_assert_write_locked"), v.detail());
    }

    @Test
    void insertLocked_withoutTheMmapLock_onAnMmAlreadyInIntervalMode_isReportedByTheInsert() {
        RunResult run = runProcess(1, (k, mm, base) -> {
            new MmuIntervalNotifier("first").mmuIntervalNotifierInsert(mm, base, PAGE, ANY);
            new MmuIntervalNotifier("second").mmuIntervalNotifierInsertLocked(mm, base + PAGE, PAGE, ANY);
        });
        Failure.InvariantViolation v = assertSingleFailure(run, Failure.InvariantViolation.class);
        assertEquals(SimRules.ASSERT_HELD, v.rule());
        assertTrue(v.detail().contains("mmap_assert_write_locked"), v.detail());
    }

    /** Runs {@code call} in a kernel thread holding only an {@code mmgrab} of a live process's mm. */
    private static RunResult fromAGrabbingKthread(java.util.function.Consumer<MmStruct> setUp,
                                                  java.util.function.Consumer<MmStruct> call) {
        Kernel k = checkedKernel(3);
        Process.spawn(k, "proc", self -> {
            MmStruct mm = MmStruct.of(self);
            setUp.accept(mm);
            mm.mmgrab();
            k.spawnKthread("worker", w -> call.accept(mm)).join();
            mm.mmdrop();
        });
        return k.run();
    }

    @Test
    void registerFromAKthreadWithoutMmget_isReportedByTheRegistrationsPinRule() {
        RunResult run = fromAGrabbingKthread(mm -> { },
                mm -> new MmuNotifier("sub", new MmuNotifierOps() { }).register(mm));
        var f = assertSingleFailure(run, Failure.UnpinnedAddressSpaceUse.class);
        assertEquals("mmu_notifier_register(sub)", f.operation());
    }

    @Test
    void insertFromAKthreadWithoutMmget_onAnMmAlreadyInIntervalMode_isReportedByTheInsertsPinRule() {
        RunResult run = fromAGrabbingKthread(
                mm -> new MmuIntervalNotifier("first").mmuIntervalNotifierInsert(mm, 0, PAGE, ANY),
                mm -> new MmuIntervalNotifier("second").mmuIntervalNotifierInsert(mm, PAGE, PAGE, ANY));
        var f = assertSingleFailure(run, Failure.UnpinnedAddressSpaceUse.class);
        assertEquals("mmu_interval_notifier_insert", f.operation());
    }

    /**
     * Runs {@code call} from {@code ->release} at exit: the exiting task may touch the address
     * space without a pin (so the pin rule is quiet), but {@code mm_users} is already 0.
     */
    private static RunResult fromReleaseAtExit(java.util.function.Consumer<MmStruct> setUp,
                                               java.util.function.Consumer<MmStruct> call) {
        Kernel k = checkedKernel(5);
        Process.spawn(k, "proc", self -> {
            MmStruct mm = MmStruct.of(self);
            setUp.accept(mm);
            new MmuNotifier("host", new MmuNotifierOps() {
                @Override
                public void release(MmuNotifier s, MmStruct m) {
                    call.accept(m);
                }
            }).register(mm);
        });
        return k.run();
    }

    @Test
    void registerOnAnMmWhoseAddressSpaceIsGone_isReported() {
        RunResult run = fromReleaseAtExit(mm -> { },
                mm -> new MmuNotifier("late", new MmuNotifierOps() { }).register(mm));
        Failure.InvariantViolation v = assertSingleFailure(run, Failure.InvariantViolation.class);
        assertEquals(KernelRules.REGISTER_ON_LIVE_MM, v.rule());
        assertTrue(v.detail().contains("registering late"), v.detail());
    }

    @Test
    void insertOnAnMmWhoseAddressSpaceIsGone_isReported() {
        RunResult run = fromReleaseAtExit(
                mm -> new MmuIntervalNotifier("first").mmuIntervalNotifierInsert(mm, 0, PAGE, ANY),
                mm -> new MmuIntervalNotifier("late").mmuIntervalNotifierInsert(mm, PAGE, PAGE, ANY));
        Failure.InvariantViolation v = assertSingleFailure(run, Failure.InvariantViolation.class);
        assertEquals(KernelRules.INSERT_ON_LIVE_MM, v.rule());
        assertTrue(v.detail().contains("late inserted on"), v.detail());
    }
}
