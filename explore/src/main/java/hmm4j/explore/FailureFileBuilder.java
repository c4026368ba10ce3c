package hmm4j.explore;

import hmm4j.explore.minimise.Minimisation;
import hmm4j.explore.replay.FailureFile;
import hmm4j.explore.strategy.StrategySpec;
import hmm4j.sim.Decision;
import hmm4j.sim.HiddenFromSites;
import hmm4j.sim.RunResult;
import hmm4j.sim.TraceEvent;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/** Turns a found failure into the content of its failure file. */
@HiddenFromSites
final class FailureFileBuilder {
    private FailureFileBuilder() {
    }

    static FailureFile build(String target, ExploreOptions options, long runLength, FoundFailure f) {
        RunResult r = f.run();
        StrategySpec member = StrategySpec.parse(f.strategySpec());
        FailureFile.StrategyInfo strategy = new FailureFile.StrategyInfo(member.text(), f.strategy(),
                parameters(member, f, runLength));
        FailureFile.Exploration exploration = new FailureFile.Exploration(options.strategy().text(),
                options.firstSeed(), options.runs(), options.shard().toString(), options.effectiveLanes(), f.lane(),
                f.runsBeforeInLane(), runLength, f.usedShared());
        FailureFile.Verdict verdict = r.firstFailure()
                .map(x -> new FailureFile.Verdict(x.kind().name(), x.rule().id(), x.headline()))
                .orElseGet(() -> new FailureFile.Verdict("DIVERGED", r.divergence().orElse("")));
        List<FailureFile.Step> steps = steps(r.decisions(), r.taskNames(), sites(r.trace()));
        FailureFile.Minimal minimal = f.minimisation().map(m -> minimal(m, r.taskNames())).orElse(null);
        return new FailureFile(FailureFile.FORMAT, Version.current(), target, strategy, f.seed(), f.runIndex(),
                new FailureFile.Bounds(options.maxSteps()), exploration, verdict, r.steps(), r.taskNames(), steps,
                minimal);
    }

    private static Map<String, Object> parameters(StrategySpec member, FoundFailure f, long runLength) {
        Map<String, Object> p = new LinkedHashMap<>();
        switch (member.kind()) {
            case PCT -> {
                p.put("depth", member.parameter());
                p.put("runLength", runLength);
                p.put("seed", f.seed());
            }
            case DFS -> {
                p.put("preemptionBound", member.parameter());
                p.put("run", f.runIndex());
            }
            default -> p.put("seed", f.seed());
        }
        return p;
    }

    private static FailureFile.Minimal minimal(Minimisation m, List<String> taskNames) {
        return new FailureFile.Minimal(m.contextSwitches(), m.preemptions(), m.originalContextSwitches(),
                m.originalPreemptions(), steps(m.decisions(), taskNames, Map.of()));
    }

    /**
     * The code site of the operation of each step: the task that reached the point of step
     * {@code s} is the one chosen at {@code s - 1}, and the event it recorded there (an
     * operation, a block, a sleep or its exit) carries step {@code s}. Keyed by "step/task";
     * wake-ups and time-outs are not decision points and are left out.
     */
    private static Map<String, String> sites(List<TraceEvent> trace) {
        Map<String, String> sites = new HashMap<>();
        for (TraceEvent e : trace) {
            if (e.kind() != TraceEvent.Kind.WOKEN && e.kind() != TraceEvent.Kind.TIMED_OUT) {
                sites.putIfAbsent(e.step() + "/" + e.taskId(), e.where());
            }
        }
        return sites;
    }

    private static List<FailureFile.Step> steps(List<Decision> decisions, List<String> taskNames,
                                                Map<String, String> sites) {
        List<FailureFile.Step> steps = new ArrayList<>(decisions.size());
        int previous = 0;
        for (Decision d : decisions) {
            String site = previous == 0 ? "" : sites.getOrDefault(d.step() + "/" + previous, "");
            String name = d.chosen() >= 1 && d.chosen() <= taskNames.size() ? taskNames.get(d.chosen() - 1) : "?";
            steps.add(FailureFile.Step.of(d, name, site));
            previous = d.chosen();
        }
        return steps;
    }
}
