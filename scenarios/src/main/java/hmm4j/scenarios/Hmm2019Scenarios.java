package hmm4j.scenarios;

import static hmm4j.kernel.mm.hmm2019.Hmm2019Version.V5_2;
import static hmm4j.kernel.mm.hmm2019.Hmm2019Version.V5_3;
import static hmm4j.kernel.mm.hmm2019.Hmm2019Version.V5_4;

import hmm4j.kernel.mm.hmm2019.Hmm2019;
import hmm4j.kernel.mm.hmm2019.Hmm2019Config;
import hmm4j.kernel.mm.hmm2019.Hmm2019Patch;
import hmm4j.kernel.mm.hmm2019.Hmm2019Rules;
import hmm4j.kernel.mm.hmm2019.Hmm2019Version;
import hmm4j.sim.Kernel;
import hmm4j.sim.rule.SimRules;
import java.util.ArrayList;
import java.util.List;
import java.util.function.BiConsumer;

/**
 * The series of the 2019 HMM review: one scenario pair per patch of the June 2019 review of the HMM
 * mirror API (H19-P01 to H19-P12), the 5.3-rc {@code -EBUSY} fix (H19-RC), the
 * {@code hmm_mirror_mm_is_alive} hint (H19-S2), the 5.4 {@code mmu_notifier_get} conversion
 * (H19-G) and the valid-flag race no version fixed (H19-SEQ). Each pair runs one set-up on
 * the version before and the version after; {@link #series()} lists them as rows for
 * {@code hmm4j check --series} with {@link #SERIES}.
 */
public final class Hmm2019Scenarios {
    /** The series' name on the command line. */
    public static final String SERIES = "hmm2019";

    /**
     * One row of the series: a patch (or fix), the race it removes, and its scenario on the
     * version before and after.
     *
     * @param id     the row's id, e.g. {@code H19-P01}
     * @param title  the patch's subject
     * @param race   what goes wrong without it
     * @param before the scenario on the version before
     * @param after  the scenario on the version after
     */
    public record Row(String id, String title, String race, Scenario before, Scenario after) {
    }

    /**
     * Why bounded DFS misses a race that the portfolio and the other strategies find: it
     * enumerates schedules with at most two preemptions in order, varying the last preemption
     * points first, and 1000 runs of a long run never move the first preemption back to the
     * early point the race needs.
     */
    private static final String DFS_LATE =
            "bounded DFS (2 preemptions) varies the last preemption points first; the race needs a preemption"
                    + " early in a long run, which 1000 runs of dfs:2 do not reach";

    private static final List<Row> ROWS = rows();

    private Hmm2019Scenarios() {
    }

    /** The rows of the series, in patch order. */
    public static List<Row> series() {
        return ROWS;
    }

    /** Every scenario of the series, the version before then after, row by row. */
    public static List<Scenario> all() {
        List<Scenario> all = new ArrayList<>();
        for (Row r : ROWS) {
            all.add(r.before());
            all.add(r.after());
        }
        return List.copyOf(all);
    }

    private static Scenario scenario(String id, Hmm2019Version v, String title, Expectation e,
            BiConsumer<Kernel, Hmm2019Config> setUp) {
        Hmm2019Config c = Hmm2019Config.of(v);
        return new DesignScenario(id + "-" + v.label(), title + " (" + v.label() + ")", e, k -> setUp.accept(k, c));
    }

    private static Row row(String id, Hmm2019Patch patch, Expectation before, Expectation after,
            BiConsumer<Kernel, Hmm2019Config> setUp) {
        return row(id, patch.title(), patch.race(), V5_2, before, V5_3, after, setUp);
    }

    private static Row row(String id, String title, String race, Hmm2019Version v1, Expectation before,
            Hmm2019Version v2, Expectation after, BiConsumer<Kernel, Hmm2019Config> setUp) {
        return new Row(id, title, race, scenario(id, v1, race, before, setUp), scenario(id, v2, race, after, setUp));
    }

