package hmm4j.sim;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import hmm4j.sim.report.TextReport;
import hmm4j.sim.sync.Mutex;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * Notes ({@link Kernel#note}): labels for the pictures that go on the noting task's last
 * trace event (or its first, when it had none yet), take no scheduling point, change no
 * decision, and appear neither in the event's value nor in the text report.
 */
class TraceNotesTest {

    /** Two tasks contending on a mutex; {@code noting} says whether they make notes. */
    private static RunResult run(long seed, boolean noting) {
        Kernel k = Kernel.controlled(seed);
        Mutex m = new Mutex(k, "m");
        for (String name : List.of("a", "b")) {
            k.spawnKthread(name, self -> {
                if (noting) {
                    k.note(name + ": before any event");
                }
                m.lock();
                if (noting) {
                    k.note(name + ": register");
                    k.note(name + ": second");
                }
                TestOps.point(k, "work");
                m.unlock();
            });
        }
        return k.run();
    }

    @Test
    void notes_goOnTheTasksLastEvent_orItsFirstWhenItHadNone() {
        RunResult r = run(3, true);
        assertTrue(r.clean(), r.failures().toString());
        for (String task : List.of("a", "b")) {
            List<TraceEvent> mine = r.trace().stream().filter(e -> e.task().equals(task)).toList();
            assertEquals(task + ": before any event", mine.get(0).notes().get(0), task + "'s first event");
            List<String> all = mine.stream().flatMap(e -> e.notes().stream()).toList();
            assertEquals(List.of(task + ": before any event", task + ": register", task + ": second"), all);
            TraceEvent carrier = mine.stream().filter(e -> e.notes().contains(task + ": register")).findFirst()
                    .orElseThrow();
            assertTrue(carrier.notes().contains(task + ": second"), "both notes of one stretch on one event");
            TraceEvent next = mine.get(mine.indexOf(carrier) + 1);
            assertEquals("work", next.op(), "the notes are on the last event before the stretch that made them");
        }
    }

    @Test
    void notes_changeNoDecision_noValue_andNoTextReport() {
        for (long seed = 1; seed <= 20; seed++) {
            RunResult with = run(seed, true);
            RunResult without = run(seed, false);
            assertEquals(without.decisions(), with.decisions(), "seed " + seed);
            assertEquals(without.steps(), with.steps(), "seed " + seed);
            assertEquals(without.trace(), with.trace(), "seed " + seed + ": notes are not part of an event's value");
            assertEquals(TextReport.render(without), TextReport.render(with), "seed " + seed);
            assertTrue(with.trace().stream().anyMatch(e -> !e.notes().isEmpty()));
            assertTrue(without.trace().stream().allMatch(e -> e.notes().isEmpty()));
        }
    }

    @Test
    void notes_withoutATrace_orOutsideATask_areDropped() {
        Kernel k = Kernel.builder().trace(false).build();
        k.note("set-up code");
        k.spawnKthread("t", self -> k.note("no trace"));
        RunResult r = k.run();
        assertTrue(r.clean());
        assertTrue(r.trace().isEmpty());
        Kernel traced = Kernel.controlled(1);
        traced.note("set-up code, outside any task");
        traced.spawnKthread("t", self -> TestOps.point(traced, "op"));
        assertTrue(traced.run().trace().stream().allMatch(e -> e.notes().isEmpty()));
    }
}
