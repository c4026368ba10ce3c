package hmm4j.cli;

import java.util.LinkedHashMap;
import java.util.Map;

/**
 * The exit-code contract of every {@code hmm4j} command, and its text in each command's
 * {@code --help}:
 * <ul>
 *   <li>{@value #CLEAN}: the work ran and found nothing wrong (every verdict as expected,
 *       no failure, the recorded failure reproduced);</li>
 *   <li>{@value #FOUND}: a failure was found (a mismatch, a failing run or test, a replay that
 *       diverged, an incomplete shard set), or hmm4j itself failed;</li>
 *   <li>{@value #USAGE}: bad input: a wrong option or argument, a missing or unusable file;
 *       nothing was run;</li>
 *   <li>{@value #NOTHING_RAN}: the arguments were fine but there was nothing to run (every
 *       selected scenario pending, every selected test skipped), as kselftest's skip code.</li>
 * </ul>
 */
final class ExitCodes {
    /** Ran, found nothing wrong. */
    static final int CLEAN = 0;
    /** Found a failure (or hmm4j failed). */
    static final int FOUND = 1;
    /** Bad input or unusable file; nothing ran. */
    static final int USAGE = 2;
    /** Nothing ran: everything selected was skipped or pending. */
    static final int NOTHING_RAN = 4;

    private ExitCodes() {
    }

    /** The exit-status lines of the command named {@code name} ({@code hmm4j} for the top level). */
    static Map<String, String> of(String name) {
        Map<String, String> m = new LinkedHashMap<>();
        switch (name) {
            case "check" -> {
                m.put(" " + CLEAN, "every verdict is the expected one");
                m.put(" " + FOUND, "a verdict differs from its expectation (MISMATCH)");
                m.put(" " + NOTHING_RAN, "nothing ran: every selected scenario is pending");
            }
            case "explore" -> {
                m.put(" " + CLEAN, "no failure found");
                m.put(" " + FOUND, "a failure found (failure file written); 0 with --exit-zero-on-failure");
            }
            case "replay" -> {
                m.put(" " + CLEAN, "the recorded failure was reproduced");
                m.put(" " + FOUND, "the replay diverged or gave another verdict");
            }
            case "merge" -> {
                m.put(" " + CLEAN, "no shard found a failure");
                m.put(" " + FOUND, "a shard found a failure, or shards are missing (see --allow-partial)");
            }
            case "selftest" -> {
                m.put(" " + CLEAN, "no test failed");
                m.put(" " + FOUND, "a test failed");
                m.put(" " + NOTHING_RAN, "nothing ran: every selected test was skipped");
            }
            case "bench" -> {
                m.put(" " + CLEAN, "the benchmarks ran (a missed target is reported, not an error)");
                m.put(" " + FOUND, "the benchmarks failed");
            }
            case "list" -> m.put(" " + CLEAN, "the catalogue was listed");
            default -> {
                m.put(" " + CLEAN, "clean: nothing wrong found");
                m.put(" " + FOUND, "a failure found (or hmm4j itself failed)");
            }
        }
        m.put(" " + USAGE, name.equals("explore")
                ? "bad input: wrong option or argument, --shard auto outside a batch engine; nothing ran"
                : name.equals("replay") || name.equals("merge") || name.equals("bench")
                ? "bad input: wrong option, missing or unusable file; nothing ran"
                : "bad input: wrong option or argument, unusable file; nothing ran");
        if (!m.containsKey(" " + NOTHING_RAN) && name.equals("hmm4j")) {
            m.put(" " + NOTHING_RAN, "nothing ran (every selected scenario pending or test skipped)");
        }
        return sorted(m);
    }

    private static Map<String, String> sorted(Map<String, String> m) {
        Map<String, String> s = new LinkedHashMap<>();
        m.entrySet().stream().sorted(Map.Entry.comparingByKey()).forEach(e -> s.put(e.getKey(), e.getValue()));
        return s;
    }
}