    private static List<Row> rows() {
        Expectation clean = Expectation.clean().reaching(Hmm2019.FREE_DEFERRED);
        Expectation clean52 = Expectation.clean().reaching(Hmm2019.FREE_IMMEDIATE);
        Expectation cleanRange = Expectation.clean().reaching(Hmm2019.FREE_DEFERRED, Hmm2019.RANGE_MMGET);
        Expectation cleanExit = Expectation.clean().reaching(Hmm2019.FREE_DEFERRED, Hmm2019.RELEASE_CALLED);
        return List.of(
                row("H19-P01", Hmm2019Patch.P01, Expectation.finds(Hmm2019Rules.NULL_HMM), clean,
                        Hmm2019Setups::p01),
                row("H19-P02", Hmm2019Patch.P02, Expectation.finds(SimRules.ASSERT_HELD), clean, Hmm2019Setups::p02),
                row("H19-P03", Hmm2019Patch.P03, Expectation.finds(Hmm2019Rules.HMM_PINS_MM), cleanExit, Hmm2019Setups::p03),
                row("H19-P04", Hmm2019Patch.P04, Expectation.finds(Hmm2019Rules.REGISTER_NO_SPURIOUS_ENOMEM).missedBy("dfs:2",
                        Hmm2019Rules.MM_HMM_LIVE, "the window of spec section 4 holds a second v5.2 bug, fixed by"
                        + " the same patch: mm_get_hmm reads mm->hmm without page_table_lock, so its"
                        + " kref_get_unless_zero can touch the hmm hmm_free has just freed (I-H9, marked broken in"
                        + " v5.2 by section 5); DFS's first schedules preempt the reader there before the ENOMEM"
                        + " path is reached. The expectation stays the ENOMEM section 4 names for this patch"), clean,
                        Hmm2019Setups::p04),
                row("H19-P05", Hmm2019Patch.P05, clean52, Expectation.finds(SimRules.SLEEP_IN_ATOMIC_RULE), Hmm2019Setups::p05),
                row("H19-P06", Hmm2019Patch.P06, clean52, cleanRange, Hmm2019Setups::p06),
                row("H19-P07", Hmm2019Patch.P07, Expectation.finds(SimRules.PIN), cleanRange, Hmm2019Setups::p07),
                row("H19-P08", Hmm2019Patch.P08, clean52, Expectation.finds(SimRules.ASSERT_HELD), Hmm2019MoreSetups::p08),
                row("H19-P09", Hmm2019Patch.P09, Expectation.finds(SimRules.PUT_WITHOUT_GET),
                        Expectation.finds(Hmm2019Rules.MIRROR_UNREGISTER_ONCE), Hmm2019MoreSetups::p09),
                row("H19-P10", Hmm2019Patch.P10, clean52, Expectation.finds(Hmm2019Rules.RANGE_UNREGISTER_ONCE),
                        Hmm2019MoreSetups::p10),
                row("H19-P11", Hmm2019Patch.P11, Expectation.finds(Hmm2019Rules.MIRROR_LIVE), cleanExit, Hmm2019MoreSetups::p11),
                row("H19-P11-sync-unreg", Hmm2019Patch.P11.title(),
                        "a ->release that unregisters its mirror at once deadlocks once release holds mirrors_sem",
                        V5_2, Expectation.clean().reaching(Hmm2019.FREE_IMMEDIATE, Hmm2019.RELEASE_CALLED), V5_3, Expectation.finds(Hmm2019Rules.RELEASE_NO_MIRRORS_SEM),
                        Hmm2019MoreSetups::p11SyncUnregister),
                row("H19-P12a", Hmm2019Patch.P12.title(), "a failed non-blocking start leaks hmm->notifiers",
                        V5_2, Expectation.finds(Hmm2019Rules.NOTIFIERS_BALANCED), V5_3, clean, Hmm2019MoreSetups::p12a),
                row("H19-P12b", Hmm2019Patch.P12.title(), "a sync's -EAGAIN is swallowed and start returns 0",
                        V5_2, Expectation.finds(Hmm2019Rules.START_ZERO_ALL_SYNCED), V5_3, clean, Hmm2019MoreSetups::p12b),
                row("H19-RC", Hmm2019Patch.RC, Expectation.finds(SimRules.UNLOCK_BY_HOLDER).missedBy("dfs:2", DFS_LATE), cleanRange, Hmm2019MoreSetups::rc),
                row("H19-S2", "mm/hmm: hmm_mirror_mm_down_read / hmm_mirror_mm_is_alive (removed by P07)",
                        "a liveness hint used as the only guard lets a worker walk a dying address space",
                        V5_2, Expectation.finds(SimRules.PIN), V5_3, clean, Hmm2019MoreSetups::s2),
                row("H19-G", Hmm2019Patch.GET.title(),
                        "stricter later: a range left registered when its mirror is unregistered (v5.3 tolerates it)",
                        V5_3, cleanRange, V5_4, Expectation.finds(Hmm2019Rules.FREE_EMPTY), Hmm2019MoreSetups::gRangeAfterUnregister),
                row("H19-SEQ", "(none: fixed in 5.5 by mmu_interval_notifier's sequence count)",
                        "an invalidation that starts and ends between the walk and hmm_range_valid goes unseen",
                        V5_2, Expectation.finds(Hmm2019Rules.VALID_MEANS_CURRENT).missedBy("dfs:2", DFS_LATE), V5_3,
                        Expectation.finds(Hmm2019Rules.VALID_MEANS_CURRENT).missedBy("dfs:2", DFS_LATE),
                        Hmm2019MoreSetups::seq));
    }
}
