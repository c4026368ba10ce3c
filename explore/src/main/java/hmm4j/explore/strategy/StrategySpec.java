package hmm4j.explore.strategy;

import hmm4j.sim.HiddenFromSites;
import hmm4j.sim.RandomWalkStrategy;
import hmm4j.sim.Strategy;
import java.util.List;
import java.util.Locale;

/**
 * Which strategy an exploration uses, as written on the command line and in failure files:
 * {@code random}, {@code pct} or {@code pct:D} (bug depth {@code D}, default 3), {@code pos},
 * {@code dfs} or {@code dfs:K} (preemption bound {@code K}, default 2), or
 * {@code portfolio} (the default), which rotates {@link #PORTFOLIO_MEMBERS} by run index.
 *
 * <p>A run of a seeded strategy (all but {@code dfs}) is fully determined by the spec, the
 * run's index and seed, and, for PCT, the estimated run length: {@link #forRun} builds the
 * same strategy for the same arguments in any worker. {@code dfs} is a search over runs and
 * is built by the explorer as a {@link DfsSearch}.
 *
 * @param kind      the strategy
 * @param parameter PCT's depth or DFS's preemption bound; 0 for the others
 */
@HiddenFromSites
public record StrategySpec(Kind kind, int parameter) {

    /** The strategies. */
    public enum Kind {
        RANDOM("random"), PCT("pct"), POS("pos"), DFS("dfs"), PORTFOLIO("portfolio");

        private final String label;

        Kind(String label) {
            this.label = label;
        }

        /** The name on the command line. */
        public String label() {
            return label;
        }
    }

    /** PCT's default bug depth. */
    public static final int DEFAULT_PCT_DEPTH = 3;
    /** DFS's default preemption bound. */
    public static final int DEFAULT_DFS_BOUND = 2;

    public static final StrategySpec RANDOM = new StrategySpec(Kind.RANDOM, 0);
    public static final StrategySpec POS = new StrategySpec(Kind.POS, 0);
    public static final StrategySpec PORTFOLIO = new StrategySpec(Kind.PORTFOLIO, 0);

    /**
     * The portfolio's members, in rotation order: run {@code i} uses member {@code i mod 4}.
     * PCT at depth 3 and 2 finds bugs of few ordering constraints with a guaranteed
     * probability; the random walk and POS cover bugs that need many switches.
     */
    public static final List<StrategySpec> PORTFOLIO_MEMBERS =
            List.of(pct(DEFAULT_PCT_DEPTH), RANDOM, POS, pct(2));

    public StrategySpec {
        if (kind == null) throw new IllegalArgumentException("kind is null");
        switch (kind) {
            case PCT -> {
                if (parameter < 1) throw new IllegalArgumentException("pct depth must be at least 1: " + parameter);
            }
            case DFS -> {
                if (parameter < 0) throw new IllegalArgumentException("dfs bound must not be negative: " + parameter);
            }
            default -> {
                if (parameter != 0) throw new IllegalArgumentException(kind.label() + " takes no parameter");
            }
        }
    }

    /** PCT with bug depth {@code depth}. */
    public static StrategySpec pct(int depth) {
        return new StrategySpec(Kind.PCT, depth);
    }

    /** Bounded DFS with at most {@code bound} preemptions per schedule. */
    public static StrategySpec dfs(int bound) {
        return new StrategySpec(Kind.DFS, bound);
    }

    /**
     * Parses {@code random}, {@code pct}, {@code pct:D}, {@code pos}, {@code dfs},
     * {@code dfs:K} or {@code portfolio} (case-insensitive).
     *
     * @throws IllegalArgumentException with a one-line message naming the accepted forms
     */
    public static StrategySpec parse(String text) {
        String t = text == null ? "" : text.strip().toLowerCase(Locale.ROOT);
        int colon = t.indexOf(':');
        String name = colon < 0 ? t : t.substring(0, colon);
        Integer value = null;
        if (colon >= 0) {
            try {
                value = Integer.parseInt(t.substring(colon + 1));
            } catch (NumberFormatException e) {
                throw new IllegalArgumentException("bad strategy parameter in '" + text + "' (expected a number after ':')");
            }
        }
        for (Kind k : Kind.values()) {
            if (!k.label().equals(name)) {
                continue;
            }
            return switch (k) {
                case PCT -> pct(value == null ? DEFAULT_PCT_DEPTH : value);
                case DFS -> dfs(value == null ? DEFAULT_DFS_BOUND : value);
                default -> {
                    if (value != null) throw new IllegalArgumentException(k.label() + " takes no parameter: '" + text + "'");
                    yield new StrategySpec(k, 0);
                }
            };
        }
        throw new IllegalArgumentException("unknown strategy '" + text + "' (expected " + forms() + ")");
    }

    /** The accepted forms, for help and error messages. */
    public static String forms() {
        return "random, pct[:DEPTH], pos, dfs[:BOUND] or portfolio";
    }

    /** The canonical text, which {@link #parse} reads back: {@code pct:3}, {@code random}, ... */
    public String text() {
        return switch (kind) {
            case PCT, DFS -> kind.label() + ":" + parameter;
            default -> kind.label();
        };
    }

    /** True for DFS, whose runs depend on each other and so run one after another. */
    public boolean sequential() {
        return kind == Kind.DFS;
    }

    /** True when runs need the estimated run length ({@code pct}, and the portfolio through it). */
    public boolean needsRunLength() {
        return kind == Kind.PCT || kind == Kind.PORTFOLIO && PORTFOLIO_MEMBERS.stream().anyMatch(m -> m.kind == Kind.PCT);
    }

    /** The strategy run {@code runIndex} uses: the portfolio's member for it, else this spec. */
    public StrategySpec member(long runIndex) {
        return kind == Kind.PORTFOLIO ? PORTFOLIO_MEMBERS.get(Math.floorMod(runIndex, PORTFOLIO_MEMBERS.size())) : this;
    }

    /**
     * The strategy of run {@code runIndex} with kernel seed {@code seed}.
     *
     * @param runLength the estimated number of scheduling decisions of a run (for PCT)
     * @throws IllegalStateException for {@code dfs}, which the explorer builds as a search
     */
    public Strategy forRun(long runIndex, long seed, long runLength) {
        StrategySpec m = member(runIndex);
        return switch (m.kind) {
            case RANDOM -> new RandomWalkStrategy(seed);
            case PCT -> new PctStrategy(m.parameter, Math.max(1, runLength), seed);
            case POS -> new PosStrategy(seed);
            case DFS, PORTFOLIO -> throw new IllegalStateException(m.text() + " is not a per-run strategy");
        };
    }

    @Override
    public String toString() {
        return text();
    }
}
