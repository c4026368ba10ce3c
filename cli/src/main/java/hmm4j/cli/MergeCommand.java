package hmm4j.cli;

import hmm4j.explore.shard.ShardMerge;
import hmm4j.explore.shard.ShardResult;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.Spec;

/**
 * {@code hmm4j merge FILES...}: joins the shard results of one exploration, written by
 * {@code hmm4j explore --shard i/n}, and prints the combined verdict: the failure with the
 * lowest run index, the runs of all shards, and the shards that are missing. An incomplete
 * set is refused (exit 1, naming the missing shards) unless {@code --allow-partial}; a file
 * that is not a shard result (a failure file, an impossible value) is bad input (exit 2).
 */
@Command(name = "merge",
        mixinStandardHelpOptions = true,
        versionProvider = VersionProvider.class,
        description = {
            "Join the shard results of one exploration ('hmm4j explore --shard I/N'). The",
            "failure with the lowest run index wins. Every shard must be there: a missing",
            "shard is an error naming it, unless --allow-partial.",
            ""
        },
        footer = {
            "",
            "Examples:",
            "  hmm4j explore S1-vhost --shard 0/2 --out shards",
            "  hmm4j explore S1-vhost --shard 1/2 --out shards",
            "  hmm4j merge shards/S1-vhost-shard-*-of-2.json",
            "  hmm4j merge --allow-partial shards/S1-vhost-shard-0-of-2.json",
            "",
            "Shards of different explorations (scenario, strategy, seeds, runs, lanes,",
            "max steps or shard count), a repeated shard, a failure file or a shard",
            "result with an impossible value (e.g. a negative runsDone) are bad input."
        })
final class MergeCommand implements Callable<Integer> {
    @Spec
    private CommandSpec spec;

    @Parameters(arity = "1..*", paramLabel = "FILE", description = "Shard results (JSON).")
    private List<Path> files;

    @Option(names = "--allow-partial",
            description = "Merge an incomplete set (shards missing): the verdict covers the shards given.")
    private boolean allowPartial;

    @Override
    public Integer call() {
        List<ShardResult> results = new ArrayList<>();
        ShardMerge.Merged merged;
        try {
            for (Path f : files) {
                results.add(ShardMerge.read(f));
            }
            merged = ShardMerge.merge(results);
        } catch (IllegalArgumentException e) {
            throw new ParameterException(spec.commandLine(), e.getMessage(), e);
        }
        if (!merged.missing().isEmpty() && !allowPartial) {
            PrintWriter err = spec.commandLine().getErr();
            err.println("hmm4j: incomplete set: " + merged.present() + " of " + merged.shards() + " shards of "
                    + merged.scenario() + "; no result for shard" + (merged.missing().size() > 1 ? "s " : " ")
                    + missing(merged) + " (merge them too, or pass --allow-partial)");
            err.flush();
            return ExitCodes.FOUND;
        }
        String tool = Main.invokedAs(spec);
        PrintWriter o = spec.commandLine().getOut();
        o.println("hmm4j merge " + merged.scenario() + ": " + merged.verdictLine());
        o.println("  strategy " + merged.strategy() + ", " + merged.present() + " of " + merged.shards() + " shards");
        merged.failure().ifPresent(f -> {
            o.println("  found by " + f.strategy() + " in run " + f.runIndex() + " (seed " + f.seed() + ")");
            if (f.file() != null) {
                o.println("  failure file: " + f.file());
                o.println("  replay: " + hmm4j.explore.ReportHeader.replayCommand(tool, Path.of(f.file())));
            }
        });
        if (!merged.marks().isEmpty()) {
            o.println("  marks reached: " + merged.marks().stream().map(m -> m.id() + " (" + m.runs() + " runs)")
                    .collect(java.util.stream.Collectors.joining(", ")));
        }
        if (!merged.missing().isEmpty()) {
            o.println("  incomplete: no result for shard" + (merged.missing().size() > 1 ? "s " : " ")
                    + missing(merged) + " (--allow-partial)");
        }
        o.flush();
        return merged.failure().isPresent() ? ExitCodes.FOUND : ExitCodes.CLEAN;
    }

    /** The missing shards, e.g. {@code 1/4, 3/4}. */
    private static String missing(ShardMerge.Merged merged) {
        return merged.missing().stream().map(i -> i + "/" + merged.shards())
                .collect(java.util.stream.Collectors.joining(", "));
    }
}
