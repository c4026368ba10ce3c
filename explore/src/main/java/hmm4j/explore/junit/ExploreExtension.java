package hmm4j.explore.junit;

import hmm4j.explore.ExplorationContext;
import hmm4j.explore.ExplorationResult;
import hmm4j.explore.ExploreOptions;
import hmm4j.explore.ExploreTarget;
import hmm4j.explore.Explorer;
import hmm4j.explore.ReplayResult;
import hmm4j.explore.ReportHeader;
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
import java.util.Locale;
import org.junit.jupiter.api.extension.ExtensionConfigurationException;
import org.junit.jupiter.api.extension.ExtensionContext;
import org.junit.jupiter.api.extension.InvocationInterceptor;
import org.junit.jupiter.api.extension.ParameterContext;
import org.junit.jupiter.api.extension.ParameterResolver;
import org.junit.jupiter.api.extension.ReflectiveInvocationContext;

/**
 * Runs an {@link Explore} method as an exploration: intercepts the single invocation JUnit
 * would make, calls the method once per run with that run's kernel and context, and fails
 * the test with the report header (including the replay command) and the text report of the
 * first failing run.
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
        Object instance = invocationContext.getTarget().orElse(null);
        String name = method.getDeclaringClass().getName() + "#" + method.getName();
        ExploreTarget target = ExploreTarget.of(name, (kernel, ctx) -> invoke(method, instance, kernel, ctx));
        String replay = System.getProperty(REPLAY_PROPERTY);
        if (replay != null && !replay.isBlank()) {
            FailureFile file = FailureFiles.read(Path.of(replay));
            if (file.scenario().equals(name)) {
                replay(target, file, Path.of(replay), method);
                return;
            }
        }
        ExplorationResult result = Explorer.explore(target, options(explore, method));
        context.publishReportEntry("hmm4j", result.verdictLine());
        if (!result.marks().reached().isEmpty()) {
            context.publishReportEntry("hmm4j.marks", result.marks().summary());
        }
        if (result.failure().isPresent()) {
            String cmd = result.failure().get().file().map(f -> replayCommand(method, f)).orElse(null);
            throw new AssertionError(ReportHeader.render(result, cmd) + "\n"
                    + TextReport.render(result.failure().get().run()));
        }
    }

    private static void replay(ExploreTarget target, FailureFile file, Path path, Method method) {
        ReplayResult r = Explorer.replay(file, target, false);
        String text = "hmm4j replay " + path + ": " + r.verdictLine() + "\n  replay: " + replayCommand(method, path)
                + "\n\n" + TextReport.render(r.run());
        if (r.divergence().isPresent() || !r.run().clean()) {
            throw new AssertionError(text);
        }
    }

    /** The Maven command that replays {@code file} for this test. */
    static String replayCommand(Method method, Path file) {
        return "mvn test -Dtest='" + method.getDeclaringClass().getSimpleName() + "#" + method.getName() + "' -D"
                + REPLAY_PROPERTY + "=" + file.toAbsolutePath();
    }

    static ExploreOptions options(Explore e, Method method) {
        StrategySpec strategy;
        try {
            strategy = StrategySpec.parse(e.strategy());
        } catch (IllegalArgumentException x) {
            throw new ExtensionConfigurationException("@Explore on " + method.getName() + ": " + x.getMessage(), x);
        }
        ExploreOptions o = ExploreOptions.defaults().withStrategy(strategy).withRuns(e.runs()).withFirstSeed(e.seed())
                .withMaxSteps(e.maxSteps()).withTimeBudget(parseDuration(e.timeBudget(), method))
                .withOutDir(Path.of(System.getProperty(FAILURES_PROPERTY, "target/hmm4j-failures")));
        return e.workers() > 0 ? o.withWorkers(e.workers()) : o;
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
