package hmm4j.explore.strategy;

import hmm4j.sim.HiddenFromSites;

/**
 * Derives independent generator seeds from a run's seed, so that a strategy's choices are
 * not the same sequence as the kernel's own model randomness, which uses the run's seed
 * directly.
 */
@HiddenFromSites
final class Seeds {
    private Seeds() {
    }

    /** A well-mixed 64-bit value from {@code seed} and a per-strategy {@code salt} (SplitMix64 finaliser). */
    static long mix(long seed, long salt) {
        long z = seed + salt * 0x9E37_79B9_7F4A_7C15L;
        z = (z ^ (z >>> 30)) * 0xBF58_476D_1CE4_E5B9L;
        z = (z ^ (z >>> 27)) * 0x94D0_49BB_1331_11EBL;
        return z ^ (z >>> 31);
    }
}
