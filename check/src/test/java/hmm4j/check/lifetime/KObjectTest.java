package hmm4j.check.lifetime;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import hmm4j.check.Checkers;
import hmm4j.sim.Kernel;
import hmm4j.sim.RunResult;
import hmm4j.sim.Task;
import hmm4j.sim.failure.Failure;
import hmm4j.sim.failure.Failure.RefcountProblem;
import hmm4j.sim.sync.Cell;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/** Poisoning on free, use-after-free and double-free reports, leak checks and live counts. */
class KObjectTest {

    private static Kernel kernel(long seed) {
        Kernel k = Kernel.controlled(seed);
        Checkers.install(k);
        return k;
    }

    @Test
    void useAfterFree_byAnotherTask_isReportedWithAllocFreeAndAccessSites() {
        Kernel k = kernel(1);
        k.spawnKthread("owner", self -> {
            Buffer buf = new Buffer(k, "buf#1");
            buf.setValue(42);
            Task freer = k.spawnKthread("freer", t -> buf.kfree());
            freer.join();
            Task user = k.spawnKthread("user", t -> buf.value());
            user.join();
        });
        RunResult r = k.run();
        assertEquals(1, r.failures().size(), r.failures().toString());
        Failure.UseAfterFree f = assertInstanceOf(Failure.UseAfterFree.class, r.failures().get(0));
        assertEquals("buf#1", f.object());
        assertEquals("read buf#1->value", f.access());
        assertEquals("owner", f.allocated().task());
        assertEquals("freer", f.freed().task());
        assertEquals("user", f.site().task());
        assertTrue(f.allocated().where().startsWith("Buffer.<init>(Buffer.java:"), f.allocated().toString());
        assertTrue(f.allocated().frames().stream().noneMatch(s -> s.startsWith("KObject.") || s.startsWith("Sanitizer.")),
                "the sanitizer's own frames are hidden: " + f.allocated());
        assertTrue(f.allocated().frames().get(1).startsWith("KObjectTest.lambda$"), f.allocated().frames().toString());
        assertTrue(f.freed().where().startsWith("KObjectTest.lambda$"), f.freed().toString());
        assertTrue(f.site().where().startsWith("Buffer.value(Buffer.java:"), f.site().toString());
        assertTrue(f.site().frames().stream().anyMatch(s -> s.startsWith("KObjectTest.lambda$")),
                f.site().frames().toString());
        assertTrue(f.allocated().step() < f.freed().step() && f.freed().step() < f.site().step());
    }

    @Test
    void accessRacingWithFree_isCaughtOnlyOnSchedulesWhereTheFreeWins() {
        int clean = 0;
        int caught = 0;
        for (long seed = 0; seed < 60; seed++) {
            Kernel k = kernel(seed);
            Buffer buf = new Buffer(k, "buf");
            k.spawnKthread("freer", t -> buf.kfree());
            k.spawnKthread("user", t -> buf.setValue(1));
            RunResult r = k.run();
            if (r.clean()) {
                clean++;
            } else {
                Failure.UseAfterFree f = assertInstanceOf(Failure.UseAfterFree.class, r.failures().get(0));
                assertEquals("<main>", f.allocated().task());
                assertEquals("user", f.site().task());
                caught++;
            }
        }
        assertTrue(clean > 0 && caught > 0, "clean " + clean + ", caught " + caught);
    }

    @Test
    void doubleFree_isReportedWithTheFirstFree() {
        Kernel k = kernel(2);
        Buffer buf = new Buffer(k, "buf");
        k.spawnKthread("first", t -> buf.kfree());
        k.spawnKthread("second", t -> {
            k.runtime().sleep(1_000);
            buf.kfree();
        });
        RunResult r = k.run();
        Failure.UseAfterFree f = assertInstanceOf(Failure.UseAfterFree.class, r.firstFailure().orElseThrow());
        assertEquals("kfree (double-free)", f.access());
        assertEquals("first", f.freed().task());
        assertEquals("second", f.site().task());
    }

