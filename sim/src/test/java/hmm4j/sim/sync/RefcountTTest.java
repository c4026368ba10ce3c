package hmm4j.sim.sync;

import static hmm4j.sim.sync.SyncTestSupport.onlyFailure;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import hmm4j.sim.Kernel;
import hmm4j.sim.RunResult;
import hmm4j.sim.failure.Failure;
import hmm4j.sim.failure.Failure.RefcountProblem;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Consumer;
import org.junit.jupiter.api.Test;

class RefcountTTest {

    private static Failure.RefcountError runExpectingError(int initial, Consumer<RefcountT> body, RefcountT[] out) {
        Kernel k = Kernel.controlled(7);
        RefcountT ref = new RefcountT(k, "ref", initial);
        out[0] = ref;
        k.spawnKthread("t", self -> body.accept(ref));
        return onlyFailure(k.run(), Failure.RefcountError.class);
    }

    @Test
    void incFromZero_isAdditionOnZero_andSaturates() {
        RefcountT[] ref = new RefcountT[1];
        Failure.RefcountError e = runExpectingError(0, RefcountT::inc, ref);
        assertEquals(RefcountProblem.ADDITION_ON_ZERO, e.problem());
        assertEquals("ref", e.object());
        assertEquals(RefcountT.SATURATED, ref[0].peek());
    }

    @Test
    void decAndTestBelowZero_isUnderflow_andSaturates() {
        RefcountT[] ref = new RefcountT[1];
        Failure.RefcountError e = runExpectingError(0, RefcountT::decAndTest, ref);
        assertEquals(RefcountProblem.UNDERFLOW, e.problem());
        assertEquals(RefcountT.SATURATED, ref[0].peek());
    }

    @Test
    void aDoublePut_citesThePutThatReachedZero() {
        RefcountT[] ref = new RefcountT[1];
        Failure.RefcountError e = runExpectingError(1, r -> {
            r.decAndTest();
            r.decAndTest();
        }, ref);
        assertEquals(RefcountProblem.UNDERFLOW, e.problem());
        assertTrue(e.detail().contains("; the count reached 0 at t @ step "), e.detail());
        assertTrue(e.detail().contains("RefcountTTest"), "the first put's frames: " + e.detail());
    }

    @Test
    void decHittingZero_isReported() {
        RefcountT[] ref = new RefcountT[1];
        Failure.RefcountError e = runExpectingError(1, RefcountT::dec, ref);
        assertEquals(RefcountProblem.SATURATED, e.problem());
        assertTrue(e.detail().contains("hit 0"), e.detail());
        assertEquals(RefcountT.SATURATED, ref[0].peek());
    }

    @Test
    void decBelowZero_isUnderflow() {
        RefcountT[] ref = new RefcountT[1];
        Failure.RefcountError e = runExpectingError(0, RefcountT::dec, ref);
        assertEquals(RefcountProblem.UNDERFLOW, e.problem());
    }

    @Test
    void saturatedCounterStaysSaturated_withoutFurtherReports() {
        Kernel k = Kernel.controlled(8);
        RefcountT ref = new RefcountT(k, "ref", RefcountT.SATURATED);
        List<Object> seen = new ArrayList<>();
        k.spawnKthread("t", self -> {
            ref.inc();
            seen.add(ref.decAndTest());
            ref.dec();
            seen.add(ref.read());
        });
        RunResult r = k.run();
        assertTrue(r.clean(), r.failures()::toString);
        assertEquals(List.of(false, RefcountT.SATURATED), seen);
    }

    @Test
    void incNotZero_falseOnZero_trueAndIncrementsOtherwise() {
        Kernel k = Kernel.controlled(9);
        RefcountT zero = new RefcountT(k, "zero", 0);
        RefcountT one = new RefcountT(k, "one", 1);
        List<Object> seen = new ArrayList<>();
        k.spawnKthread("t", self -> {
            seen.add(zero.incNotZero());
            seen.add(zero.read());
            seen.add(one.incNotZero());
            seen.add(one.read());
        });
        RunResult r = k.run();
        assertTrue(r.clean(), r.failures()::toString);
        assertEquals(List.of(false, 0, true, 2), seen);
    }

    @Test
    void decAndTest_trueExactlyOnceForTheLastPut_onEverySeed() {
        for (long seed = 0; seed < 100; seed++) {
            Kernel k = Kernel.controlled(seed);
            RefcountT ref = new RefcountT(k, "ref", 1);
            int[] lastPuts = {0};
            k.spawnKthread("owner", self -> {
                for (int i = 0; i < 3; i++) {
                    ref.inc();
                    int n = i;
                    self.kernel().spawnKthread("put" + n, t -> {
                        if (ref.decAndTest()) lastPuts[0]++;
                    });
                }
                if (ref.decAndTest()) lastPuts[0]++;
            });
            RunResult r = k.run();
            assertTrue(r.clean(), () -> "seed " + r.seed() + ": " + r.failures());
            assertEquals(1, lastPuts[0], "seed " + seed);
            assertEquals(0, ref.peek(), "seed " + seed);
        }
    }
}
