package hmm4j.explore.shard;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonPropertyOrder;
import hmm4j.explore.ExplorationResult;
import hmm4j.explore.FoundFailure;
import hmm4j.explore.ExploreOptions;
import hmm4j.explore.Version;
import hmm4j.sim.HiddenFromSites;

/**
 * The result of one shard of an exploration, as JSON: what was explored (so that
 * {@link ShardMerge} can check the shards belong together), how many runs were done, and
 * the shard's first failure.
 *
 * @param format    {@value #FORMAT}
 * @param version   the hmm4j version
 * @param scenario  the target's name
 * @param strategy  the exploration's strategy, e.g. {@code portfolio}
 * @param firstSeed the seed of run 0
 * @param runs      the run space of all shards together
 * @param shard     {@code i/n}
 * @param lanes     lanes per shard
 * @param maxSteps  steps allowed per run
 * @param runsDone  runs this shard finished
 * @param stoppedBy why the shard stopped ({@code failure}, {@code runs}, {@code time}, {@code exhausted})
 * @param failure   the shard's first failure, or null
 * @param marks     the coverage marks the shard's counted runs reached, by id (absent in files
 *                  written before marks existed: read as none)
 */
@HiddenFromSites
@JsonPropertyOrder({"format", "version", "scenario", "strategy", "firstSeed", "runs", "shard", "lanes", "maxSteps",
        "runsDone", "stoppedBy", "failure", "marks"})
@JsonInclude(JsonInclude.Include.NON_NULL)
public record ShardResult(String format, String version, String scenario, String strategy, long firstSeed, int runs,
                          String shard, int lanes, long maxSteps, long runsDone, String stoppedBy,
                          ShardFailure failure, java.util.List<ShardMark> marks) {

    public ShardResult {
        marks = marks == null ? java.util.List.of() : java.util.List.copyOf(marks);
    }

    /** The format tag of this version of the file. */
    public static final String FORMAT = "hmm4j-shard/1";

    /**
     * A shard's first failure.
     *
     * @param runIndex the failing run's index
     * @param seed     its seed
     * @param strategy the strategy that found it, with parameters
     * @param kind     the failure kind's name
     * @param headline the one-line verdict
     * @param file     its failure file, or null
     */
    @JsonPropertyOrder({"runIndex", "seed", "strategy", "kind", "headline", "file"})
    @JsonInclude(JsonInclude.Include.NON_NULL)
    public record ShardFailure(int runIndex, long seed, String strategy, String kind, String headline, String file) {
    }

    /**
     * A coverage mark the shard reached.
     *
     * @param id       the mark's id
     * @param runs     the shard's runs that hit it
     * @param firstRun the lowest index of those runs
     */
    @JsonPropertyOrder({"id", "runs", "firstRun"})
    public record ShardMark(String id, long runs, int firstRun) {
    }

    /** The shard result of {@code result}. */
    public static ShardResult of(ExplorationResult result) {
        ExploreOptions o = result.options();
        ShardFailure failure = result.failure().map(ShardResult::failure).orElse(null);
        return new ShardResult(FORMAT, Version.current(), result.target(), o.strategy().text(), o.firstSeed(),
                o.runs(), o.shard().toString(), o.effectiveLanes(), o.maxSteps(), result.runsDone(),
                result.stoppedBy().name().toLowerCase(java.util.Locale.ROOT), failure,
                result.marks().reached().stream().map(m -> new ShardMark(m.mark().id(), m.runs(), m.firstRun()))
                        .toList());
    }

    private static ShardFailure failure(FoundFailure f) {
        return new ShardFailure(f.runIndex(), f.seed(), f.strategy(),
                f.failure().map(x -> x.kind().name()).orElse("DIVERGED"), f.headline(),
                f.file().map(Object::toString).orElse(null));
    }

    /** {@code <target>-shard-<i>-of-<n>.json}. */
    public static String fileName(String target, hmm4j.explore.Shard shard) {
        return safe(target) + "-shard-" + shard.index() + "-of-" + shard.count() + ".json";
    }

    /** The shell pattern of the files of all {@code count} shards: {@code <target>-shard-*-of-<n>.json}. */
    public static String filePattern(String target, int count) {
        return safe(target) + "-shard-*-of-" + count + ".json";
    }

    private static String safe(String target) {
        return target.replaceAll("[^A-Za-z0-9._-]+", "_");
    }
}