    @Test
    void liveObject_notFreedAtTheEnd_isALeak_butFreedOneIsNot() {
        Kernel k = kernel(3);
        Buffer leaked = new Buffer(k, "leaked");
        Buffer freed = new Buffer(k, "freed");
        Buffer unmarked = new Buffer(k, "unmarked");
        leaked.expectFreedAtQuiescence();
        freed.expectFreedAtQuiescence();
        k.spawnKthread("t", self -> freed.kfree());
        RunResult r = k.run();
        assertEquals(1, r.failures().size(), r.failures().toString());
        Failure.RefcountError e = assertInstanceOf(Failure.RefcountError.class, r.failures().get(0));
        assertEquals("leaked", e.object());
        assertEquals(RefcountProblem.LEAK, e.problem());
        assertTrue(e.detail().contains("(Buffer) never freed; allocated by <main>"), e.detail());
        assertEquals("<end of run>", e.site().task());
        assertTrue(e.site().frames().isEmpty(), e.site().frames().toString());
        assertFalse(unmarked.isFreed());
    }

    @Test
    void sanitizer_countsLiveObjectsByType() {
        Kernel k = kernel(4);
        List<Long> counts = new ArrayList<>();
        k.spawnKthread("t", self -> {
            Buffer a = new Buffer(k, "a");
            new Buffer(k, "b");
            new Other(k, "o");
            Sanitizer s = Sanitizer.of(k);
            counts.add((long) s.liveCount(Buffer.class));
            a.kfree();
            counts.add((long) s.liveCount(Buffer.class));
            counts.add((long) s.liveCount(KObject.class));
            counts.add(s.allocations());
            counts.add(s.frees());
            assertEquals(List.of("b", "o"), s.liveObjects().stream().map(KObject::name).toList());
            assertEquals(java.util.Map.of("Buffer", 1, "Other", 1), s.liveCountsByType());
        });
        RunResult r = k.run();
        assertTrue(r.clean(), r.failures().toString());
        assertEquals(List.of(2L, 1L, 2L, 3L, 1L), counts);
    }

    @Test
    void stateAndSites_followTheLifecycle() {
        Kernel k = kernel(5);
        Buffer buf = new Buffer(k, "buf");
        assertEquals(KObject.State.LIVE, buf.state());
        assertNull(buf.freeSite());
        Cell<KObject.State> after = new Cell<>(k, "after", null);
        k.spawnKthread("t", self -> {
            buf.kfree();
            after.writeOnce(buf.state());
        });
        assertTrue(k.run().clean());
        assertEquals(KObject.State.FREED, after.peek());
        assertEquals("t", buf.freeSite().task());
        assertEquals("buf (freed)", buf.toString());
    }

    /** A second object type for the per-type counts. */
    private static final class Other extends KObject {
        Other(Kernel kernel, String name) {
            super(kernel, name);
        }
    }

    @Test
    void severalLeaks_areReportedInAllocationOrder_onEveryRun() {
        // Names out of alphabetical order, and more objects than an identity-hash order
        // would put back in allocation order by chance.
        List<String> names = List.of("m", "c", "x", "a", "q", "f", "z", "b", "k", "e", "t", "h");
        for (long seed = 1; seed <= 3; seed++) {
            Kernel k = kernel(seed);
            List<String> expected = new ArrayList<>();
            for (int i = 0; i < names.size(); i++) {
                Buffer b = new Buffer(k, names.get(i));
                b.expectFreedAtQuiescence();
                if (i % 4 == 1) {
                    k.spawnKthread("free " + b.name(), self -> b.kfree());
                } else {
                    expected.add(b.name());
                }
            }
            RunResult r = k.run();
            List<String> reported = r.failures().stream()
                    .map(f -> assertInstanceOf(Failure.RefcountError.class, f).object()).toList();
            assertEquals(expected, reported, "seed " + seed);
        }
    }
}
