package hmm4j.explore.junit;

import hmm4j.explore.ExplorationContext;
import hmm4j.explore.ExplorationResult;
import hmm4j.explore.ExploreOptions;
import hmm4j.explore.ExploreTarget;
import hmm4j.explore.Explorer;
import hmm4j.explore.FoundFailure;
import hmm4j.explore.ReplayResult;
import hmm4j.explore.replay.FailureFile;
import hmm4j.explore.replay.FailureFiles;
import hmm4j.explore.strategy.StrategySpec;
import hmm4j.sim.HiddenFromSites;
import hmm4j.sim.Kernel;
import hmm4j.sim.report.TextReport;
import java.lang.reflect.InvocationTargetException;
import java.lang.reflect.Method;
import java.lang.reflect.Parameter;
import java.nio.file.Path;
import java.time.Duration;
import java.time.format.DateTimeParseException;
import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import org.junit.jupiter.api.extension.ExtensionConfigurationException;
import org.junit.jupiter.api.extension.ExtensionContext;
import org.junit.jupiter.api.extension.InvocationInterceptor;
import org.junit.jupiter.api.extension.ParameterContext;
import org.junit.jupiter.api.extension.ParameterResolver;
import org.junit.jupiter.api.extension.ReflectiveInvocationContext;

/**
 * Runs an {@link Explore} method as an exploration: intercepts the single invocation JUnit
 * would make, calls the method once per run with that run's kernel and context, and reports
 * through {@link ExploreReport}: a passing test prints and publishes one line (runs, marks
 * hit, strategy, seeds); a failing one writes the HTML timeline, the Perfetto trace and the
 * minimised run next to its failure file and fails with the report header (minimisation,
 * failure file, replay command) and the text report of the minimised run. With
 * {@code expect}, a failure of that rule or kind passes the test, and none, or another, fails
 * it. With {@code -Dhmm4j.replay=FILE} it replays the file instead, which must be this test's.
 *
 * <p>JUnit resolves the method's parameters before the interception; this resolver gives it
 * a placeholder kernel and context that are never run. The explored runs get their own.
 */
@HiddenFromSites
public final class ExploreExtension implements ParameterResolver, InvocationInterceptor {
    /** System property: replay this failure file instead of exploring (for the test it belongs to). */
    public static final String REPLAY_PROPERTY = "hmm4j.replay";
    /** System property: the directory of failure files (default {@code target/hmm4j-failures}). */
    public static final String FAILURES_PROPERTY = "hmm4j.failures";

    @Override
    public boolean supportsParameter(ParameterContext parameter, ExtensionContext context) {
        Class<?> type = parameter.getParameter().getType();
        return (type == Kernel.class || type == ExplorationContext.class)
                && parameter.getDeclaringExecutable().isAnnotationPresent(Explore.class);
    }

    @Override
    public Object resolveParameter(ParameterContext parameter, ExtensionContext context) {
        long seed = parameter.getDeclaringExecutable().getAnnotation(Explore.class).seed();
        return parameter.getParameter().getType() == Kernel.class ? Kernel.controlled(seed)
                : ExplorationContext.standalone(seed);
    }

    @Override
    public void interceptTestMethod(Invocation<Void> invocation, ReflectiveInvocationContext<Method> invocationContext,
                                    ExtensionContext context) throws Throwable {
        Method method = invocationContext.getExecutable();
        Explore explore = method.getAnnotation(Explore.class);
        if (explore == null) {
            invocation.proceed();
            return;
        }
        invocation.skip();
        Optional<Expectation> expect = expectation(explore, method);
        ExploreOptions options = options(explore, method);
        Object instance = invocationContext.getTarget().orElse(null);
        String name = testName(method);
        ExploreTarget target = ExploreTarget.of(name, (kernel, ctx) -> invoke(method, instance, kernel, ctx));
        String replay = System.getProperty(REPLAY_PROPERTY);
        if (replay != null && !replay.isBlank()) {
            replay(target, Path.of(replay.strip()), method, expect, context);
            return;
        }
        ExplorationResult result;
        Thread hook = new Thread(() -> Explorer.exitInProgress().ifPresent(f -> onExit(name, method, f)),
                "hmm4j-explore-exit");
        Runtime.getRuntime().addShutdownHook(hook);
        try {
            result = Explorer.explore(target, options);
        } finally {
            try {
                Runtime.getRuntime().removeShutdownHook(hook);
            } catch (IllegalStateException shuttingDown) {
                // A task is exiting the JVM: the hook reports.
            }
        }
        ExploreReport report = ExploreReport.of(name, result, target, f -> replayCommand(method, f));
        Optional<FoundFailure> found = result.failure();
        boolean asExpected = expect.isPresent() && found.flatMap(FoundFailure::failure)
                .filter(f -> expect.get().matches(f)).isPresent();
        publish(context, report.entries(expect, asExpected));
        if (found.isEmpty() && expect.isPresent()) {
            throw new AssertionError("hmm4j explore " + name + ": expected a failure of " + expect.get().describe()
                    + ", none found in " + result.runsDone() + " run" + (result.runsDone() == 1 ? "" : "s")
                    + " (strategy " + options.strategy().text() + ", seeds " + ExploreReport.seeds(result) + "): the "
                    + "design was not caught within the budget; raise runs or timeBudget, or try another strategy\n\n"
                    + report.failureMessage(null));
        }
        if (found.isPresent() && !asExpected) {
            String first = expect.map(e -> "found for another reason: expected a failure of " + e.describe()
                    + ", found " + found.get().failure().map(Expectation::describe).orElse("no failure") + ": "
                    + found.get().headline()).orElse(null);
            throw new AssertionError(report.failureMessage(first));
        }
    }

