package hmm4j.scenarios.selftest;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.stream.Collectors;
import java.util.stream.LongStream;
import org.junit.jupiter.api.Test;

/**
 * {@code hmm.anon_teardown} over many seeds: each seed is its own schedule of the test's ten
 * 1024-page READs, each against a thread that unmaps half the buffer after a random delay.
 * Every run must pass: a READ that returns 0 saw every page with the right data in one fault
 * round, and no checker found anything. Both ways a READ can end must occur over the seeds
 * (0, and -EFAULT once the unmap won), or the invariant would be checked on one side only.
 * The runs are independent machines and run in parallel.
 */
class AnonTeardownSeedsTest {
    private static final int SEEDS = 100;

    @Test
    void anonTeardown_holdsItsInvariantOnEverySeed() {
        Selftest teardown = HmmTests.all().stream()
                .filter(t -> t.name().equals("hmm.hmm_device_private.anon_teardown")).findFirst().orElseThrow();
        List<SelftestResult> results = LongStream.rangeClosed(1, SEEDS).parallel().boxed()
                .map(seed -> Kselftest.run(teardown, seed)).toList();
        String failures = results.stream().filter(r -> !r.passed())
                .map(r -> "seed " + r.run().seed() + ": " + r.status() + " " + r.reason())
                .collect(Collectors.joining("\n"));
        assertTrue(failures.isEmpty(), failures);

        Map<String, Long> outcomes = new TreeMap<>();
        results.forEach(r -> r.counters().forEach((k, n) -> outcomes.merge(k, n, Long::sum)));
        assertEquals((long) SEEDS * UserSpace.NTIMES, outcomes.values().stream().mapToLong(Long::longValue).sum(),
                outcomes.toString());
        assertTrue(outcomes.getOrDefault("READ returned 0", 0L) > 0, "no READ succeeded: " + outcomes);
        assertTrue(outcomes.getOrDefault("READ returned -14 (-EFAULT)", 0L) > 0, "no READ lost the race: " + outcomes);
    }
}
