package hmm4j.explore.junit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.platform.engine.discovery.DiscoverySelectors.selectClass;
import static org.junit.platform.engine.discovery.DiscoverySelectors.selectMethod;

import hmm4j.explore.ExplorationContext;
import hmm4j.sim.Kernel;
import hmm4j.sim.failure.Failure;
import hmm4j.sim.failure.FailureKind;
import hmm4j.sim.rule.Rule;
import hmm4j.sim.sync.Cell;
import hmm4j.sim.sync.Mutex;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.platform.testkit.engine.EngineExecutionResults;
import org.junit.platform.testkit.engine.EngineTestKit;
import org.junit.platform.testkit.engine.Event;

/**
 * Runs explored test classes through the JUnit engine and checks how they end. The classes
 * under test are nested and static, so the build's test run never picks them up itself.
 */
class ExploreExtensionTest {
    private static final Rule LOST_UPDATE = Rule.own("test.lost-update", FailureKind.INVARIANT_VIOLATION, "lost update");

    @TempDir
    Path dir;

    @AfterEach
    void clearProperties() {
        System.clearProperty(ExploreExtension.FAILURES_PROPERTY);
        System.clearProperty(ExploreExtension.REPLAY_PROPERTY);
    }

    /** A driver developer's tests: one racy counter, one correct one. */
    static class DriverTests {
        static final AtomicInteger CALLS = new AtomicInteger();

        @Explore(runs = 200, workers = 2)
        void racyCounter(Kernel k) {
            CALLS.incrementAndGet();
            Cell<Integer> count = new Cell<>(k, "count", 0);
            for (int i = 0; i < 2; i++) {
                k.spawnKthread("irq" + i, self -> count.writeOnce(count.readOnce() + 1));
            }
            k.atQuiescence("no lost update", () -> {
                if (count.peek() != 2) {
                    k.report(new Failure.InvariantViolation(LOST_UPDATE, "count is " + count.peek(), k.site()));
                }
            });
        }

        @Explore(runs = 50, strategy = "pct:2", seed = 7)
        void lockedCounter(Kernel k, ExplorationContext ctx) {
            Mutex m = new Mutex(k, "lock");
            Cell<Integer> count = new Cell<>(k, "count", 0);
            for (int i = 0; i < 2; i++) {
                k.spawnKthread("irq" + i, self -> {
                    m.lock();
                    count.writeOnce(count.readOnce() + 1);
                    m.unlock();
                });
            }
        }

        @Explore(strategy = "sideways")
        void badStrategy(Kernel k) {
        }
    }

    private EngineExecutionResults run(String method, Class<?>... params) {
        return EngineTestKit.engine("junit-jupiter").selectors(selectMethod(DriverTests.class, method,
                Stream.of(params).map(Class::getName).reduce((a, b) -> a + "," + b).orElse(""))).execute();
    }

    private static Throwable failureOf(EngineExecutionResults r) {
        List<Event> failed = r.testEvents().failed().list();
        assertEquals(1, failed.size(), "one failing test");
        return failed.get(0).getPayload(org.junit.platform.engine.TestExecutionResult.class).orElseThrow()
                .getThrowable().orElseThrow();
    }

    @Test
    void racyTest_failsWithTheReportAndTheReplayCommand() {
        System.setProperty(ExploreExtension.FAILURES_PROPERTY, dir.toString());
        DriverTests.CALLS.set(0);
        Throwable t = failureOf(run("racyCounter", Kernel.class));
        assertTrue(t instanceof AssertionError, t.toString());
        String report = t.getMessage();
        assertTrue(report.startsWith("hmm4j explore hmm4j.explore.junit.ExploreExtensionTest$DriverTests#racyCounter: "
                + "FAIL invariant violated: lost update"), report);
        assertTrue(report.contains("  replay: mvn test -Dtest='DriverTests#racyCounter' -Dhmm4j.replay=" + dir), report);
        assertTrue(report.contains("\n\nFAIL invariant violated: lost update\n"), "the text report follows:\n" + report);
        assertTrue(report.contains("irq0") && report.contains("irq1"), "the swimlanes of the run:\n" + report);
        assertTrue(DriverTests.CALLS.get() > 1, "the method is the set-up of every run");
    }

    @Test
    void replayProperty_replaysTheRecordedFailure() throws Exception {
        System.setProperty(ExploreExtension.FAILURES_PROPERTY, dir.toString());
        failureOf(run("racyCounter", Kernel.class));
        Path file;
        try (Stream<Path> files = Files.list(dir)) {
            file = files.filter(p -> p.toString().endsWith(".json")).findFirst().orElseThrow();
        }
        System.setProperty(ExploreExtension.REPLAY_PROPERTY, file.toString());
        DriverTests.CALLS.set(0);
        Throwable t = failureOf(run("racyCounter", Kernel.class));
        assertTrue(t.getMessage().startsWith("hmm4j replay " + file + ": REPRODUCED invariant violated: lost update"),
                t.getMessage());
        assertEquals(1, DriverTests.CALLS.get(), "a replay is one run");
    }

    @Test
    void correctTest_passes() {
        EngineExecutionResults r = run("lockedCounter", Kernel.class, ExplorationContext.class);
        r.testEvents().assertStatistics(s -> s.started(1).succeeded(1).failed(0));
    }

    @Test
    void unknownStrategy_isAConfigurationError() {
        Throwable t = failureOf(run("badStrategy", Kernel.class));
        assertTrue(t.getMessage().contains("unknown strategy 'sideways'"), t.getMessage());
    }

    @Test
    void wholeClass_oneFailsTwoOthersAsExpected() {
        System.setProperty(ExploreExtension.FAILURES_PROPERTY, dir.toString());
        EngineExecutionResults r = EngineTestKit.engine("junit-jupiter").selectors(selectClass(DriverTests.class)).execute();
        r.testEvents().assertStatistics(s -> s.started(3).succeeded(1).failed(2));
    }

    @Test
    void timeBudget_parses() throws Exception {
        var m = DriverTests.class.getDeclaredMethod("racyCounter", Kernel.class);
        assertEquals(java.time.Duration.ofMillis(500), ExploreExtension.parseDuration("500ms", m));
        assertEquals(java.time.Duration.ofSeconds(10), ExploreExtension.parseDuration("10s", m));
        assertEquals(java.time.Duration.ofMinutes(2), ExploreExtension.parseDuration("2m", m));
        assertEquals(java.time.Duration.ofSeconds(30), ExploreExtension.parseDuration("PT30S", m));
        assertEquals(null, ExploreExtension.parseDuration("", m));
    }
}
