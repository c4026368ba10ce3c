package hmm4j.kernel.mm.notifier;

import static hmm4j.kernel.mm.lifetime.Runs.assertSingleFailure;
import static hmm4j.kernel.mm.notifier.ItreeHarness.PAGE;
import static hmm4j.kernel.mm.notifier.ItreeHarness.runProcess;
import static org.junit.jupiter.api.Assertions.assertEquals;

import hmm4j.check.lifetime.KObject;
import hmm4j.kernel.mm.MmStruct;
import hmm4j.kernel.mm.Mmap;
import hmm4j.sim.Kernel;
import hmm4j.sim.RunResult;
import hmm4j.sim.failure.Failure;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * Every callback and every subscription operation touches the driver object the subscription
 * is embedded in ({@code container_of}) before anything else, so each one, used after the
 * driver freed that object, is the first report of the run: a use-after-free naming that
 * very callback or operation.
 */
class FreedContainerAccessTest {

    /** The driver object a subscription is embedded in. */
    static final class Driver extends KObject {
        Driver(Kernel k) {
            super(k, "drv");
        }
    }

    /** A classic callback, with ops implementing only it and the call that reaches it. */
    enum ClassicCallback {
        RELEASE("->release"),
        INVALIDATE_RANGE_START("->invalidate_range_start"),
        INVALIDATE_RANGE_END("->invalidate_range_end"),
        CLEAR_FLUSH_YOUNG("->clear_flush_young"),
        CLEAR_YOUNG("->clear_young"),
        TEST_YOUNG("->test_young"),
        ARCH_INVALIDATE_SECONDARY_TLBS("->arch_invalidate_secondary_tlbs");

        final String access;

        ClassicCallback(String access) {
            this.access = access;
        }

        MmuNotifierOps onlyThisOp() {
            return switch (this) {
                case RELEASE -> new MmuNotifierOps() {
                    @Override
                    public void release(MmuNotifier s, MmStruct mm) {
                    }
                };
                case INVALIDATE_RANGE_START -> new MmuNotifierOps() {
                    @Override
                    public int invalidateRangeStart(MmuNotifier s, MmuNotifierRange r) {
                        return 0;
                    }
                };
                case INVALIDATE_RANGE_END -> new MmuNotifierOps() {
                    @Override
                    public void invalidateRangeEnd(MmuNotifier s, MmuNotifierRange r) {
                    }
                };
                case CLEAR_FLUSH_YOUNG -> new MmuNotifierOps() {
                    @Override
                    public int clearFlushYoung(MmuNotifier s, MmStruct mm, long start, long end) {
                        return 0;
                    }
                };
                case CLEAR_YOUNG -> new MmuNotifierOps() {
                    @Override
                    public int clearYoung(MmuNotifier s, MmStruct mm, long start, long end) {
                        return 0;
                    }
                };
                case TEST_YOUNG -> new MmuNotifierOps() {
                    @Override
                    public int testYoung(MmuNotifier s, MmStruct mm, long address) {
                        return 0;
                    }
                };
                case ARCH_INVALIDATE_SECONDARY_TLBS -> new MmuNotifierOps() {
                    @Override
                    public void archInvalidateSecondaryTlbs(MmuNotifier s, MmStruct mm, long start, long end) {
                    }
                };
            };
        }

        /** Reaches the callback; {@link #RELEASE} is reached by the process's exit, after the body. */
        void reach(MmStruct mm, long base) {
            switch (this) {
                case RELEASE -> { }
                case INVALIDATE_RANGE_START, INVALIDATE_RANGE_END -> Mmap.munmap(mm, base, PAGE);
                case CLEAR_FLUSH_YOUNG -> MmuNotifierSubscriptions.clearFlushYoung(mm, base, base + PAGE);
                case CLEAR_YOUNG -> MmuNotifierSubscriptions.clearYoung(mm, base, base + PAGE);
                case TEST_YOUNG -> MmuNotifierSubscriptions.testYoung(mm, base);
                case ARCH_INVALIDATE_SECONDARY_TLBS ->
                        MmuNotifierSubscriptions.archInvalidateSecondaryTlbs(mm, base, base + PAGE);
            }
        }
    }

    @ParameterizedTest
    @EnumSource(ClassicCallback.class)
    void aClassicCallback_afterTheDriverFreedItsObject_isAUseAfterFreeNamingTheCallback(ClassicCallback cb) {
        RunResult run = runProcess(1, (k, mm, base) -> {
            Driver drv = new Driver(k);
            new MmuNotifier(drv, "drv->notifier", cb.onlyThisOp()).register(mm);
            drv.kfree();
            cb.reach(mm, base);
        });
        Failure.UseAfterFree uaf = assertSingleFailure(run, Failure.UseAfterFree.class);
        assertEquals("drv", uaf.object());
        assertEquals(cb.access + " of drv->notifier", uaf.access());
    }

    /** An interval subscription operation, reached on an inserted subscription. */
    enum IntervalOperation {
        INVALIDATE("->invalidate"),
        REMOVE("mmu_interval_notifier_remove"),
        READ_BEGIN("mmu_interval_read_begin"),
        READ_RETRY("mmu_interval_read_retry"),
        CHECK_RETRY("mmu_interval_check_retry"),
        SET_SEQ("mmu_interval_set_seq");

        final String access;

        IntervalOperation(String access) {
            this.access = access;
        }

        void reach(MmuIntervalNotifier sub, MmStruct mm, long base, long seq) {
            switch (this) {
                case INVALIDATE -> Mmap.munmap(mm, base, PAGE);
                case REMOVE -> sub.mmuIntervalNotifierRemove();
                case READ_BEGIN -> sub.mmuIntervalReadBegin();
                case READ_RETRY -> sub.mmuIntervalReadRetry(seq);
                case CHECK_RETRY -> sub.mmuIntervalCheckRetry(seq);
                case SET_SEQ -> sub.mmuIntervalSetSeq(seq);
            }
        }
    }

    @ParameterizedTest
    @EnumSource(IntervalOperation.class)
    void anIntervalOperation_afterTheDriverFreedItsObject_isAUseAfterFreeNamingTheOperation(IntervalOperation op) {
        RunResult run = runProcess(1, (k, mm, base) -> {
            Driver drv = new Driver(k);
            MmuIntervalNotifier sub = new MmuIntervalNotifier(drv, "drv->interval");
            sub.mmuIntervalNotifierInsert(mm, base, PAGE, (s, r, seq) -> {
                s.mmuIntervalSetSeq(seq);
                return true;
            });
            long seq = sub.mmuIntervalReadBegin();
            drv.kfree();
            op.reach(sub, mm, base, seq);
        });
        Failure.UseAfterFree uaf = assertSingleFailure(run, Failure.UseAfterFree.class);
        assertEquals("drv", uaf.object());
        assertEquals(op.access + " of drv->interval", uaf.access());
    }
}
