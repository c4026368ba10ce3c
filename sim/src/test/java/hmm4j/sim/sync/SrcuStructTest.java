package hmm4j.sim.sync;

import static hmm4j.sim.sync.SyncTestSupport.awaitBlocked;
import static hmm4j.sim.sync.SyncTestSupport.onlyFailure;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import hmm4j.sim.Kernel;
import hmm4j.sim.RunResult;
import hmm4j.sim.Task;
import hmm4j.sim.TestOps;
import hmm4j.sim.failure.Failure;
import hmm4j.sim.rule.SimRules;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import org.junit.jupiter.api.Test;

class SrcuStructTest {

    @Test
    void synchronizeSrcu_waitsForPreExistingReader() {
        for (long seed = 0; seed < 50; seed++) {
            Kernel k = Kernel.controlled(seed);
            SrcuStruct srcu = new SrcuStruct(k, "srcu");
            Completion reading = new Completion(k, "reading");
            List<String> log = Collections.synchronizedList(new ArrayList<>());
            k.spawnKthread("reader", self -> {
                int idx = srcu.readLock();
                reading.complete();
                for (int i = 0; i < 5; i++) TestOps.point(self.kernel(), "read side");
                log.add("reader unlock");
                srcu.readUnlock(idx);
            });
            k.spawnKthread("sync", self -> {
                reading.waitForCompletion();
                srcu.synchronizeSrcu();
                log.add("sync done");
            });
            RunResult r = k.run();
            assertTrue(r.clean(), () -> "seed " + r.seed() + ": " + r.failures());
            assertEquals(List.of("reader unlock", "sync done"), log, "seed " + seed);
            assertEquals(0, srcu.openReaders());
        }
    }

    @Test
    void synchronizeSrcu_doesNotWaitForReadersThatStartedAfterIt() {
        for (long seed = 0; seed < 50; seed++) {
            Kernel k = Kernel.controlled(seed);
            SrcuStruct srcu = new SrcuStruct(k, "srcu");
            Completion early = new Completion(k, "early");
            Completion late = new Completion(k, "late");
            Completion synced = new Completion(k, "synced");
            List<String> log = Collections.synchronizedList(new ArrayList<>());
            Task sync = k.spawnKthread("sync", self -> {
                early.waitForCompletion();
                srcu.synchronizeSrcu();
                log.add("sync done");
                synced.complete();
            });
            k.spawnKthread("early", self -> {
                int idx = srcu.readLock();
                early.complete();
                late.waitForCompletion();
                log.add("early unlock");
                srcu.readUnlock(idx);
            });
            k.spawnKthread("late", self -> {
                awaitBlocked(self, sync, "synchronize_srcu(srcu)");
                int idx = srcu.readLock();
                late.complete();
                synced.waitForCompletion(); // deadlocks if synchronize_srcu waited for this reader
                log.add("late unlock");
                srcu.readUnlock(idx);
            });
            RunResult r = k.run();
            assertTrue(r.clean(), () -> "seed " + r.seed() + ": " + r.failures());
            assertEquals(List.of("early unlock", "sync done", "late unlock"), log, "seed " + seed);
        }
    }

    @Test
    void callSrcu_runsAfterPreExistingReaders_inNonBlockingSection_andBarrierWaits() {
        for (long seed = 0; seed < 50; seed++) {
            Kernel k = Kernel.controlled(seed);
            SrcuStruct srcu = new SrcuStruct(k, "srcu");
            Completion reading = new Completion(k, "reading");
            Completion queued = new Completion(k, "queued");
            List<String> log = Collections.synchronizedList(new ArrayList<>());
            boolean[] atomic = {false};
            String[] cbTask = {null};
            k.spawnKthread("reader", self -> {
                int idx = srcu.readLock();
                reading.complete();
                queued.waitForCompletion();
                for (int i = 0; i < 3; i++) TestOps.point(self.kernel(), "read side");
                log.add("reader unlock");
                srcu.readUnlock(idx);
            });
            k.spawnKthread("updater", self -> {
                reading.waitForCompletion();
                srcu.callSrcu(() -> {
                    Task cur = k.current();
                    atomic[0] = cur.inAtomicContext() && cur.nonBlockDepth() > 0;
                    cbTask[0] = cur.name();
                    log.add("callback");
                });
                queued.complete();
                srcu.srcuBarrier();
                log.add("barrier done");
            });
            RunResult r = k.run();
            assertTrue(r.clean(), () -> "seed " + r.seed() + ": " + r.failures());
            assertEquals(List.of("reader unlock", "callback", "barrier done"), log, "seed " + seed);
            assertTrue(atomic[0], "callback must run in a non-blocking section");
            assertEquals("srcu_cb(srcu)", cbTask[0]);
            assertEquals(0, srcu.pendingCallbacks());
        }
    }

    @Test
    void srcuBarrier_waitsForEveryQueuedCallback() {
        for (long seed = 0; seed < 30; seed++) {
            Kernel k = Kernel.controlled(seed);
            SrcuStruct srcu = new SrcuStruct(k, "srcu");
            int[] ran = {0};
            int[] seenAtBarrier = {-1};
            k.spawnKthread("updater", self -> {
                for (int i = 0; i < 3; i++) {
                    srcu.callSrcu(() -> ran[0]++);
                }
                srcu.srcuBarrier();
                seenAtBarrier[0] = ran[0];
            });
            RunResult r = k.run();
            assertTrue(r.clean(), () -> "seed " + r.seed() + ": " + r.failures());
            assertEquals(3, seenAtBarrier[0], "seed " + seed);
        }
    }

    @Test
    void readUnlockWithBogusIndex_isReported() {
        Kernel k = Kernel.controlled(1);
        SrcuStruct srcu = new SrcuStruct(k, "srcu");
        k.spawnKthread("t", self -> {
            int idx = srcu.readLock();
            srcu.readUnlock(idx + 1000);
        });
        Failure.InvariantViolation v = onlyFailure(k.run(), Failure.InvariantViolation.class);
        assertEquals(SimRules.SRCU_UNLOCK_PAIRS_LOCK, v.rule());
        assertTrue(v.detail().startsWith("srcu_read_unlock without srcu_read_lock: "), v.detail());
        assertTrue(v.detail().contains("no open read section"), v.detail());
    }

    @Test
    void doubleReadUnlock_isReported() {
        Kernel k = Kernel.controlled(2);
        SrcuStruct srcu = new SrcuStruct(k, "srcu");
        k.spawnKthread("t", self -> {
            int idx = srcu.readLock();
            srcu.readUnlock(idx);
            srcu.readUnlock(idx);
        });
        Failure.InvariantViolation v = onlyFailure(k.run(), Failure.InvariantViolation.class);
        assertEquals(SimRules.SRCU_UNLOCK_PAIRS_LOCK, v.rule());
        assertTrue(v.detail().startsWith("srcu_read_unlock without srcu_read_lock: "), v.detail());
    }
}
