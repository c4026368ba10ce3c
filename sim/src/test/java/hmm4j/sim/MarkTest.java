package hmm4j.sim;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import hmm4j.sim.sync.Cell;
import hmm4j.sim.sync.Mutex;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

class MarkTest {
    private static final Mark RACED = Mark.of("test.counter.raced", "a reader saw the other task's write");
    private static final Mark ALONE = Mark.of("test.counter.alone", "a reader saw its own value");
    private static final Mark NEVER = Mark.of("test.never", "a branch no task takes");

    /** Two tasks increment a cell; each marks whether it saw the other's write. */
    private static RunResult race(long seed, boolean marks) {
        Kernel k = Kernel.controlled(seed);
        Cell<Integer> c = new Cell<>(k, "c", 0);
        for (int i = 0; i < 2; i++) {
            k.spawnKthread("t" + i, self -> {
                int v = c.readOnce();
                if (marks) {
                    k.mark(v == 0 ? ALONE : RACED);
                }
                c.writeOnce(v + 1);
            });
        }
        return k.run();
    }

    @Test
    void markedBranches_areInTheRunResult_orderedById_once() {
        List<Mark> seen = new ArrayList<>();
        for (long seed = 0; seed < 40; seed++) {
            RunResult r = race(seed, true);
            assertTrue(r.hit(ALONE), "the first reader always sees 0");
            assertFalse(r.hit(NEVER));
            assertEquals(r.marks().stream().sorted(Mark.BY_ID).toList(), r.marks());
            assertEquals(r.marks().stream().distinct().count(), r.marks().size());
            r.marks().stream().filter(m -> !seen.contains(m)).forEach(seen::add);
        }
        assertTrue(seen.contains(RACED), "some seed makes both read 0 or the second read 1: " + seen);
    }

    @Test
    void marks_doNotChangeAnySchedulingDecision() {
        for (long seed = 0; seed < 40; seed++) {
            RunResult with = race(seed, true);
            RunResult without = race(seed, false);
            assertEquals(without.decisions(), with.decisions(), "seed " + seed);
            assertEquals(without.steps(), with.steps());
            assertTrue(without.marks().isEmpty());
        }
    }

    @Test
    void manyMarks_growTheTable_andAllAreKept() {
        List<Mark> many = new ArrayList<>();
        for (int i = 0; i < 100; i++) {
            many.add(Mark.of("test.many.m" + i, "mark " + i));
        }
        Kernel k = Kernel.controlled(3);
        k.spawnKthread("marker", self -> {
            for (int round = 0; round < 3; round++) {
                many.forEach(k::mark);
            }
        });
        RunResult r = k.run();
        assertEquals(many.stream().sorted(Mark.BY_ID).toList(), r.marks());
    }

    @Test
    void marksHitAtQuiescence_andByMarkHit_areKept() {
        Kernel k = Kernel.controlled(1);
        k.spawnKthread("t", self -> RACED.hit(k));
        k.atQuiescence("marks alone", () -> k.mark(ALONE));
        RunResult r = k.run();
        assertEquals(List.of(ALONE, RACED), r.marks());
        assertEquals(r.marks(), k.marksHit());
    }

    @Test
    @Timeout(value = 60, unit = TimeUnit.SECONDS)
    void nativeRuntime_realThreadsHittingTheSameMarks_recordEachOnce() {
        Kernel k = Kernel.nativeRuntime();
        List<Mark> marks = new ArrayList<>();
        for (int i = 0; i < 40; i++) {
            marks.add(Mark.of("test.native.m" + i, "mark " + i));
        }
        Mutex m = new Mutex(k, "m");
        for (int t = 0; t < 4; t++) {
            k.spawnKthread("t" + t, self -> {
                for (int j = 0; j < 200; j++) {
                    k.mark(marks.get(j % marks.size()));
                    if (j % 50 == 0) {
                        m.lock();
                        m.unlock();
                    }
                }
            });
        }
        RunResult r = k.run();
        assertTrue(r.clean(), r.failures()::toString);
        assertEquals(marks.stream().sorted(Mark.BY_ID).toList(), r.marks());
    }

    @Test
    void ids_areDottedLowerCaseWords_andStatementsOneLine() {
        assertEquals("mn.interval.deferred-insert",
                Mark.of("mn.interval.deferred-insert", "an insert was deferred").id());
        for (String bad : new String[] {"nodot", "Upper.case", "a..b", ".a.b", "a.b.", "a b.c", "a.b c"}) {
            assertThrows(IllegalArgumentException.class, () -> Mark.of(bad, "statement"), bad);
        }
        assertThrows(IllegalArgumentException.class, () -> Mark.of("a.b", " "));
        assertThrows(IllegalArgumentException.class, () -> Mark.of("a.b", "two\nlines"));
        assertEquals("test.never", NEVER.toString());
        assertEquals("a branch no task takes", NEVER.statement());
    }

    @Test
    void oldRunResultConstructor_meansNoMarks() {
        RunResult r = new RunResult(1, "s", List.of(), 0, 0, List.of(), List.of(), java.util.Optional.empty(),
                List.of());
        assertTrue(r.marks().isEmpty());
        assertEquals(List.of(ALONE, RACED), r.withMarks(List.of(RACED, ALONE, RACED)).marks());
    }
}
