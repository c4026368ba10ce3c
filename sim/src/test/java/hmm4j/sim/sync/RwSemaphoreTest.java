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

class RwSemaphoreTest {

    @Test
    void readersShareTheLock_twoInsideAtOnceOnSomeSeed() {
        int maxSeen = 0;
        for (long seed = 0; seed < 50; seed++) {
            Kernel k = Kernel.controlled(seed);
            RwSemaphore sem = new RwSemaphore(k, "sem");
            AtomicT inside = new AtomicT(k, "inside", 0);
            int[] max = {0};
            for (int i = 0; i < 2; i++) {
                k.spawnKthread("r" + i, self -> {
                    sem.downRead();
                    max[0] = Math.max(max[0], inside.incReturn());
                    TestOps.point(self.kernel(), "in read section");
                    inside.dec();
                    sem.upRead();
                });
            }
            RunResult r = k.run();
            assertTrue(r.clean(), () -> "seed " + r.seed() + ": " + r.failures());
            assertTrue(max[0] >= 1 && max[0] <= 2);
            maxSeen = Math.max(maxSeen, max[0]);
        }
        assertEquals(2, maxSeen, "no seed ever had both readers inside at once");
    }

    @Test
    void writerExcludesReadersAndWriters_onEverySeed() {
        for (long seed = 0; seed < 200; seed++) {
            Kernel k = Kernel.controlled(seed);
            RwSemaphore sem = new RwSemaphore(k, "sem");
            AtomicT readers = new AtomicT(k, "readers", 0);
            AtomicT writers = new AtomicT(k, "writers", 0);
            List<String> violations = new ArrayList<>();
            int[] done = {0};
            for (int i = 0; i < 2; i++) {
                k.spawnKthread("w" + i, self -> {
                    sem.downWrite();
                    if (writers.incReturn() != 1) violations.add("two writers");
                    if (readers.read() != 0) violations.add("reader inside with writer");
                    TestOps.point(self.kernel(), "in write section");
                    writers.dec();
                    sem.upWrite();
                    done[0]++;
                });
            }
            for (int i = 0; i < 2; i++) {
                k.spawnKthread("r" + i, self -> {
                    sem.downRead();
                    readers.inc();
                    if (writers.read() != 0) violations.add("writer inside with reader");
                    TestOps.point(self.kernel(), "in read section");
                    readers.dec();
                    sem.upRead();
                    done[0]++;
                });
            }
            RunResult r = k.run();
            assertTrue(r.clean(), () -> "seed " + r.seed() + ": " + r.failures());
            assertEquals(List.of(), violations, "seed " + seed);
            assertEquals(4, done[0], "seed " + seed);
            assertTrue(!sem.isLocked());
        }
    }

    @Test
    void newReaderQueuesBehindWaitingWriter() {
        for (long seed = 0; seed < 30; seed++) {
            Kernel k = Kernel.controlled(seed);
            RwSemaphore sem = new RwSemaphore(k, "sem");
            Completion r1Holds = new Completion(k, "r1Holds");
            Completion writerWaits = new Completion(k, "writerWaits");
            List<String> log = Collections.synchronizedList(new ArrayList<>());
            boolean[] trylock = {true};
            Task w = k.spawnKthread("w", self -> {
                r1Holds.waitForCompletion();
                sem.downWrite();
                log.add("w write");
                sem.upWrite();
            });
            k.spawnKthread("r1", self -> {
                sem.downRead();
                r1Holds.complete();
                awaitBlocked(self, w, "down_write(sem)");
                writerWaits.complete();
                // give r2 every chance to (wrongly) get in before we release
                for (int i = 0; i < 5; i++) TestOps.point(self.kernel(), "hold");
                log.add("r1 up");
                sem.upRead();
            });
            k.spawnKthread("r2", self -> {
                writerWaits.waitForCompletion();
                trylock[0] = sem.downReadTrylock();
                sem.downRead();
                log.add("r2 read");
                sem.upRead();
            });
            RunResult r = k.run();
            assertTrue(r.clean(), () -> "seed " + r.seed() + ": " + r.failures());
            assertTrue(!trylock[0], "down_read_trylock succeeded while a writer waits, seed " + seed);
            assertEquals(List.of("r1 up", "w write", "r2 read"), log, "seed " + seed);
        }
    }

