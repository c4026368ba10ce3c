package hmm4j.sim;

import java.lang.invoke.MethodHandle;
import java.lang.invoke.MethodHandles;
import java.lang.invoke.MethodType;
import java.util.Locale;

/**
 * The JDK's one-shot delimited continuations ({@code jdk.internal.vm.Continuation}), reached
 * through method handles: the class is internal to {@code java.base}, so javac's
 * {@code --release 21} cannot compile against it, and it is usable only when the JVM runs
 * with {@code --add-exports java.base/jdk.internal.vm=ALL-UNNAMED} (the jar's manifest, the
 * test set-up and the benchmarks pass it).
 *
 * <p>Overview: {@link #AVAILABLE} says whether the export is there; the controlled runtime
 * then drives its tasks as continuations on one thread, else as virtual threads (the same
 * decisions, slower). The system property {@code hmm4j.runtime=threads} chooses virtual
 * threads by hand ({@link #chosen}).
 *
 * <p>The handles are static finals, so the JIT inlines them as it would direct calls. A
 * continuation that cannot yield (pinned: a {@code synchronized} block on a JDK before 24, a
 * native frame) makes {@code yield} throw {@link IllegalStateException}; the runtime reports
 * that as the task's failure.
 */
@HiddenFromSites
final class Continuations {
    private static final MethodHandle NEW;
    private static final MethodHandle RUN;
    private static final MethodHandle YIELD;
    private static final MethodHandle IS_DONE;
    /** True when continuations can be used (the JVM exports them). */
    static final boolean AVAILABLE;
    /** Why they cannot, for the documentation's "which runtime" question; empty when they can. */
    static final String UNAVAILABLE_REASON;
    private static final Object SCOPE;

    static {
        MethodHandle newScope = null;
        MethodHandle create = null;
        MethodHandle run = null;
        MethodHandle yield = null;
        MethodHandle isDone = null;
        Object scope = null;
        String reason = "";
        {
            try {
                Class<?> cont = Class.forName("jdk.internal.vm.Continuation");
                Class<?> scopeClass = Class.forName("jdk.internal.vm.ContinuationScope");
                MethodHandles.Lookup lookup = MethodHandles.lookup();
                newScope = lookup.findConstructor(scopeClass, MethodType.methodType(void.class, String.class))
                        .asType(MethodType.methodType(Object.class, String.class));
                create = lookup.findConstructor(cont, MethodType.methodType(void.class, scopeClass, Runnable.class))
                        .asType(MethodType.methodType(Object.class, Object.class, Runnable.class));
                run = lookup.findVirtual(cont, "run", MethodType.methodType(void.class))
                        .asType(MethodType.methodType(void.class, Object.class));
                yield = lookup.findStatic(cont, "yield", MethodType.methodType(boolean.class, scopeClass))
                        .asType(MethodType.methodType(boolean.class, Object.class));
                isDone = lookup.findVirtual(cont, "isDone", MethodType.methodType(boolean.class))
                        .asType(MethodType.methodType(boolean.class, Object.class));
                scope = (Object) newScope.invokeExact("hmm4j");
            } catch (Throwable e) {
                reason = "jdk.internal.vm not exported (" + e.getClass().getSimpleName() + ")";
            }
        }
        NEW = create;
        RUN = run;
        YIELD = yield;
        IS_DONE = isDone;
        SCOPE = scope;
        AVAILABLE = reason.isEmpty();
        UNAVAILABLE_REASON = reason;
    }

    private Continuations() {
    }

    /**
     * Whether a new controlled run drives its tasks as continuations: when they are
     * available and {@code hmm4j.runtime} is not {@code threads} (read per run, so that a
     * comparison can alternate the two modes in one JVM).
     */
    static boolean chosen() {
        return AVAILABLE && !"threads".equals(System.getProperty("hmm4j.runtime", "").toLowerCase(Locale.ROOT));
    }

    /** A new continuation that runs {@code body} when first {@linkplain #run run}. */
    static Object create(Runnable body) {
        try {
            return (Object) NEW.invokeExact(SCOPE, body);
        } catch (RuntimeException | Error e) {
            throw e;
        } catch (Throwable e) {
            throw new IllegalStateException(e);
        }
    }

    /** Runs or resumes {@code c} on the calling thread until it yields or ends. */
    static void run(Object c) {
        try {
            RUN.invokeExact(c);
        } catch (RuntimeException | Error e) {
            throw e;
        } catch (Throwable e) {
            throw new IllegalStateException(e);
        }
    }

    /** Suspends the running continuation; throws {@link IllegalStateException} when it is pinned. */
    static void yieldNow() {
        boolean yielded;
        try {
            yielded = (boolean) YIELD.invokeExact(SCOPE);
        } catch (RuntimeException | Error e) {
            throw e;
        } catch (Throwable e) {
            throw new IllegalStateException(e);
        }
        if (!yielded) {
            throw new IllegalStateException("Pinned");
        }
    }

    static boolean isDone(Object c) {
        try {
            return (boolean) IS_DONE.invokeExact(c);
        } catch (RuntimeException | Error e) {
            throw e;
        } catch (Throwable e) {
            throw new IllegalStateException(e);
        }
    }
}
