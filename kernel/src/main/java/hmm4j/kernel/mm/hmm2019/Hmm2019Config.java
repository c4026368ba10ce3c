package hmm4j.kernel.mm.hmm2019;

import java.util.EnumSet;
import java.util.Objects;
import java.util.Set;
import java.util.stream.Collectors;

/**
 * Which shape of the 2019 API runs: the patches applied on top of v5.2. {@link #of} gives a
 * released version; {@link #with} and {@link #without} flip one patch, refused (an
 * {@link IllegalArgumentException}) when the result lacks a patch another one needs.
 *
 * @param patches the applied patches (copied)
 */
public record Hmm2019Config(Set<Hmm2019Patch> patches) {

    public Hmm2019Config {
        EnumSet<Hmm2019Patch> copy = EnumSet.noneOf(Hmm2019Patch.class);
        copy.addAll(patches);
        for (Hmm2019Patch p : copy) {
            for (Hmm2019Patch need : p.needs()) {
                if (!copy.contains(need)) {
                    throw new IllegalArgumentException(p + " needs " + need + " (spec dependencies)");
                }
            }
        }
        patches = Set.copyOf(copy);
    }

    /** The configuration of a released version. */
    public static Hmm2019Config of(Hmm2019Version version) {
        return new Hmm2019Config(version.patches());
    }

    /** True if {@code patch} is applied. */
    public boolean has(Hmm2019Patch patch) {
        return patches.contains(patch);
    }

    /** This configuration with {@code patch} applied. */
    public Hmm2019Config with(Hmm2019Patch patch) {
        EnumSet<Hmm2019Patch> s = EnumSet.of(patch);
        s.addAll(patches);
        return new Hmm2019Config(s);
    }

    /** This configuration without {@code patch}. */
    public Hmm2019Config without(Hmm2019Patch patch) {
        EnumSet<Hmm2019Patch> s = EnumSet.noneOf(Hmm2019Patch.class);
        s.addAll(patches);
        s.remove(patch);
        return new Hmm2019Config(s);
    }

    /** "v5.2", "v5.3", "v5.4" for a released version, else "v5.2+P01+P12" and so on. */
    public String label() {
        for (Hmm2019Version v : Hmm2019Version.values()) {
            if (patches.equals(v.patches())) {
                return v.label();
            }
        }
        return "v5.2" + patches.stream().sorted().map(p -> "+" + p).collect(Collectors.joining());
    }

    @Override
    public String toString() {
        return Objects.toString(label());
    }
}