    /**
     * What a task's {@code System.exit} prints on standard error, from the shutdown hook (the
     * exit cannot be intercepted on JDK 21+, and the test JVM ends with the task's status):
     * the test, the task and run, and the failure file of the run up to the exit.
     */
    private static void onExit(String name, Method method, FoundFailure f) {
        System.err.println("hmm4j explore " + name + ": FAIL the JVM is exiting: task "
                + f.failure().map(x -> x.site().task()).orElse("?") + " called System.exit in run " + f.runIndex()
                + " (seed " + f.seed() + ") at step " + f.run().steps()
                + " (a task's exit cannot be intercepted on JDK 21+)");
        f.file().ifPresent(p -> System.err.println("  failure saved: " + p + " (the run's decisions up to the exit)"
                + "\n  replay: " + replayCommand(method, p)));
        System.err.flush();
    }

    /** {@code pkg.Class#method}: the target's name, and the test a failure file names. */
    static String testName(Method method) {
        return method.getDeclaringClass().getName() + "#" + method.getName();
    }

    /** Publishes the report entries and prints the one line on standard output. */
    private static void publish(ExtensionContext context, Map<String, String> entries) {
        context.publishReportEntry(entries);
        System.out.println(entries.get(ExploreReport.LINE));
    }

    /**
     * Replays {@code path} for this test: a file of another test, or no failure file at all, is a
     * configuration error; a reproduced failure fails the test (passes it when it is the expected
     * one); a run that no longer fails, or no longer follows the file, fails it with what that
     * means and what to do.
     */
    private static void replay(ExploreTarget target, Path path, Method method, Optional<Expectation> expect,
                               ExtensionContext context) {
        String prop = "-D" + REPLAY_PROPERTY + "=" + path;
        FailureFile file;
        ReplayResult r;
        try {
            file = FailureFiles.read(path);
            if (!target.name().equals(file.scenario())) {
                String other = file.scenario();
                String hint = other != null && other.contains("#")
                        ? "replay it with that test alone (" + replayCommand(other, path) + ")"
                        : "replay it with 'hmm4j replay'";
                throw new ExtensionConfigurationException(prop + " is the failure file of " + other
                        + ", not of this test (" + target.name() + "): " + hint + ", or leave " + REPLAY_PROPERTY
                        + " out to explore this test");
            }
            r = Explorer.replay(file, target, false);
        } catch (FailureFiles.BadFailureFileException e) {
            throw new ExtensionConfigurationException(prop + ": " + e.getMessage(), e);
        }
        String head = "hmm4j replay " + path + ": " + r.verdictLine() + "\n  replay: " + replayCommand(method, path) + "\n";
        boolean expected = r.reproduced() && expect.isPresent()
                && r.run().firstFailure().filter(f -> expect.get().matches(f)).isPresent();
        Map<String, String> entries = new LinkedHashMap<>();
        entries.put(ExploreReport.LINE, head.substring(0, head.indexOf('\n')));
        entries.put("hmm4j.replayed", path.toString());
        publish(context, entries);
        if (expected) {
            return;
        }
        String advice = "";
        if (!r.reproduced()) {
            advice = r.run().firstFailure().isEmpty()
                    ? "  the recorded failure no longer happens: the design was fixed, or the schedule no longer "
                    + "applies (the test or the code under it changed since the file was recorded); delete the file "
                    + "or re-explore (run the test without -D" + REPLAY_PROPERTY + ")\n"
                    : "  the replay did not reproduce the recorded failure: the run "
                    + (r.divergence().isPresent() ? "left the recorded schedule" : "ended differently")
                    + " and failed another way (below): the test or the code under it changed since the file was "
                    + "recorded; re-explore (run the test without -D" + REPLAY_PROPERTY + ") to record the new "
                    + "failure, and delete this file\n";
        }
        throw new AssertionError(head + advice + "\n" + TextReport.render(r.run()));
    }

