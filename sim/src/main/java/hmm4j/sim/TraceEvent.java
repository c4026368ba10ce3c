package hmm4j.sim;

/**
 * One line of a run's trace: task {@code taskId} did {@code op} at {@code step}
 * ({@code where} is the innermost user-visible code frame, or empty when sites are off).
 */
public record TraceEvent(long step, int taskId, String task, String op, String where) {
}