    @Test
    void recursiveReadAgainstWaitingWriter_deadlocksOnSomeSeed() {
        int deadlocks = 0;
        int cleans = 0;
        for (long seed = 0; seed < 100; seed++) {
            Kernel k = Kernel.controlled(seed);
            RwSemaphore sem = new RwSemaphore(k, "sem");
            Completion held = new Completion(k, "held");
            k.spawnKthread("reader", self -> {
                sem.downRead();
                held.complete();
                sem.downRead(); // recursive read: deadlocks if the writer queued in between
                sem.upRead();
                sem.upRead();
            });
            k.spawnKthread("writer", self -> {
                held.waitForCompletion();
                sem.downWrite();
                sem.upWrite();
            });
            RunResult r = k.run();
            if (r.clean()) {
                cleans++;
                continue;
            }
            Failure.Deadlock d = onlyFailure(r, Failure.Deadlock.class);
            assertEquals(2, d.blocked().size(), d.blocked().toString());
            assertTrue(d.blocked().stream().anyMatch(s -> s.startsWith("reader blocked on down_read(sem)")),
                    d.blocked().toString());
            assertTrue(d.blocked().stream().anyMatch(s -> s.startsWith("writer blocked on down_write(sem)")),
                    d.blocked().toString());
            deadlocks++;
        }
        assertTrue(deadlocks > 0, "no seed found the recursive-read deadlock");
        assertTrue(cleans > 0, "no seed let the recursive read through before the writer queued");
    }

    @Test
    void downgradeWrite_letsReadersInWhileStillHeldForRead() {
        for (long seed = 0; seed < 50; seed++) {
            Kernel k = Kernel.controlled(seed);
            RwSemaphore sem = new RwSemaphore(k, "sem");
            Completion writing = new Completion(k, "writing");
            Completion readerIn = new Completion(k, "readerIn");
            List<String> log = Collections.synchronizedList(new ArrayList<>());
            k.spawnKthread("w", self -> {
                sem.downWrite();
                writing.complete();
                for (int i = 0; i < 5; i++) TestOps.point(self.kernel(), "hold write");
                log.add("downgrade");
                sem.downgradeWrite();
                sem.assertHeld("held after downgrade");
                readerIn.waitForCompletion(); // deadlocks unless the reader got in beside us
                log.add("w up");
                sem.upRead();
            });
            k.spawnKthread("r", self -> {
                writing.waitForCompletion();
                sem.downRead();
                log.add("r read");
                readerIn.complete();
                sem.upRead();
            });
            RunResult r = k.run();
            assertTrue(r.clean(), () -> "seed " + r.seed() + ": " + r.failures());
            assertEquals(List.of("downgrade", "r read", "w up"), log, "seed " + seed);
            assertTrue(!sem.isLocked());
        }
    }