    /** The Maven command that replays {@code file} for this test. */
    static String replayCommand(Method method, Path file) {
        return replayCommand(testName(method), file);
    }

    /** The Maven command that replays {@code file} for the test {@code pkg.Class#method} (or {@code Outer$Inner#m}). */
    static String replayCommand(String test, Path file) {
        int hash = test.indexOf('#');
        String cls = test.substring(0, hash);
        cls = cls.substring(Math.max(cls.lastIndexOf('.'), cls.lastIndexOf('$')) + 1);
        return "mvn test -Dtest='" + cls + test.substring(hash) + "' -D" + REPLAY_PROPERTY + "=" + file.toAbsolutePath();
    }

    /** The {@code expect} attribute, or a configuration error naming it. */
    static Optional<Expectation> expectation(Explore e, Method method) {
        try {
            return Expectation.parse(e.expect());
        } catch (IllegalArgumentException x) {
            throw new ExtensionConfigurationException("@Explore(expect = \"" + e.expect() + "\") on " + method.getName()
                    + ": " + x.getMessage(), x);
        }
    }

    static ExploreOptions options(Explore e, Method method) {
        StrategySpec strategy;
        try {
            strategy = StrategySpec.parse(e.strategy());
        } catch (IllegalArgumentException x) {
            throw new ExtensionConfigurationException("@Explore on " + method.getName() + ": " + x.getMessage(), x);
        }
        atLeast("runs", e.runs(), 1, method);
        atLeast("maxSteps", e.maxSteps(), 1, method);
        atLeast("workers", e.workers(), 0, method);
        ExploreOptions o = ExploreOptions.defaults().withStrategy(strategy).withRuns(e.runs()).withFirstSeed(e.seed())
                .withMaxSteps(e.maxSteps()).withTimeBudget(parseDuration(e.timeBudget(), method))
                .withOutDir(Path.of(System.getProperty(FAILURES_PROPERTY, "target/hmm4j-failures")));
        return e.workers() > 0 ? o.withWorkers(e.workers()) : o;
    }

    private static void atLeast(String attribute, long value, long min, Method method) {
        if (value < min) {
            throw new ExtensionConfigurationException("@Explore(" + attribute + " = " + value + ") on "
                    + method.getName() + ": " + attribute + " must be at least " + min);
        }
    }

    /** {@code 500ms}, {@code 10s}, {@code 2m}, or an ISO-8601 duration; null for empty. */
    static Duration parseDuration(String text, Method method) {
        String t = text.strip().toLowerCase(Locale.ROOT);
        if (t.isEmpty()) {
            return null;
        }
        try {
            if (t.endsWith("ms")) return Duration.ofMillis(Long.parseLong(t.substring(0, t.length() - 2).strip()));
            if (t.endsWith("s") && !t.startsWith("p")) return Duration.ofSeconds(Long.parseLong(t.substring(0, t.length() - 1).strip()));
            if (t.endsWith("m") && !t.startsWith("p")) return Duration.ofMinutes(Long.parseLong(t.substring(0, t.length() - 1).strip()));
            return Duration.parse(text.strip());
        } catch (NumberFormatException | DateTimeParseException x) {
            throw new ExtensionConfigurationException("@Explore on " + method.getName() + ": bad timeBudget '" + text
                    + "' (expected e.g. 500ms, 10s, 2m or PT30S)", x);
        }
    }

    private static void invoke(Method method, Object instance, Kernel kernel, ExplorationContext ctx) throws Exception {
        Parameter[] params = method.getParameters();
        Object[] args = new Object[params.length];
        for (int i = 0; i < params.length; i++) {
            Class<?> type = params[i].getType();
            if (type == Kernel.class) {
                args[i] = kernel;
            } else if (type == ExplorationContext.class) {
                args[i] = ctx;
            } else {
                throw new ExtensionConfigurationException("@Explore method " + method.getName()
                        + " may only take a Kernel and an ExplorationContext, not " + type.getName());
            }
        }
        method.setAccessible(true);
        try {
            method.invoke(instance, args);
        } catch (InvocationTargetException e) {
            Throwable cause = e.getCause();
            if (cause instanceof Exception x) throw x;
            if (cause instanceof Error x) throw x;
            throw e;
        }
    }
}
