package com.example.mydriver;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import hmm4j.check.Checkers;
import hmm4j.explore.ExploreOptions;
import hmm4j.explore.ExploreTarget;
import hmm4j.explore.Explorer;
import hmm4j.explore.FoundFailure;
import hmm4j.explore.ReplayResult;
import hmm4j.explore.junit.Explore;
import hmm4j.sim.Kernel;
import hmm4j.sim.rule.SimRules;
import hmm4j.testkit.ExploreAssertions;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A user's tests of {@link WorkerDriver}: the fixed driver explored with {@code @Explore}
 * (the test passes when no interleaving of 500 runs breaks a rule), and the buggy one
 * declared known-bad with {@code @Explore(expect = "mm.pin")}: the test passes only when the
 * exploration catches it for the rule {@code mm.pin} (an address space used without
 * {@code mmget}); not caught within the budget, or caught for another rule, fails it. A
 * plain test checks through the explorer's API that the buggy driver's failure file replays
 * to the same failure.
 */
class WorkerDriverTest {
    /** The fixed driver: every explored interleaving is clean. */
    @Explore(runs = 500)
    void fixedWorkerCopiesTheBuffer(Kernel k) {
        Checkers.install(k);                 // lockdep + the lifetime sanitizer
        WorkerDriver.fixed(k);
    }

    /** The buggy driver is a known-bad design: it must be caught, for the rule mm.pin. */
    @Explore(runs = 500, expect = "mm.pin")
    void buggyWorkerIsCaughtUsingTheAddressSpaceWithoutMmget(Kernel k) {
        Checkers.install(k);
        WorkerDriver.buggy(k);
    }

    /** The buggy driver's failure file replays to the same failure. */
    @Test
    void buggyWorkersFailureFileReplays(@TempDir Path out) {
        ExploreTarget buggy = ExploreTarget.of("my-driver-buggy", (k, ctx) -> {
            Checkers.install(k);
            WorkerDriver.buggy(k);
        });
        FoundFailure found = ExploreAssertions.assertFinds(buggy,
                ExploreOptions.defaults().withRuns(500).withOutDir(out), SimRules.PIN);

        Path file = found.file().orElseThrow();
        assertTrue(Files.isRegularFile(file), "the failure file is written: " + file);
        ReplayResult replay = Explorer.replay(file, buggy);
        assertTrue(replay.reproduced(), () -> "the failure file replays: " + replay.verdictLine());
        assertEquals(SimRules.PIN.id(), replay.run().firstFailure().orElseThrow().rule().id());
    }
}
