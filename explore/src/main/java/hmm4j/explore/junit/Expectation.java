package hmm4j.explore.junit;

import hmm4j.sim.HiddenFromSites;
import hmm4j.sim.failure.Failure;
import hmm4j.sim.failure.FailureKind;
import hmm4j.sim.rule.Rule;
import java.util.Arrays;
import java.util.Optional;
import java.util.stream.Collectors;

/**
 * The {@code expect} attribute of {@link Explore}: the failure a known-bad design must be
 * caught with, either a rule id ({@code mm.pin}: the failure must break that rule) or a
 * failure kind's name ({@code USE_AFTER_FREE}: any rule of that kind). The explorer only
 * sees {@code sim}, not the catalogue of rules, so a rule id is checked for its form here
 * and for its existence by the exploration itself: a failure of another rule says which.
 *
 * @param text the attribute as written
 * @param rule the rule id, when the attribute is one
 * @param kind the failure kind, when the attribute is one
 */
@HiddenFromSites
record Expectation(String text, Optional<String> rule, Optional<FailureKind> kind) {

    /** The attribute's value when nothing is expected. */
    static final String NONE = "";

    /**
     * Parses the attribute: empty for none, an upper-case name for a failure kind, else a rule id.
     *
     * @throws IllegalArgumentException naming what the value may be
     */
    static Optional<Expectation> parse(String text) {
        String t = text.strip();
        if (t.isEmpty()) {
            return Optional.empty();
        }
        if (t.matches("[A-Z][A-Z0-9_]*")) {
            try {
                return Optional.of(new Expectation(t, Optional.empty(), Optional.of(FailureKind.valueOf(t))));
            } catch (IllegalArgumentException e) {
                throw new IllegalArgumentException("unknown failure kind '" + t + "' (known: " + kinds() + ")", e);
            }
        }
        if (!Rule.ID.matcher(t).matches()) {
            throw new IllegalArgumentException("'" + t + "' is neither a rule id (lower-case words joined by dots, "
                    + "e.g. mm.pin) nor a failure kind (" + kinds() + ")");
        }
        return Optional.of(new Expectation(t, Optional.of(t), Optional.empty()));
    }

    private static String kinds() {
        return Arrays.stream(FailureKind.values()).map(Enum::name).collect(Collectors.joining(", "));
    }

    /** {@code rule mm.pin} or {@code kind USE_AFTER_FREE}. */
    String describe() {
        return rule.map(r -> "rule " + r).orElseGet(() -> "kind " + kind.orElseThrow().name());
    }

    /** True when {@code failure} is the expected one. */
    boolean matches(Failure failure) {
        return rule.map(r -> r.equals(failure.rule().id())).orElseGet(() -> kind.orElseThrow() == failure.kind());
    }

    /** {@code rule mm.pin (kind UNPINNED_ADDRESS_SPACE)}: what a failure is, in the attribute's terms. */
    static String describe(Failure failure) {
        return "rule " + failure.rule().id() + " (kind " + failure.kind().name() + ")";
    }
}
