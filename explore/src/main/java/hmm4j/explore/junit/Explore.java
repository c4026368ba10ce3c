package hmm4j.explore.junit;

import java.lang.annotation.Documented;
import java.lang.annotation.ElementType;
import java.lang.annotation.Retention;
import java.lang.annotation.RetentionPolicy;
import java.lang.annotation.Target;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * A JUnit 5 test explored under controlled scheduling. The method is the set-up of one run:
 * it receives a fresh controlled {@code Kernel} (and, if it asks, the
 * {@code ExplorationContext}), creates model objects and spawns tasks; it does not run the
 * kernel. The explorer calls it once per run and runs the kernel, and the test fails with
 * the text report of the first failing interleaving and the command that replays it:
 *
 * <pre>{@code
 * @Explore(runs = 500)
 * void counterIsNotLost(Kernel k) {
 *     AtomicT count = new AtomicT(k, "count", 0);
 *     for (int i = 0; i < 2; i++) {
 *         k.spawnKthread("worker" + i, self -> count.inc());
 *     }
 *     k.atQuiescence("count is 2", () -> { if (count.peek() != 2) k.report(...); });
 * }
 * }</pre>
 *
 * <p>The method is called for many kernels, possibly from several threads at once: keep
 * per-run state in local variables or on the kernel, not in fields of the test class.
 * {@code @BeforeEach} and {@code @AfterEach} run once around the whole exploration.
 *
 * <p>A passing test prints one line on standard output and publishes it, with its parts, as
 * JUnit report entries: {@code hmm4j explore T: 500 runs, no failure, marks hit 2: ...;
 * strategy portfolio, seeds 1..500}. Surefire and Gradle keep standard output in the JUnit
 * XML ({@code <system-out>}); IDEs show the report entries.
 *
 * <p>A failing exploration writes its failure file {@code X.json} under
 * {@code target/hmm4j-failures} (or the directory in the system property
 * {@code hmm4j.failures}) and next to it the HTML timeline {@code X.html}, the Perfetto trace
 * {@code X.trace.json} and the text report of the minimised run {@code X.minimal.txt}; the
 * test fails with the verdict, the minimisation, the failure file, the replay command and
 * the minimised run's report.
 *
 * <p>Replay: running the test with the system property {@code hmm4j.replay=FILE} replays that
 * file instead of exploring. The file must be this test's (another test's is a configuration
 * error); a file whose failure no longer happens (the design was fixed, or the test changed)
 * fails the test saying so: delete it or re-explore.
 *
 * <p>A known-bad design: {@code @Explore(expect = "mm.pin")} passes when the exploration finds
 * a failure of that rule (or, with a failure kind's name such as {@code USE_AFTER_FREE}, of
 * that kind), and fails when it finds none within the budget or one for another reason.
 */
@Documented
@Retention(RetentionPolicy.RUNTIME)
@Target(ElementType.METHOD)
@Test
@ExtendWith(ExploreExtension.class)
public @interface Explore {

    /** The strategy: {@code random}, {@code pct[:D]}, {@code pos}, {@code dfs[:K]} or {@code portfolio}. */
    String strategy() default "portfolio";

    /** Runs to explore. */
    int runs() default 1000;

    /** Seed of the first run; run {@code r} has seed {@code seed + r}. */
    long seed() default 1;

    /** Wall-clock budget such as {@code 10s}, {@code 500ms}, {@code 2m} or {@code PT30S}; empty for none. */
    String timeBudget() default "";

    /** Scheduling decisions allowed per run; exceeding it is reported as a livelock. */
    long maxSteps() default 100_000;

    /** Worker threads; 0 for one per available processor. */
    int workers() default 0;

    /**
     * The failure this design must be caught with: a rule id such as {@code mm.pin}, or a
     * failure kind's name such as {@code USE_AFTER_FREE} ({@code hmm4j.sim.failure.FailureKind});
     * empty (the default) for a design that must explore clean. Any other value is a
     * configuration error.
     */
    String expect() default "";
}
