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
 * <p>Replay: a failing exploration writes its failure file under
 * {@code target/hmm4j-failures} (or the directory in the system property
 * {@code hmm4j.failures}); running the test with the system property
 * {@code hmm4j.replay=FILE} replays that file instead of exploring.
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
}
