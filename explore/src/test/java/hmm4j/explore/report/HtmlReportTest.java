package hmm4j.explore.report;

import hmm4j.sim.report.GoldenFile;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import hmm4j.sim.RunResult;
import hmm4j.sim.TraceEvent;
import java.util.List;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;

/** The HTML report: self-contained, complete, escaped, deterministic, and pinned by golden digests. */
class HtmlReportTest {

    private static final RunHeader HEADER = RunHeader.titled("use-after-free <demo>")
            .withReplayCommand("hmm4j replay 'run & co.json'")
            .withNotes(List.of("found by random-walk in run 7"));

    private static int count(String html, String regex) {
        return (int) Pattern.compile(regex).matcher(html).results().count();
    }

    @Test
    void page_isSelfContained_noScriptNoNetwork() {
        String html = HtmlReport.render(ReportRuns.useAfterFree(), HEADER);
        assertTrue(html.startsWith("<!DOCTYPE html>\n"), html);
        assertTrue(html.endsWith("</html>\n"), html);
        assertFalse(html.contains("<script"), "no script");
        assertFalse(html.contains("<link"), "no linked style sheet");
        assertFalse(html.contains("@import"), "no imported style sheet");
        assertFalse(Pattern.compile("(src|href)=\"(https?:)?//").matcher(html).find(), "no external resource");
        assertEquals(1, count(html, "http://"), "only the SVG namespace, which is no fetch: " + html);
        assertTrue(html.contains("xmlns=\"http://www.w3.org/2000/svg\""));
    }

    @Test
    void header_hasVerdictSeedAndReplayCommand_escaped() {
        RunResult r = ReportRuns.useAfterFree();
        String html = HtmlReport.render(r, HEADER);
        assertTrue(html.contains("<h1>use-after-free &lt;demo&gt;</h1>"), html);
        assertTrue(html.contains("<p class=\"verdict fail\">FAIL use-after-free: read mirror#1-&gt;pfn on freed mirror#1</p>"),
                html);
        assertTrue(html.contains("<dt>seed</dt><dd>" + r.seed() + "</dd>"), html);
        assertTrue(html.contains("<code class=\"replay\">hmm4j replay &#39;run &amp; co.json&#39;</code>"), html);
        assertTrue(html.contains("<pre class=\"notes\">found by random-walk in run 7\n</pre>"), html);
    }

    @Test
    void timeline_hasALanePerTask_aBlockPerEvent_aConnectorPerSwitch_andTheFailureInItsLane() {
        RunResult r = ReportRuns.useAfterFree();
        String html = HtmlReport.render(r, HEADER);
        assertEquals(r.taskNames().size(), count(html, "<text class=\"task\""));
        assertEquals(r.trace().size(), count(html, "<rect class=\"ev "));
        long switches = r.trace().stream().filter(e -> e.switchTo().isPresent()).count();
        assertTrue(switches > 0);
        assertEquals(switches, count(html, "<line class=\"sw "));
        int device = r.taskNames().indexOf("device") + 1;
        assertTrue(html.contains("<g class=\"failure\" data-slot=\"" + r.trace().size() + "\" data-task=\"" + device
                + "\" data-kind=\"failure\"><title>step 8 · device: use-after-free: read mirror#1-&gt;pfn on freed mirror#1"),
                html);
        assertEquals(r.trace().size(), count(html, "<tr id=\"e\\d+\""));
        assertTrue(html.contains("<tr id=\"failure-row\" class=\"failure\">"), html);
        assertTrue(html.contains("accessed by device at step 8:"), "the three sites: " + html);
        assertTrue(html.contains("allocated by probe at step 1:") && html.contains("freed by teardown at step 7:"), html);
        assertEquals(1, count(html, "<g class=\"site-mark\" data-slot=\"\\d+\" data-task=\"1\" data-kind=\"allocated\">"),
                "the allocation is flagged in the lane of probe");
        assertEquals(1, count(html, "<g class=\"site-mark\" data-slot=\"6\" data-task=\"3\" data-kind=\"freed\">"),
                "the free is flagged right after teardown's kfree: " + html);
    }

    @Test
    void waits_areBandsFromTheBlockToTheWakeUp_namingTheHolder() {
        RunResult r = ReportRuns.clean();
        String html = HtmlReport.render(r, RunHeader.titled("counter"));
        assertEquals(1, count(html, "<g class=\"wait blocked\""), html);
        assertTrue(html.contains("<title>blocked: mutex_lock(counter_lock) held by adder-a — woken by adder-a</title>"),
                html);
        assertTrue(html.contains("<p class=\"verdict pass\">PASS no failure found</p>"), html);
        assertFalse(html.contains("<section id=\"failure\">"), html);
    }

    @Test
    void deadlock_leavesBothWaitsOpenToTheEnd() {
        RunResult r = ReportRuns.deadlock();
        String html = HtmlReport.render(r, RunHeader.titled("ab-ba"));
        assertEquals(2, count(html, "still waiting when the run ended"), html);
    }

    @Test
    void maxEvents_drawsTheLastEvents_andSaysHowManyAreLeftOut() {
        RunResult r = ReportRuns.useAfterFree();
        String html = HtmlReport.render(r, HEADER, 3);
        assertEquals(3, count(html, "<rect class=\"ev "));
        assertTrue(html.contains((r.trace().size() - 3) + " earlier events are not drawn."), html);
        assertThrows(IllegalArgumentException.class, () -> HtmlReport.render(r, HEADER, 0));
    }

    @Test
    void sameRun_samePage() {
        assertEquals(HtmlReport.render(ReportRuns.useAfterFree(), HEADER),
                HtmlReport.render(ReportRuns.useAfterFree(), HEADER));
    }

    @Test
    void useAfterFree_digestMatchesGolden() {
        GoldenFile.assertMatches("html-use-after-free.txt", HtmlDigest.of(HtmlReport.render(ReportRuns.useAfterFree(),
                HEADER)));
    }

    @Test
    void deadlock_digestMatchesGolden() {
        GoldenFile.assertMatches("html-deadlock.txt", HtmlDigest.of(HtmlReport.render(ReportRuns.deadlock(),
                RunHeader.titled("ab-ba").withReplayCommand("hmm4j replay ab-ba.json"))));
    }

    @Test
    void everyEventKind_hasAStyle() {
        String html = HtmlReport.render(ReportRuns.clean(), RunHeader.titled(""));
        for (TraceEvent.Kind k : TraceEvent.Kind.values()) {
            assertTrue(html.contains("svg ." + SvgTimeline.kindClass(k) + ","), k.toString());
        }
        assertFalse(html.contains("<h1>"), "no title, no heading");
    }
}
