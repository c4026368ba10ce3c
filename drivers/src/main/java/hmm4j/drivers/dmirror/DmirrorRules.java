package hmm4j.drivers.dmirror;

import static hmm4j.sim.failure.FailureKind.INVARIANT_VIOLATION;

import hmm4j.sim.rule.Rule;
import hmm4j.sim.rule.RuleSet;
import java.util.List;

/**
 * The rule of the HMM test device: its mirrors' device tables never hold a stale entry
 * (checked by {@code DmirrorValidator}). A driver of a user's own declares its rules the same
 * way, as constants and a {@link RuleSet} added to the catalogue.
 */
public final class DmirrorRules {
    /** The device table agrees with the CPU page table. */
    public static final Rule NO_STALE_ENTRY = Rule.own("dmirror.no-stale-entry", INVARIANT_VIOLATION,
            "no stale device entry: a mirror's table maps only what the CPU page table maps now, WRITE only where "
                    + "the CPU entry is writable, ATOMIC only while the page is device-exclusive, and a "
                    + "device-private page only in its own device's tables");

    /** The set, for the catalogue. */
    public static final RuleSet SET = new RuleSet("HMM test device (drivers, dmirror)",
            "Checked by the device-table validator of hmm4j.drivers.dmirror after every commit, install and "
                    + "invalidation, before every use of an entry, and at release and quiescence.",
            List.of(NO_STALE_ENTRY));

    private DmirrorRules() {
    }
}
