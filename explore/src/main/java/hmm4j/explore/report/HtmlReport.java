package hmm4j.explore.report;

import hmm4j.sim.HiddenFromSites;
import hmm4j.sim.RunResult;
import hmm4j.sim.TraceEvent;
import hmm4j.sim.failure.Failure;
import hmm4j.sim.report.EventText;
import hmm4j.sim.report.FailureText;
import hmm4j.sim.report.TextReport;
import java.util.List;

/**
 * The HTML report of one run: a single self-contained page (inline CSS and SVG, no script,
 * no font, image or style sheet fetched from anywhere), readable in any browser, offline.
 *
 * <p>API: {@link #render(RunResult, RunHeader)} returns the page as a string; write it to a
 * {@code .html} file. {@link #render(RunResult, RunHeader, int)} bounds the events drawn
 * (the last ones; the default is {@value #DEFAULT_EVENTS}).
 * {@link #render(RunResult, RunResult, RunHeader)} shows a failure's minimised run and puts the
 * run as found one click away (a {@code <details>} element, no script), with its own timeline
 * and event table.
 *
 * <p>The page, top to bottom:
 * <ol>
 *   <li>the header: the title, the one-line verdict ({@link TextReport#verdict}), seed,
 *       strategy and steps, the replay command when the caller has one, and the caller's
 *       notes;</li>
 *   <li>the timeline ({@link SvgTimeline}): one lane per task, steps along the x axis, a
 *       block per operation, a band per wait, every context switch drawn from the task that
 *       stopped to the task that runs and coloured by its reason, the failure marked
 *       {@code ✗}; hovering a mark shows the operation and its code site;</li>
 *   <li>the failure: headline and details, laid out as the text report lays them out
 *       ({@link FailureText}: a use-after-free's three sites, lockdep's two-task table);</li>
 *   <li>the events: a table with one row per event (step, task, what it did, the switch
 *       after it, the code site), which the timeline's blocks link to.</li>
 * </ol>
 * The page holds no wall-clock time, so the same run gives the same page.
 */
@HiddenFromSites
public final class HtmlReport {
    /** Events drawn by default (the last ones of the run). */
    public static final int DEFAULT_EVENTS = 2000;

    private HtmlReport() {
    }

    /** The page for {@code run} under {@code header}, with at most {@value #DEFAULT_EVENTS} events. */
    public static String render(RunResult run, RunHeader header) {
        return render(run, header, DEFAULT_EVENTS);
    }

    /** The page for {@code run} under {@code header}, drawing at most {@code maxEvents} events. */
    public static String render(RunResult run, RunHeader header, int maxEvents) {
        return render(run, null, header, maxEvents);
    }

    /**
     * The page of a failure's minimised run {@code minimal}, with the run as found, {@code full},
     * one click away; {@code minimal} null: the page of {@code full} alone.
     */
    public static String render(RunResult minimal, RunResult full, RunHeader header) {
        return minimal == null ? render(full, header) : render(minimal, full, header, DEFAULT_EVENTS);
    }

    private static String render(RunResult run, RunResult full, RunHeader header, int maxEvents) {
        if (maxEvents < 1) {
            throw new IllegalArgumentException("maxEvents must be at least 1: " + maxEvents);
        }
        Timeline t = new Timeline(run, maxEvents);
        StringBuilder b = new StringBuilder(16_384 + run.trace().size() * 600);
        String verdict = TextReport.verdict(run);
        b.append("<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n")
                .append("<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n")
                .append("<title>").append(Html.escape((header.title().isEmpty() ? "" : header.title() + " · ")
                        + verdict)).append("</title>\n")
                .append("<style>\n").append(HtmlStyle.CSS).append("</style>\n</head>\n<body>\n");
        header(b, run, header, verdict);
        timeline(b, t, full == null ? null : new Timeline(full, maxEvents));
        failures(b, run);
        events(b, t, "e");
        b.append("<footer>hmm4j report: one file, no script, nothing loaded from the network.</footer>\n")
                .append("</body>\n</html>\n");
        return b.toString();
    }

    private static void header(StringBuilder b, RunResult run, RunHeader header, String verdict) {
        b.append("<header>\n");
        if (!header.title().isEmpty()) {
            b.append("<h1>").append(Html.escape(header.title())).append("</h1>\n");
        }
        String cls = run.divergence().isPresent() ? "diverged" : run.clean() ? "pass" : "fail";
        b.append("<p class=\"verdict ").append(cls).append("\">").append(Html.escape(verdict)).append("</p>\n");
        b.append("<dl class=\"facts\">");
        fact(b, "seed", String.valueOf(run.seed()));
        fact(b, "strategy", run.strategy());
        fact(b, "steps", String.valueOf(run.steps()));
        fact(b, "tasks", String.join(", ", run.taskNames()));
        header.replayCommand().ifPresent(c -> b.append("<dt>replay</dt><dd><code class=\"replay\">")
                .append(Html.escape(c)).append("</code></dd>"));
        b.append("</dl>\n");
        if (!header.notes().isEmpty()) {
            b.append("<pre class=\"notes\">");
            header.notes().forEach(n -> b.append(Html.escape(n)).append('\n'));
            b.append("</pre>\n");
        }
        b.append("</header>\n");
    }

