package hmm4j.explore;

import hmm4j.sim.HiddenFromSites;

/**
 * One part of an exploration's run space: shard {@code index} of {@code count} owns the run
 * indices {@code r} with {@code r mod count == index}. The split is a pure function of the
 * run index, so shards run on different machines together cover every run exactly once,
 * and {@code hmm4j merge} joins their results.
 *
 * @param index this shard, from 0
 * @param count the number of shards, at least 1
 */
@HiddenFromSites
public record Shard(int index, int count) {

    /** The whole run space. */
    public static final Shard ALL = new Shard(0, 1);

    public Shard {
        if (count < 1) throw new IllegalArgumentException("shard count must be at least 1: " + count);
        if (index < 0 || index >= count) {
            throw new IllegalArgumentException("shard index must be in [0, " + count + "): " + index);
        }
    }

    /**
     * Parses {@code i/n}, e.g. {@code 0/4}.
     *
     * @throws IllegalArgumentException with a one-line message
     */
    public static Shard parse(String text) {
        String t = text == null ? "" : text.strip();
        int slash = t.indexOf('/');
        if (slash < 0) {
            throw new IllegalArgumentException("bad shard '" + text + "' (expected i/n, e.g. 0/4)");
        }
        try {
            return new Shard(Integer.parseInt(t.substring(0, slash)), Integer.parseInt(t.substring(slash + 1)));
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException("bad shard '" + text + "' (expected i/n, e.g. 0/4)");
        }
    }

    /** True when run {@code runIndex} belongs to this shard. */
    public boolean owns(long runIndex) {
        return Math.floorMod(runIndex, count) == index;
    }

    /** The {@code position}-th run index of this shard (0-based). */
    public long runIndexAt(long position) {
        return index + count * position;
    }

    /** The number of run indices below {@code limit} that belong to this shard. */
    public long runsBelow(long limit) {
        return limit <= index ? 0 : (limit - index + count - 1) / count;
    }

    /** {@code i/n}. */
    @Override
    public String toString() {
        return index + "/" + count;
    }
}
