package hmm4j.explore;

import hmm4j.explore.replay.FailureFile;
import hmm4j.sim.HiddenFromSites;
import hmm4j.sim.RunResult;
import java.util.Optional;

/**
 * The outcome of replaying a failure file.
 *
 * @param file            the file replayed
 * @param run             the replayed run, with its full trace and code sites
 * @param divergence      "diverged at step N: ..." when the run no longer matched the recorded
 *                        schedule (enabled set, operation, or length), else empty
 * @param reproduced      true when the run followed the whole schedule and ended with the
 *                        recorded verdict
 * @param recordedVerdict the verdict written in the file
 * @param actualVerdict   the verdict of the replayed run
 * @param difference      when the run followed the schedule but is not the recorded one: one
 *                        line naming the field that differs ({@code DIFFERENT SEED: ...} or
 *                        {@code DIFFERENT VERDICT: kind|rule recorded X, replay gave Y ...}),
 *                        else empty
 */
@HiddenFromSites
public record ReplayResult(FailureFile file, RunResult run, Optional<String> divergence, boolean reproduced,
                           String recordedVerdict, String actualVerdict, Optional<String> difference) {

    /** One line: {@code REPRODUCED ...}, {@code DIVERGED ...}, {@code DIFFERENT SEED ...} or {@code DIFFERENT VERDICT ...}. */
    public String verdictLine() {
        if (divergence.isPresent()) {
            return "DIVERGED " + divergence.get();
        }
        if (reproduced) {
            return "REPRODUCED " + actualVerdict;
        }
        return difference.orElse("DIFFERENT VERDICT: recorded '" + recordedVerdict + "', replay gave '" + actualVerdict
                + "'");
    }
}