    @Test
    void trylocks_failWhenHeld_succeedWhenFree() {
        for (long seed = 0; seed < 20; seed++) {
            Kernel k = Kernel.controlled(seed);
            RwSemaphore sem = new RwSemaphore(k, "sem");
            Completion held = new Completion(k, "held");
            Completion tried1 = new Completion(k, "tried1");
            Completion downgraded = new Completion(k, "downgraded");
            Completion tried2 = new Completion(k, "tried2");
            Completion released = new Completion(k, "released");
            List<Boolean> results = new ArrayList<>();
            k.spawnKthread("holder", self -> {
                sem.downWrite();
                held.complete();
                tried1.waitForCompletion();
                sem.downgradeWrite();
                downgraded.complete();
                tried2.waitForCompletion();
                sem.upRead();
                released.complete();
            });
            k.spawnKthread("trier", self -> {
                held.waitForCompletion();
                results.add(sem.downReadTrylock());  // write held: false
                results.add(sem.downWriteTrylock()); // write held: false
                tried1.complete();
                downgraded.waitForCompletion();
                results.add(sem.downWriteTrylock()); // read held: false
                results.add(sem.downReadTrylock());  // read held, no writer waiting: true
                sem.upRead();
                tried2.complete();
                released.waitForCompletion();
                results.add(sem.downWriteTrylock()); // free: true
                sem.upWrite();
            });
            RunResult r = k.run();
            assertTrue(r.clean(), () -> "seed " + r.seed() + ": " + r.failures());
            assertEquals(List.of(false, false, false, true, true), results, "seed " + seed);
        }
    }

    @Test
    void upReadByNonHolder_isInvariantViolation() {
        Kernel k = Kernel.controlled(1);
        RwSemaphore sem = new RwSemaphore(k, "sem");
        Completion held = new Completion(k, "held");
        k.spawnKthread("owner", self -> {
            sem.downRead();
            held.complete();
        });
        k.spawnKthread("thief", self -> {
            held.waitForCompletion();
            sem.upRead();
        });
        Failure.InvariantViolation v = onlyFailure(k.run(), Failure.InvariantViolation.class);
        assertEquals(SimRules.UNLOCK_BY_HOLDER, v.rule());
        assertTrue(v.detail().startsWith("up_read of a rw_semaphore not held for read: "), v.detail());
        assertTrue(v.detail().contains("held for read by owner"), v.detail());
        assertTrue(v.detail().contains("released by thief"), v.detail());
        assertEquals("thief", v.site().task());
    }

    @Test
    void assertHeldWrite_reportsWhenOnlyReadHeld() {
        Kernel k = Kernel.controlled(2);
        RwSemaphore sem = new RwSemaphore(k, "sem");
        k.spawnKthread("t", self -> {
            sem.downRead();
            sem.assertHeld("mmap_assert_locked");
            sem.assertHeldWrite("mmap_assert_write_locked");
        });
        Failure.InvariantViolation v = onlyFailure(k.run(), Failure.InvariantViolation.class);
        assertEquals(SimRules.ASSERT_HELD, v.rule());
        assertTrue(v.detail().startsWith("mmap_assert_write_locked: "), v.detail());
        assertTrue(v.detail().contains("not held for write by t"), v.detail());
    }

    @Test
    void assertHeld_reportsWhenNotHeld() {
        Kernel k = Kernel.controlled(3);
        RwSemaphore sem = new RwSemaphore(k, "sem");
        k.spawnKthread("t", self -> sem.assertHeld("mmap_assert_locked"));
        Failure.InvariantViolation v = onlyFailure(k.run(), Failure.InvariantViolation.class);
        assertEquals(SimRules.ASSERT_HELD, v.rule());
        assertTrue(v.detail().startsWith("mmap_assert_locked: "), v.detail());
        assertTrue(v.detail().contains("sem not held by t"), v.detail());
    }

    @Test
    void asserts_quietWhenWriteHeld() {
        Kernel k = Kernel.controlled(4);
        RwSemaphore sem = new RwSemaphore(k, "sem");
        boolean[] seen = new boolean[2];
        k.spawnKthread("t", self -> {
            sem.downWrite();
            sem.assertHeld("mmap_assert_locked");
            sem.assertHeldWrite("mmap_assert_write_locked");
            seen[0] = sem.heldForWriteByCurrent() && sem.heldByCurrent();
            sem.upWrite();
            seen[1] = sem.heldByCurrent();
        });
        RunResult r = k.run();
        assertTrue(r.clean(), r.failures()::toString);
        assertTrue(seen[0]);
        assertTrue(!seen[1]);
    }
}
