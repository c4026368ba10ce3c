package hmm4j.sim;

import hmm4j.sim.failure.Failure;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;

/**
 * A controlled run in progress whose task called {@code System.exit} (or
 * {@code Runtime.exit}), seen from a shutdown hook.
 *
 * <p>Overview: on JDK 21 and later nothing can stop a task from exiting the JVM (the
 * {@code SecurityManager} that could is gone), and {@code Runtime.halt} runs no shutdown
 * hook at all, so nothing can see it. {@code System.exit} does run the shutdown hooks, while
 * the calling thread waits inside {@code java.lang.Shutdown}: a hook calls {@link #find},
 * which looks at the thread of each controlled run in progress (the run thread of the
 * continuation runtime, or the current task's virtual thread) for a frame of
 * {@code Shutdown.exit}, and returns that run as it stands: its decisions so far and an
 * {@code unexpected exception} verdict of the task, whose frames are the ones that called
 * exit. The run is frozen while its task waits in exit, so what is read is what it did.
 */
@HiddenFromSites
public final class JvmExits {
    /** Controlled runs in progress (added when a run starts, removed when it returns). */
    private static final Set<ControlledRuntime> LIVE = ConcurrentHashMap.newKeySet();

    /** The name of the verdict's exception: what the task called. */
    public static final String EXIT = "System.exit";

    private JvmExits() {
    }

    /**
     * A run whose task is exiting the JVM.
     *
     * @param kernel the run's kernel
     * @param task   the task that called exit
     * @param run    the run so far, ending in the exit's verdict
     */
    public record Exit(Kernel kernel, String task, RunResult run) {
    }

    /** The controlled run in progress whose task is inside {@code System.exit}, if any. */
    public static Optional<Exit> find() {
        for (ControlledRuntime r : LIVE) {
            Exit e = r.exitInProgress();
            if (e != null) {
                return Optional.of(e);
            }
        }
        return Optional.empty();
    }

    static void started(ControlledRuntime r) {
        LIVE.add(r);
    }

    static void ended(ControlledRuntime r) {
        LIVE.remove(r);
    }

    /**
     * The verdict of task {@code t} at {@code step} when {@code stack} (its thread's, innermost
     * first) is inside the JDK's exit, or null: an unexpected exception named {@value #EXIT}
     * whose frames are the caller's, up to the runtime's task entry.
     */
    static Failure verdict(Task t, long step, StackTraceElement[] stack) {
        int exit = exitFrame(stack);
        if (exit < 0) {
            return null;
        }
        List<StackTraceElement> caller = new ArrayList<>();
        for (int i = exit + 1; i < stack.length; i++) {
            if (stack[i].getMethodName().equals("taskMain") && stack[i].getClassName().startsWith("hmm4j.sim.")) {
                break;
            }
            caller.add(stack[i]);
        }
        List<String> lines = caller.stream().limit(20).map(f -> "  at " + f).toList();
        return new Failure.UnexpectedException(EXIT, "the task exited the JVM (System.exit and Runtime.exit cannot "
                + "be intercepted on JDK 21+)", lines, RunBounds.stuckSite(t, step,
                caller.toArray(StackTraceElement[]::new)));
    }

    /**
     * The index in {@code stack} (innermost first) of the outermost frame of the JDK's exit
     * ({@code System.exit}, {@code Runtime.exit}, {@code Shutdown.exit}), or -1 when the
     * thread is not exiting: the frames after it are the caller's.
     */
    static int exitFrame(StackTraceElement[] stack) {
        int found = -1;
        for (int i = 0; i < stack.length; i++) {
            String c = stack[i].getClassName();
            String m = stack[i].getMethodName();
            if (m.equals("exit") && (c.equals("java.lang.Shutdown") || c.equals("java.lang.Runtime")
                    || c.equals("java.lang.System"))) {
                found = i;
            } else if (found >= 0) {
                break;
            }
        }
        return found;
    }
}
