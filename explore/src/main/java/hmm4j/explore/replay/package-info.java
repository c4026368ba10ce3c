/**
 * Failure files: {@link hmm4j.explore.replay.FailureFile}, the JSON record of one failing run
 * (tool version, scenario, strategy and parameters, seed, bounds, and every decision with its
 * enabled set, operation and code site), and {@link hmm4j.explore.replay.FailureFiles}, which
 * reads and writes them (strictly, with one-line messages in the file's terms), checking its
 * values with {@code FailureFileChecks}. Replaying a file is {@link hmm4j.explore.Explorer#replay}.
 */
package hmm4j.explore.replay;
