package hmm4j.explore.shard;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonMappingException;
import com.fasterxml.jackson.databind.JsonNode;
import hmm4j.explore.Shard;
import hmm4j.explore.replay.FailureFiles;
import hmm4j.sim.HiddenFromSites;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Optional;
import java.util.TreeSet;

/**
 * Joins the shard results of one exploration ({@code hmm4j merge}): checks that they are
 * shards of the same exploration and not duplicated, sums the runs, names the missing
 * shards, and keeps the failure with the lowest run index, which is the failure an unsharded
 * exploration with one lane per shard position would have reported first. The coverage marks
 * are joined by id (runs summed, the lowest first run kept).
 *
 * <p>A shard that stopped at its failure counts the marks of its runs up to that failure, so
 * the merged marks of a failing exploration are those of each shard's counted runs.
 */
@HiddenFromSites
public final class ShardMerge {
    /** How the format tag of a failure file begins ({@code hmm4j-failure/2}). */
    private static final String FAILURE_FORMAT_PREFIX = "hmm4j-failure/";

    private ShardMerge() {
    }

    /**
     * The merged result.
     *
     * @param scenario the target's name
     * @param strategy the exploration's strategy
     * @param shards   the number of shards of the exploration
     * @param present  shards merged
     * @param missing  shard indices with no result
     * @param runsDone runs of all merged shards
     * @param failure  the failure with the lowest run index, if any
     * @param marks    the coverage marks of all merged shards by id: runs summed, lowest first run
     */
    public record Merged(String scenario, String strategy, int shards, int present, List<Integer> missing,
                         long runsDone, Optional<ShardResult.ShardFailure> failure, List<ShardResult.ShardMark> marks) {

        /** One line: {@code FAIL ...} or {@code PASS ...}, with the shards and runs. */
        public String verdictLine() {
            String where = present + "/" + shards + " shards, " + runsDone + " runs";
            String miss = missing.isEmpty() ? "" : "; missing shards " + missing;
            return failure.map(f -> "FAIL " + f.headline() + " (run " + f.runIndex() + ", seed " + f.seed() + ", "
                            + where + miss + ")")
                    .orElse("PASS no failure (" + where + miss + ")");
        }
    }

    /** Writes {@code result} to {@code path}, creating its directory. */
    public static void write(ShardResult result, Path path) throws IOException {
        Path dir = path.toAbsolutePath().getParent();
        if (dir != null) {
            Files.createDirectories(dir);
        }
        Files.writeString(path, FailureFiles.json().writeValueAsString(result) + "\n");
    }

    /**
     * Reads a shard result.
     *
     * @throws IllegalArgumentException with a one-line message when the file is missing, is a
     *         failure file, is not a shard result or has an impossible value (a negative
     *         {@code runsDone}, more runs done than the shard has, ...)
     */
    public static ShardResult read(Path path) {
        String text;
        try {
            text = Files.readString(path);
        } catch (NoSuchFileException e) {
            throw new IllegalArgumentException(path + ": no such file");
        } catch (IOException e) {
            throw new IllegalArgumentException(path + ": cannot read: " + e.getMessage());
        }
        JsonNode tree;
        try {
            tree = FailureFiles.tree(text, path.toString(), "shard result");
        } catch (FailureFiles.BadFailureFileException e) {
            throw new IllegalArgumentException(e.getMessage(), e);
        }
        String format = tree != null && tree.path("format").isTextual() ? tree.get("format").asText() : null;
        if (format != null && format.startsWith(FAILURE_FORMAT_PREFIX)) {
            throw new IllegalArgumentException(path + ": this is a failure file, not a shard result (replay it with "
                    + "'hmm4j replay'; merge takes the *-shard-I-of-N.json files of 'hmm4j explore --shard')");
        }
        if (tree == null || !tree.isObject() || !ShardResult.FORMAT.equals(format)) {
            throw new IllegalArgumentException(path + ": not an hmm4j shard result (expected \"format\": \""
                    + ShardResult.FORMAT + "\")");
        }
        for (String field : List.of("scenario", "strategy", "shard")) {
            if (!tree.path(field).isTextual()) {
                throw new IllegalArgumentException(path + ": not a valid shard result: '" + field + "' must be a string");
            }
        }
        for (String field : List.of("firstSeed", "runs", "lanes", "maxSteps", "runsDone")) {
            if (!tree.path(field).canConvertToLong()) {
                throw new IllegalArgumentException(path + ": not a valid shard result: '" + field + "' must be a whole number");
            }
        }
        ShardResult r;
        try {
            r = FailureFiles.json().treeToValue(tree, ShardResult.class);
        } catch (JsonProcessingException e) {
            throw new IllegalArgumentException(path + ": not a valid shard result: " + where(e));
        }
        Shard shard;
        try {
            shard = Shard.parse(r.shard());
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException(path + ": not a valid shard result: 'shard' " + e.getMessage());
        }
        String bad = r.runs() <= 0 ? "'runs' must be at least 1 (got " + r.runs() + ")"
                : r.lanes() <= 0 ? "'lanes' must be at least 1 (got " + r.lanes() + ")"
                : r.maxSteps() <= 0 ? "'maxSteps' must be at least 1 (got " + r.maxSteps() + ")"
                : r.runsDone() < 0 ? "'runsDone' must not be negative (got " + r.runsDone() + ")"
                : r.runsDone() > shard.runsBelow(r.runs()) ? "'runsDone' " + r.runsDone() + " is more than the "
                        + shard.runsBelow(r.runs()) + " runs of shard " + shard
                : r.failure() != null && !hmm4j.explore.Explorer.isCalibrationFailure(r.failure().runIndex(),
                        r.failure().strategy(), r.strategy())
                        && (r.failure().runIndex() < 0 || r.failure().runIndex() >= r.runs()
                        || r.failure().runIndex() % shard.count() != shard.index())
                        ? "the failure's 'runIndex' " + r.failure().runIndex() + " is not a run of shard " + shard
                : null;
        if (bad != null) {
            throw new IllegalArgumentException(path + ": not a valid shard result: " + bad);
        }
        return r;
    }

