package hmm4j.sim;

import hmm4j.sim.failure.Failure;
import hmm4j.sim.failure.Site;
import java.util.Arrays;

/**
 * The bounds of a controlled run beyond steps and time, and the verdicts of their breach.
 *
 * <p>Overview: a driver can defeat a step bound without looping: a spawn bomb (each task
 * spawning two) takes few decisions per task but its tasks, and the enabled sets the run
 * records, grow without end, and the JVM would die of {@code OutOfMemoryError} with no
 * report. So a run is also bounded in live tasks ({@link #maxTasks}) and in the memory its
 * decision record holds ({@link #maxDecisionBytes}); and, with the continuation runtime, in
 * the time a task may wait outside the model ({@link #blockedMillis}: a real sleep, wait,
 * lock or I/O, which the runtime can neither see nor schedule). Each breach is a
 * {@link Failure.StepBoundExceeded} naming the bound and the task.
 *
 * @param maxTasks         live tasks (started, not exited) allowed at once
 * @param maxDecisionBytes bytes the decision record may hold (12 per decision, plus 4
 *                         per task id, and 4 more, for each changed enabled set)
 * @param blockedMillis    wall-clock time a task may wait outside the model
 */
@HiddenFromSites
record RunBounds(int maxTasks, long maxDecisionBytes, long blockedMillis) {

    /** The bound names, as reports print them. */
    static final String TASKS = "live tasks";
    static final String DECISION_MEMORY = "decision memory (bytes)";
    static final String BLOCKED = "time blocked outside the model (ms)";
    static final String PINNED = "a task that cannot be switched away";

    Failure tooManyTasks(Task spawned, int live, Site site) {
        return new Failure.StepBoundExceeded(TASKS, maxTasks, live + " tasks alive when " + spawned.name()
                + " was started (each spawn adding more: a spawn bomb?)", site);
    }

    Failure tooMuchRecorded(int decisions, long bytes, int enabled, Site site) {
        return new Failure.StepBoundExceeded(DECISION_MEMORY, maxDecisionBytes, decisions + " decisions recorded in "
                + bytes + " bytes, " + enabled + " tasks enabled at the last", site);
    }

    Failure blockedOutside(Task stuck, Thread.State state, StackTraceElement[] stack, Site site) {
        String where = stack.length == 0 ? "" : " in " + stack[0].getClassName() + "." + stack[0].getMethodName();
        return new Failure.StepBoundExceeded(BLOCKED, blockedMillis, (stuck == null ? "no task" : stuck.name())
                + " waited " + blockedMillis + " ms outside the model (" + state + where
                + "): a real sleep, wait, lock or I/O, which the controlled runtime cannot see or schedule", site);
    }

    Failure pinned(Task t, String why, Site site) {
        return new Failure.StepBoundExceeded(PINNED, 0, t.name() + " reached a scheduling point where it cannot"
                + " be switched away (" + why + ": a synchronized block on a JDK before 24, or a native frame)", site);
    }

    /** The site of a task seen from the watchdog: the frames of its abandoned thread. */
    static Site stuckSite(Task stuck, long step, StackTraceElement[] stack) {
        return stuck == null ? SiteCapture.site((Task) null, step)
                : new Site(stuck.name(), step, SiteCapture.visibleFrames(Arrays.asList(stack), 6,
                        stuck.body.getClass().getClassLoader()));
    }
}
