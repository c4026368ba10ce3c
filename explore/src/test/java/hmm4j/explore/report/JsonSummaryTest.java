package hmm4j.explore.report;

import hmm4j.sim.report.GoldenFile;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import hmm4j.sim.RunResult;
import java.util.List;
import java.util.Optional;
import org.junit.jupiter.api.Test;

/** The --json summary: its fields from real runs, its exact text, and that it parses back. */
class JsonSummaryTest {

    private static List<JsonSummary.Scenario> scenarios() {
        RunResult uaf = ReportRuns.useAfterFree();
        return List.of(
                new JsonSummary.Scenario("R1-uaf", "device reads a freed mirror", "use-after-free", "use-after-free",
                        "mem.use-after-free", "mem.use-after-free", true, 1, 12.345, List.of(JsonSummary.FailureEntry.of(uaf, "hmm4j replay r1.json"))),
                new JsonSummary.Scenario("R2-counter", "adders under a mutex", "clean", "clean", "clean", "clean", true, 100, 80.0,
                        List.of()),
                new JsonSummary.Scenario("R3-abba", "AB-BA", "clean", "deadlock", "clean", "run.no-deadlock", false, 3, 1.0,
                        List.of(JsonSummary.FailureEntry.of(ReportRuns.deadlock(), null))));
    }

    @Test
    void failureEntry_ofARun_hasKindHeadlineSeedAndSite() {
        JsonSummary.FailureEntry f = JsonSummary.FailureEntry.of(ReportRuns.useAfterFree(), " ");
        assertEquals("USE_AFTER_FREE", f.kind());
        assertEquals("use-after-free", f.label());
        assertEquals("mem.use-after-free", f.rule());
        assertEquals(ReportRuns.USE_AFTER_FREE_SEED, f.seed());
        assertEquals("device", f.task());
        assertEquals(8, f.step());
        assertTrue(f.where().startsWith("ReportRuns$Mirror.readPfn("), f.where());
        assertEquals(Optional.empty(), f.replayCommand(), "a blank command is none");
    }

    @Test
    void render_parsesBack_withTheSummary() throws Exception {
        JsonNode root = new ObjectMapper().readTree(JsonSummary.render(scenarios()));
        assertEquals(3, root.get("scenarios").size());
        JsonNode first = root.get("scenarios").get(0);
        assertEquals("R1-uaf", first.get("id").asText());
        assertEquals(12.3, first.get("timeMs").asDouble());
        assertEquals("hmm4j replay r1.json", first.get("failures").get(0).get("replay").asText());
        assertFalse(root.get("scenarios").get(2).get("failures").get(0).has("replay"));
        assertEquals(2, root.get("summary").get("asExpected").asInt());
        assertEquals(1, root.get("summary").get("mismatches").asInt());
        assertEquals("run.no-deadlock", root.get("scenarios").get(2).get("actualRule").asText());
        assertEquals("run.no-deadlock", root.get("scenarios").get(2).get("failures").get(0).get("rule").asText());
    }

    @Test
    void render_matchesGolden() {
        GoldenFile.assertMatches("json-summary.json", JsonSummary.render(scenarios()));
    }
}
