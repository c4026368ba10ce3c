package hmm4j.cli;

import hmm4j.scenarios.selftest.HmmTests;
import hmm4j.scenarios.selftest.Kselftest;
import hmm4j.scenarios.selftest.Selftest;
import hmm4j.scenarios.selftest.SelftestResult;
import hmm4j.scenarios.selftest.Tap;
import java.io.PrintWriter;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Objects;
import java.util.Set;
import java.util.concurrent.Callable;
import java.util.function.BiFunction;
import java.util.function.Supplier;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.Spec;

/**
 * {@code hmm4j selftest}: runs the port of the kernel's HMM selftests
 * (tools/testing/selftests/mm/hmm-tests.c) against the dmirror device of the model and
 * prints kselftest-style TAP: the plan, one {@code ok}/{@code not ok} line per test as each
 * finishes (skips with their reason), the diagnostics of a failure as {@code # } lines, and
 * the totals. Exit code 0 iff no test failed and one at least ran, 4 (kselftest's skip code)
 * when every selected test was skipped; see {@link ExitCodes}.
 *
 * <p>Tests run {@code --jobs} at a time (default 1: on two cores more gained nothing, see
 * docs/selftests.md), each on its own
 * machine ({@link TestRunner}); a test's result depends only on its seed, and the lines are
 * printed in the suite's order as soon as every test before them has finished, so the output
 * is the same for any number of jobs.
 */
@Command(name = "selftest",
        mixinStandardHelpOptions = true,
        versionProvider = VersionProvider.class,
        description = {
            "Run the kernel's HMM selftests (hmm-tests.c) against the model's dmirror device.",
            "Each test runs in a process on a fresh deterministic machine with the checkers",
            "installed; a failed assertion or any checker failure fails it. Output is TAP",
            "as kselftest prints it.",
            ""
        },
        footer = {
            "",
            "Tests are named fixture.variant.test (hmm.hmm_device_private.anon_read); --only",
            "also takes fixture.test (every variant) or the bare test name.",
            "",
            "Examples:",
            "  hmm4j selftest",
            "  hmm4j selftest --only anon_teardown --seed 7",
            "  hmm4j selftest --list"
        })
final class SelftestCommand implements Callable<Integer> {
    private final Supplier<List<Selftest>> suite;
    private final BiFunction<Selftest, Long, SelftestResult> runner;

    @Spec
    private CommandSpec spec;

    @Option(names = "--only", split = ",", paramLabel = "NAME",
            description = "Run only these tests (comma-separated names).")
    private List<String> only;

    @Option(names = "--seed", paramLabel = "S",
            description = "Seed of every test's machine (default: ${DEFAULT-VALUE}).")
    private long seed = Kselftest.DEFAULT_SEED;

    @Option(names = "--jobs", paramLabel = "N",
            description = "Tests run at once, each on its own machine (default: 1; at most one test with a "
                    + "longer TEST_F_TIMEOUT at a time). The output is the same for any N.")
    private Integer jobs;

    @Option(names = "--list", description = "List the selected tests, one name per line, and exit.")
    private boolean list;

    /** The command over {@link HmmTests#all()} and {@link Kselftest#run}. */
    SelftestCommand() {
        this(HmmTests::all, Kselftest::run);
    }

    /** The command over another suite and runner (for tests). */
    SelftestCommand(Supplier<List<Selftest>> suite, BiFunction<Selftest, Long, SelftestResult> runner) {
        this.suite = Objects.requireNonNull(suite);
        this.runner = Objects.requireNonNull(runner);
    }

    /** Runs (or lists) the selected tests; 1 if one failed, else 4 if all were skipped, else 0. */
    @Override
    public Integer call() {
        List<Selftest> selected = select(suite.get());
        PrintWriter out = spec.commandLine().getOut();
        if (list) {
            selected.forEach(t -> out.println(t.name()));
            out.flush();
            return 0;
        }
        Tap.header(selected.size()).forEach(out::println);
        out.flush();
        int n = jobs == null ? 1 : jobs;
        if (n < 1) {
            throw new ParameterException(spec.commandLine(), "--jobs must be at least 1, got " + n);
        }
        List<SelftestResult> results = new ArrayList<>(selected.size());
        TestRunner.run(selected, t -> runner.apply(t, seed), n, r -> {
            results.add(r);
            Tap.lines(results.size(), r).forEach(out::println);
            out.flush();
        });
        out.println(Tap.totals(results));
        out.flush();
        if (results.stream().anyMatch(r -> r.status() == SelftestResult.Status.FAIL)) {
            return ExitCodes.FOUND;
        }
        return results.stream().allMatch(r -> r.status() == SelftestResult.Status.SKIP)
                ? ExitCodes.NOTHING_RAN : ExitCodes.CLEAN;
    }

    /** The suite in its order, restricted to {@code --only} when given. */
    private List<Selftest> select(List<Selftest> all) {
        if (only == null || only.isEmpty()) {
            return all;
        }
        Set<String> wanted = new LinkedHashSet<>(only);
        List<String> unknown = wanted.stream().filter(w -> all.stream().noneMatch(t -> t.matches(w))).toList();
        if (!unknown.isEmpty()) {
            throw new ParameterException(spec.commandLine(), "Unknown test" + (unknown.size() > 1 ? "s" : "")
                    + ": '" + String.join("', '", unknown) + "'; 'hmm4j selftest --list' names them");
        }
        return all.stream().filter(t -> wanted.stream().anyMatch(t::matches)).toList();
    }
}
