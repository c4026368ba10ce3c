package hmm4j.kernel.dma;

import static hmm4j.kernel.mm.lifetime.Runs.assertClean;
import static hmm4j.kernel.mm.lifetime.Runs.assertSingleFailure;
import static hmm4j.kernel.mm.lifetime.Runs.checkedKernel;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import hmm4j.kernel.KernelRules;
import hmm4j.kernel.mm.Errno;
import hmm4j.sim.Kernel;
import hmm4j.sim.failure.Failure;
import hmm4j.sim.sync.SpinLock;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/** dma_fence and dma_resv: signalling, waits, callbacks, references and reservation slots. */
class DmaFenceTest {
    static final DmaFenceOps OPS = new DmaFenceOps() {
        @Override
        public String getDriverName(DmaFence fence) {
            return "test";
        }

        @Override
        public String getTimelineName(DmaFence fence) {
            return "tl";
        }
    };

    static DmaFence fence(Kernel k, long seqno) {
        return new DmaFence(k, OPS, new SpinLock(k, "tl->lock"), 1, seqno);
    }

    @ParameterizedTest
    @ValueSource(longs = {1, 2, 3, 7, 42})
    void waitSleepsUntilTheSignal_andCallbacksRunOnce(long seed) {
        Kernel k = checkedKernel(seed);
        AtomicInteger calls = new AtomicInteger();
        AtomicLong ret = new AtomicLong(-1);
        k.spawnKthread("driver", t -> {
            DmaFence f = fence(k, 1);
            assertEquals(0, f.dmaFenceAddCallback(new DmaFenceCb((x, cb) -> calls.incrementAndGet())));
            var signaller = k.spawnKthread("ring", r -> assertEquals(0, f.dmaFenceSignal()));
            ret.set(f.dmaFenceWaitTimeout(false, DmaFence.MAX_SCHEDULE_TIMEOUT));
            signaller.join();
            assertEquals(-Errno.EINVAL, f.dmaFenceSignal(), "a fence signals once");
            assertEquals(-Errno.ENOENT, f.dmaFenceAddCallback(new DmaFenceCb((x, cb) -> calls.incrementAndGet())));
            assertEquals(1, f.dmaFenceGetStatus());
            f.dmaFencePut();
            assertTrue(f.isFreed(), "the last put frees the fence");
        });
        assertClean(k.run());
        assertEquals(1, calls.get());
        assertTrue(ret.get() > 0, "a signalled wait returns the remaining timeout");
    }

    @Test
    void waitTimesOutOnVirtualTime_andPollAnswersAtOnce() {
        Kernel k = checkedKernel(1);
        k.spawnKthread("driver", t -> {
            DmaFence f = fence(k, 1);
            assertEquals(0, f.dmaFenceWaitTimeout(false, 0), "a poll of a pending fence");
            assertEquals(0, f.dmaFenceWaitTimeout(true, 1_000_000), "timed out");
            assertEquals(-Errno.EINVAL, f.dmaFenceWaitTimeout(false, -1));
            f.dmaFenceSetError(-Errno.EIO);
            f.dmaFenceSignal();
            assertEquals(1, f.dmaFenceWaitTimeout(false, 0), "a poll of a signalled fence is 1");
            assertEquals(-Errno.EIO, f.dmaFenceGetStatus());
            f.dmaFencePut();
        });
        assertClean(k.run());
    }

    @Test
    void aFenceUsedAfterItsLastPut_isAUseAfterFree() {
        Kernel k = checkedKernel(1);
        k.spawnKthread("driver", t -> {
            DmaFence f = fence(k, 1);
            f.dmaFencePut();
            f.dmaFenceSignal();
        });
        Failure.UseAfterFree uaf = assertSingleFailure(k.run(), Failure.UseAfterFree.class);
        assertTrue(uaf.access().contains("dma_fence_signal"), uaf.access());
    }

    @Test
    void releasedWithPendingCallbacks_isReported() {
        Kernel k = checkedKernel(1);
        k.spawnKthread("driver", t -> {
            DmaFence f = fence(k, 1);
            f.dmaFenceAddCallback(new DmaFenceCb((x, cb) -> { }));
            f.dmaFencePut();
        });
        Failure.InvariantViolation v = assertSingleFailure(k.run(), Failure.InvariantViolation.class);
        assertEquals(KernelRules.DMA_FENCE_SIGNAL_BEFORE_RELEASE, v.rule());
    }

    @Test
    void resvAddFenceWithoutAReservedSlot_isReported() {
        Kernel k = checkedKernel(1);
        k.spawnKthread("driver", t -> {
            DmaResv resv = new DmaResv(k, "bo->resv");
            DmaFence f = fence(k, 1);
            resv.dmaResvLock();
            resv.dmaResvAddFence(f, DmaResvUsage.WRITE);
            resv.dmaResvUnlock();
        });
        Failure.InvariantViolation v = assertSingleFailure(k.run(), Failure.InvariantViolation.class);
        assertEquals(KernelRules.DMA_RESV_FENCE_RESERVED, v.rule());
    }

    @Test
    void resvReplacesTheSameTimeline_waitsOnlyForTheUsageAsked_andFiniDropsItsReferences() {
        Kernel k = checkedKernel(1);
        k.spawnKthread("driver", t -> {
            DmaResv resv = new DmaResv(k, "bo->resv");
            DmaFence first = fence(k, 1);
            DmaFence second = fence(k, 2);
            DmaFence reader = new DmaFence(k, OPS, new SpinLock(k, "tl2->lock"), 2, 1);
            resv.dmaResvLock();
            resv.dmaResvReserveFences(3);
            resv.dmaResvAddFence(first, DmaResvUsage.WRITE);
            resv.dmaResvAddFence(second, DmaResvUsage.WRITE);
            resv.dmaResvAddFence(reader, DmaResvUsage.READ);
            resv.dmaResvUnlock();
            assertEquals(2, resv.fenceCount(), "the later fence of a timeline replaces the earlier");
            assertEquals(1, first.refcountPeek(), "the replaced fence's reference is dropped");
            assertEquals(0, resv.dmaResvWaitTimeout(DmaResvUsage.WRITE, false, 1000), "the writer is pending");
            second.dmaFenceSignal();
            assertTrue(resv.dmaResvTestSignaled(DmaResvUsage.WRITE));
            assertFalse(resv.dmaResvTestSignaled(DmaResvUsage.READ), "READ includes the pending reader");
            reader.dmaFenceSignal();
            assertEquals(1, resv.dmaResvWaitTimeout(DmaResvUsage.BOOKKEEP, false, 0));
            resv.dmaResvFini();
            for (DmaFence f : new DmaFence[] {first, second, reader}) {
                f.dmaFencePut();
                assertTrue(f.isFreed(), f + " freed once both references are gone");
            }
        });
        assertClean(k.run());
    }
}
