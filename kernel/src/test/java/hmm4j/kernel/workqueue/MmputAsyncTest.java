package hmm4j.kernel.workqueue;

import static hmm4j.kernel.mm.lifetime.Runs.assertClean;
import static hmm4j.kernel.mm.lifetime.Runs.checkedKernel;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import hmm4j.kernel.mm.MmState;
import hmm4j.kernel.mm.MmStruct;
import hmm4j.kernel.mm.Mmap;
import hmm4j.kernel.mm.Pte;
import hmm4j.kernel.sched.Process;
import hmm4j.sim.Kernel;
import hmm4j.sim.RunResult;
import hmm4j.sim.rule.SimRules;
import hmm4j.sim.sync.SpinLock;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/** mmput_async: callable under a spinlock, the last reference's __mmput runs on a kworker. */
class MmputAsyncTest {

    private static RunResult run(long seed, boolean async, MmStruct[] seen) {
        Kernel k = checkedKernel(seed);
        SpinLock lock = new SpinLock(k, "dev->lock");
        Process.spawn(k, "proc", self -> {
            MmStruct mm = MmStruct.of(self);
            seen[0] = mm;
            Mmap.mmapAnonymous(mm, 4 * Pte.PAGE_SIZE, Mmap.PROT_READ | Mmap.PROT_WRITE);
            hmm4j.sim.sync.Completion pinned = new hmm4j.sim.sync.Completion(k, "pinned");
            k.spawnKthread("irq-worker", t -> {
                if (!mm.mmgetNotZero()) {
                    throw new IllegalStateException("the process holds its mm until this one is pinned");
                }
                pinned.complete();
                lock.lock();
                if (async) {
                    mm.mmputAsync();
                } else {
                    mm.mmput();
                }
                lock.unlock();
                WorkqueueStruct.systemWq(k).flushWorkqueue();
            });
            pinned.waitForCompletion();
        });
        return k.run();
    }

    @ParameterizedTest
    @ValueSource(longs = {1, 2, 3, 7, 11, 42, 99, 1234})
    void mmputAsyncUnderASpinlock_isClean_andTheAddressSpaceIsTornDown(long seed) {
        MmStruct[] mm = new MmStruct[1];
        assertClean(run(seed, true, mm));
        MmState state = mm[0].mmState();
        assertTrue(state == MmState.DEAD || state == MmState.FREED, "torn down: " + state);
    }

    @ParameterizedTest
    @ValueSource(longs = {1, 2, 3})
    void mmputUnderASpinlock_sleepsInAtomicContext(long seed) {
        RunResult r = run(seed, false, new MmStruct[1]);
        assertEquals(SimRules.SLEEP_IN_ATOMIC_RULE, r.failures().get(0).rule());
    }
}