    private static void fact(StringBuilder b, String name, String value) {
        b.append("<dt>").append(name).append("</dt><dd>").append(Html.escape(value)).append("</dd>");
    }

    private static void timeline(StringBuilder b, Timeline t, Timeline full) {
        b.append("<section id=\"timeline\">\n<h2>Timeline</h2>\n");
        b.append("<p class=\"hint\">One lane per task, one block per event along the steps; a band is a wait, an arrow a "
                + "context switch to the task that runs next; key events are labelled. Hover a mark for the operation and "
                + "its code site; click a block for its row in the event table.</p>\n");
        if (full != null) {
            b.append("<p class=\"hint minimised\">The minimised run: the same failure in ").append(plural(switches(t)))
                    .append(" (the run as found had ").append(switches(full)).append("; it is below the legend).</p>\n");
        }
        svg(b, t, "e");
        legend(b);
        if (full != null) {
            b.append("<details class=\"full\"><summary>The run as found: ").append(full.run().steps()).append(" steps, ")
                    .append(plural(switches(full))).append("</summary>\n");
            svg(b, full, "f");
            events(b, full, "f");
            b.append("</details>\n");
        }
        b.append("</section>\n");
    }

    private static String plural(long switches) {
        return switches + " context switch" + (switches == 1 ? "" : "es");
    }

    private static long switches(Timeline t) {
        return t.events().stream().filter(e -> e.switchTo().isPresent()).count();
    }

    private static void svg(StringBuilder b, Timeline t, String rowPrefix) {
        if (t.hidden() > 0) {
            b.append("<p class=\"hint\">").append(t.hidden()).append(" earlier events are not drawn.</p>\n");
        }
        if (t.events().isEmpty()) {
            b.append("<p class=\"hint\">The run recorded no trace events.</p>\n");
        }
        SvgTimeline svg = new SvgTimeline(t, rowPrefix);
        b.append("<div class=\"scroll\">\n").append(svg.svg()).append("</div>\n");
        if (svg.leftOut() > 0) {
            b.append("<p class=\"hint\">").append(svg.leftOut())
                    .append(" more labels found no room: hover their blocks.</p>\n");
        }
    }

    private static void legend(StringBuilder b) {
        b.append("<ul class=\"legend\">");
        for (TraceEvent.Kind k : TraceEvent.Kind.values()) {
            b.append("<li><span class=\"swatch ").append(SvgTimeline.kindClass(k)).append("\"></span>")
                    .append(SvgTimeline.kindClass(k).replace('-', ' ')).append("</li>");
        }
        for (TraceEvent.SwitchReason r : TraceEvent.SwitchReason.values()) {
            b.append("<li><span class=\"swatch line\" style=\"background:").append(SvgTimeline.switchColour(r))
                    .append("\"></span>switch: ").append(r.label()).append("</li>");
        }
        b.append("<li><span class=\"swatch failure\"></span>failure</li></ul>\n");
    }

    private static void failures(StringBuilder b, RunResult run) {
        if (run.failures().isEmpty() && run.divergence().isEmpty()) {
            return;
        }
        b.append("<section id=\"failure\">\n<h2>Failure</h2>\n");
        run.divergence().ifPresent(d -> b.append("<p class=\"headline\">diverged: ").append(Html.escape(d))
                .append("</p>\n"));
        for (Failure f : run.failures()) {
            b.append("<p class=\"headline\">").append(Html.escape(f.headline())).append("</p>\n<pre class=\"details\">");
            for (String line : FailureText.details(f)) {
                b.append(Html.escape(line)).append('\n');
            }
            b.append("</pre>\n");
        }
        b.append("</section>\n");
    }

    private static void events(StringBuilder b, Timeline t, String rowPrefix) {
        boolean main = rowPrefix.equals("e");
        b.append(main ? "<section id=\"events\">\n<h2>Events</h2>\n" : "").append("<table>\n<thead><tr><th>step</th><th>task</th><th>event</th>"
                + "<th>then</th><th>code site</th></tr></thead>\n<tbody>\n");
        List<TraceEvent> events = t.events();
        for (int s = 0; s < events.size(); s++) {
            TraceEvent e = events.get(s);
            b.append("<tr id=\"").append(rowPrefix).append(s).append("\" class=\"").append(SvgTimeline.kindClass(e.kind())).append("\">")
                    .append("<td>").append(e.step()).append("</td><td>").append(Html.escape(e.task()))
                    .append("</td><td>").append(Html.escape(EventText.describe(e))).append("</td><td>")
                    .append(Html.escape(EventText.describeSwitchWithReason(e).orElse(""))).append("</td><td><code>")
                    .append(Html.escape(e.where())).append("</code></td></tr>\n");
        }
        t.failure().ifPresent(f -> b.append("<tr id=\"").append(main ? "failure-row" : rowPrefix + "-failure-row")
                .append("\" class=\"failure\"><td>").append(f.site().step())
                .append("</td><td>").append(Html.escape(f.site().task())).append("</td><td>")
                .append(Html.escape(EventText.failureMark(f))).append("</td><td></td><td><code>")
                .append(Html.escape(f.site().where())).append("</code></td></tr>\n"));
        b.append("</tbody>\n</table>\n").append(main ? "</section>\n" : "");
    }
}
