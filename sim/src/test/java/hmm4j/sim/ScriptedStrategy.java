package hmm4j.sim;

import java.util.List;

/**
 * A test strategy that follows a script of task names, one per decision, and afterwards
 * keeps the current task while it can run (else the first enabled one). A scripted name
 * that is not enabled at its decision fails the test that wrote the script.
 */
final class ScriptedStrategy implements Strategy {
    private final List<String> script;

    ScriptedStrategy(String... script) {
        this.script = List.of(script);
    }

    @Override
    public int pick(SchedulingPoint point) {
        int i = (int) point.step() - 1;
        if (i < script.size()) {
            String want = script.get(i);
            for (int k = 0; k < point.enabled().size(); k++) {
                if (point.enabled().get(k).name().equals(want)) {
                    return k;
                }
            }
            throw new AssertionError("step " + point.step() + ": scripted " + want + " is not enabled in "
                    + point.enabled() + " at " + point.op());
        }
        return Math.max(0, point.currentIndex());
    }

    @Override
    public String describe() {
        return "scripted" + script;
    }
}
