package hmm4j.scenarios;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import hmm4j.drivers.notifier.WholeSpaceMirror;
import hmm4j.kernel.mm.Errno;
import hmm4j.kernel.mm.MmStruct;
import hmm4j.kernel.mm.Mmap;
import hmm4j.kernel.mm.Pte;
import hmm4j.kernel.mm.UserAccess;
import hmm4j.kernel.mm.notifier.MmuIntervalNotifier;
import hmm4j.kernel.sched.Clone;
import hmm4j.kernel.sched.Process;
import hmm4j.sim.Kernel;
import hmm4j.sim.Mark;
import hmm4j.sim.rule.SimRules;
import java.util.List;
import org.junit.jupiter.api.Test;

/** The coverage marks of the clean designs: a check fails when an exploration stops reaching one. */
class MarksTest {
    private static final Budget BUDGET = new Budget(300, 1, 100_000);
    private static final long PAGE = Pte.PAGE_SIZE;

    @Test
    void everyCleanDesign_listsTheMarksItsArgumentRestsOn() {
        for (Scenario s : Catalogue.all()) {
            if (s.expectation().expectsClean()) {
                assertFalse(s.expectation().marks().isEmpty(), s.id() + " lists no marks");
            } else {
                assertTrue(s.expectation().marks().isEmpty(), s.id());
            }
        }
    }

    /**
     * S4's merged design without the unmapper: nothing invalidates while the device works, so
     * the exploration is clean but never reaches the deferred insert and remove, the waiting
     * read_begin or the retry that the design's argument is about.
     */
    @Test
    void aWorkloadThatCannotReachTheListedBranches_isAMismatch_namingTheMissingMarks() {
        Scenario original = Catalogue.byId("S4-whole-space").orElseThrow();
        Scenario blind = new DesignScenario("S4-whole-space-no-unmap", "S4's design, nothing unmapped",
                original.expectation(), k -> Process.spawn(k, "process", self -> {
                    MmStruct mm = MmStruct.of(self);
                    long base = Mmap.mmapAnonymous(mm, 4 * PAGE, Mmap.PROT_READ | Mmap.PROT_WRITE);
                    if (Errno.isError(base) || UserAccess.copyToUser(k, base, new byte[(int) (4 * PAGE)]) != 0) {
                        throw new IllegalStateException("no mapping: " + base);
                    }
                    WholeSpaceMirror mirror = new WholeSpaceMirror(k, mm);
                    Clone.cloneVm(k, "device", t -> {
                        for (int i = 0; i < 2; i++) {
                            mirror.snapshot(base + i * PAGE);
                        }
                        mirror.release();
                    });
                }));
        ScenarioOutcome o = ScenarioRunner.run(blind, BUDGET);
        assertEquals("clean", o.actual());
        assertEquals(List.of(MmuIntervalNotifier.DEFERRED_INSERT, MmuIntervalNotifier.DEFERRED_REMOVE,
                MmuIntervalNotifier.READ_BEGIN_WAITS, MmuIntervalNotifier.READ_RETRY), o.missingMarks());
        assertFalse(o.asExpected());
        assertEquals("0/4 marks", o.marksLine().orElseThrow());

        ScenarioOutcome real = ScenarioRunner.run(original, BUDGET);
        assertTrue(real.asExpected(), () -> "missing " + real.missingMarks());
        assertEquals("4/4 marks", real.marksLine().orElseThrow());
    }

    /** A listed mark whose call site is gone (here: one no code hits) fails the same design. */
    @Test
    void aListedMarkNoCodeHits_isAMismatch() {
        Mark removed = Mark.of("test.removed.call", "a branch whose mark call was removed");
        Scenario s = Catalogue.byId("S3c-interval-trylock").orElseThrow();
        Scenario withRemoved = new DesignScenario(s.id(), s.title(),
                s.expectation().reaching(removed), s::setUp);
        ScenarioOutcome o = ScenarioRunner.run(withRemoved, BUDGET);
        assertEquals("clean", o.actual());
        assertEquals(List.of(removed), o.missingMarks());
        assertFalse(o.asExpected());
        assertEquals("2/3 marks", o.marksLine().orElseThrow());
    }

    @Test
    void expectation_marksAreForCleanDesignsOnly_listedOnce_andKeptWhenPending() {
        Mark a = Mark.of("test.expect.a", "a");
        assertThrows(IllegalArgumentException.class, () -> Expectation.finds(SimRules.DEADLOCK_FREE).reaching(a));
        assertThrows(IllegalArgumentException.class, () -> Expectation.clean().reaching(a, a));
        Expectation e = Expectation.clean().reaching(a).pendingBecause("later");
        assertEquals(List.of(a), e.marks());
        assertTrue(Expectation.clean().marks().isEmpty());
        assertEquals(new Expectation(null, null), Expectation.clean());
    }
}
