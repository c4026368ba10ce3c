package hmm4j.sim;

import java.util.SplittableRandom;

/** Picks uniformly among the enabled tasks at every point, from a seeded generator. */
@HiddenFromSites
public final class RandomWalkStrategy implements Strategy {
    private final long seed;
    private final SplittableRandom random;

    public RandomWalkStrategy(long seed) {
        this.seed = seed;
        this.random = new SplittableRandom(seed);
    }

    @Override
    public int pick(SchedulingPoint point) {
        int n = point.enabled().size();
        return n == 1 ? 0 : random.nextInt(n);
    }

    @Override
    public String describe() {
        return "random-walk(seed=" + seed + ")";
    }
}