    /** The field a mapping error is about, e.g. {@code 'failure.seed' has the wrong type}. */
    private static String where(JsonProcessingException e) {
        if (e instanceof JsonMappingException m && !m.getPath().isEmpty()) {
            String field = m.getPath().stream().map(r -> r.getFieldName() != null ? r.getFieldName()
                    : String.valueOf(r.getIndex())).collect(java.util.stream.Collectors.joining("."));
            return "'" + field + "' has the wrong type or value";
        }
        return "a field has the wrong type or value";
    }

    /**
     * Merges {@code results}.
     *
     * @throws IllegalArgumentException when they are not shards of one exploration, or a shard repeats
     */
    public static Merged merge(List<ShardResult> results) {
        if (results.isEmpty()) throw new IllegalArgumentException("nothing to merge");
        ShardResult first = results.get(0);
        Shard s0 = Shard.parse(first.shard());
        TreeSet<Integer> seen = new TreeSet<>();
        long runs = 0;
        List<ShardResult.ShardFailure> failures = new ArrayList<>();
        java.util.TreeMap<String, ShardResult.ShardMark> marks = new java.util.TreeMap<>();
        for (ShardResult r : results) {
            Shard s = Shard.parse(r.shard());
            String mismatch = !r.scenario().equals(first.scenario()) ? "scenario " + r.scenario()
                    : !r.strategy().equals(first.strategy()) ? "strategy " + r.strategy()
                    : r.firstSeed() != first.firstSeed() ? "first seed " + r.firstSeed()
                    : r.runs() != first.runs() ? "runs " + r.runs()
                    : r.lanes() != first.lanes() ? "lanes " + r.lanes()
                    : r.maxSteps() != first.maxSteps() ? "max steps " + r.maxSteps()
                    : s.count() != s0.count() ? "shard count " + s.count() : null;
            if (mismatch != null) {
                throw new IllegalArgumentException("shard " + r.shard() + " is from another exploration (" + mismatch
                        + ", expected that of shard " + first.shard() + ")");
            }
            if (!seen.add(s.index())) {
                throw new IllegalArgumentException("shard " + r.shard() + " appears twice");
            }
            runs += r.runsDone();
            if (r.failure() != null) {
                failures.add(r.failure());
            }
            for (ShardResult.ShardMark m : r.marks()) {
                marks.merge(m.id(), m, (a, b) -> new ShardResult.ShardMark(a.id(), a.runs() + b.runs(),
                        Math.min(a.firstRun(), b.firstRun())));
            }
        }
        List<Integer> missing = new ArrayList<>();
        for (int i = 0; i < s0.count(); i++) {
            if (!seen.contains(i)) {
                missing.add(i);
            }
        }
        Optional<ShardResult.ShardFailure> earliest = failures.stream()
                .min(Comparator.comparingInt(ShardResult.ShardFailure::runIndex));
        return new Merged(first.scenario(), first.strategy(), s0.count(), seen.size(), missing, runs, earliest,
                List.copyOf(marks.values()));
    }
}
