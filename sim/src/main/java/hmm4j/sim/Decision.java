package hmm4j.sim;

import java.util.List;

/**
 * One scheduling decision of a controlled run: at {@code step}, with the tasks
 * {@code enabled} (ids, ascending) able to run, the strategy chose {@code chosen}.
 * {@code op} is the operation at which the choice was made. A run's decision list is
 * what replay re-executes and verifies (the enabled set, and the operation's kind, target
 * number and access: {@link Op#sameAs}).
 */
@HiddenFromSites
public record Decision(long step, int chosen, List<Integer> enabled, Op op) {
    public Decision {
        enabled = List.copyOf(enabled);
    }
}
