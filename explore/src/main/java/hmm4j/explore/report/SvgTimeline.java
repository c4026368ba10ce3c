package hmm4j.explore.report;

import hmm4j.sim.HiddenFromSites;
import hmm4j.sim.TraceEvent;
import hmm4j.sim.failure.Failure;
import hmm4j.sim.failure.Site;
import hmm4j.sim.report.EventText;
import java.util.List;
import java.util.Locale;

/**
 * The timeline of a run as one static SVG element: a lane per task, an event per slot along
 * the x axis (labelled with step numbers), a block per event coloured by its kind, a band
 * for every wait (labelled with what the task waits for when it fits), a connector for every
 * context switch from the lane that stopped to the lane that runs, coloured by its reason,
 * and the failure marked after the last event in the lane of the task it happened in; for a
 * use-after-free, flags where the object was allocated and freed.
 *
 * <p>Every mark has an SVG {@code <title>}, which browsers show as a tooltip without any
 * script: the step, the task, the event in words ({@link EventText}) and its code site.
 * Every block links to its row of the page's event table ({@code #e<slot>}). Marks carry
 * {@code data-slot}, {@code data-task} and {@code data-kind} attributes, which tests read.
 */
@HiddenFromSites
final class SvgTimeline {
    static final int GUTTER = 170;
    static final int TOP = 30;
    static final int LANE = 32;
    static final int BLOCK = 18;
    private static final int FAILURE_ROOM = 48;
    private static final int MIN_SLOT = 10;
    private static final int MAX_SLOT = 24;
    private static final int TICK_SPACING = 40;
    private static final double CHAR_WIDTH = 6.6;

    private final Timeline t;
    private final int slot;
    private final StringBuilder b = new StringBuilder();

    private SvgTimeline(Timeline t) {
        this.t = t;
        int n = Math.max(1, t.events().size());
        this.slot = Math.max(MIN_SLOT, Math.min(MAX_SLOT, 1100 / n));
    }

    /** The {@code <svg>} element for {@code t}. */
    static String render(Timeline t) {
        return new SvgTimeline(t).svg();
    }

    private int x(int s) {
        return GUTTER + s * slot;
    }

    private int laneTop(int task) {
        return TOP + task * LANE;
    }

    private int laneMid(int task) {
        return laneTop(task) + LANE / 2;
    }

    private String svg() {
        List<String> tasks = t.tasks();
        int width = x(t.events().size()) + FAILURE_ROOM;
        int height = TOP + Math.max(1, tasks.size()) * LANE + 8;
        b.append(String.format(Locale.ROOT, "<svg xmlns=\"http://www.w3.org/2000/svg\" class=\"timeline\" width=\"%d\" "
                + "height=\"%d\" viewBox=\"0 0 %d %d\" role=\"img\" aria-label=\"timeline of %d tasks over %d events\">%n",
                width, height, width, height, tasks.size(), t.events().size()));
        b.append("<defs>");
        for (TraceEvent.SwitchReason r : TraceEvent.SwitchReason.values()) {
            b.append(String.format(Locale.ROOT, "<marker id=\"arrow-%s\" viewBox=\"0 0 10 10\" refX=\"9\" refY=\"5\" "
                    + "markerWidth=\"7\" markerHeight=\"7\" orient=\"auto\"><path d=\"M0,0 L10,5 L0,10 z\" "
                    + "fill=\"%s\"/></marker>", r.label(), switchColour(r)));
        }
        b.append("</defs>\n");
        lanes(tasks, width);
        ticks(height);
        waits();
        events();
        switches();
        t.failure().ifPresent(f -> {
            if (f instanceof Failure.UseAfterFree u) {
                siteMark("allocated", u.allocated());
                siteMark("freed", u.freed());
            }
            failure(f, height);
        });
        b.append("</svg>\n");
        return b.toString();
    }

    private void lanes(List<String> tasks, int width) {
        for (int i = 0; i < tasks.size(); i++) {
            b.append(String.format(Locale.ROOT, "<rect class=\"lane %s\" x=\"0\" y=\"%d\" width=\"%d\" height=\"%d\"/>%n",
                    i % 2 == 0 ? "even" : "odd", laneTop(i), width, LANE));
            b.append(String.format(Locale.ROOT, "<text class=\"task\" data-task=\"%d\" x=\"%d\" y=\"%d\">%s</text>%n",
                    i + 1, GUTTER - 10, laneMid(i) + 4, Html.escape(fit(tasks.get(i) + " (" + (i + 1) + ")", GUTTER - 16))));
        }
    }

    private void ticks(int height) {
        int lastX = -TICK_SPACING;
        long lastStep = Long.MIN_VALUE;
        List<TraceEvent> events = t.events();
        for (int s = 0; s < events.size(); s++) {
            long step = events.get(s).step();
            if (step == lastStep || x(s) - lastX < TICK_SPACING) {
                continue;
            }
            lastStep = step;
            lastX = x(s);
            b.append(String.format(Locale.ROOT, "<line class=\"grid\" x1=\"%d\" y1=\"%d\" x2=\"%d\" y2=\"%d\"/>"
                    + "<text class=\"tick\" x=\"%d\" y=\"%d\">%d</text>%n",
                    x(s), TOP - 4, x(s), height - 8, x(s) + 2, TOP - 10, step));
        }
        b.append(String.format(Locale.ROOT, "<text class=\"axis\" x=\"%d\" y=\"%d\">step</text>%n", GUTTER - 10, TOP - 10));
    }

    private void waits() {
        for (Timeline.Wait w : t.waits()) {
            int from = x(w.from()) + slot;
            int width = Math.max(2, x(w.to()) - from);
            String kind = w.kind() == TraceEvent.Kind.SLEEPING ? "sleeping" : "blocked";
            String title = w.what() + " — " + w.endedBy();
            b.append(String.format(Locale.ROOT, "<g class=\"wait %s\" data-slot=\"%d\" data-task=\"%d\" data-kind=\"%s\">"
                    + "<title>%s</title><rect x=\"%d\" y=\"%d\" width=\"%d\" height=\"%d\"/>",
                    kind, w.from(), w.task() + 1, kind, Html.escape(title), from, laneMid(w.task()) - 5, width, 10));
            String label = fit(w.what(), width - 6);
            if (!label.isEmpty()) {
                b.append(String.format(Locale.ROOT, "<text x=\"%d\" y=\"%d\">%s</text>", from + 4,
                        laneTop(w.task()) + 8, Html.escape(label)));
            }
            b.append("</g>\n");
        }
    }

    private void events() {
        List<TraceEvent> events = t.events();
        for (int s = 0; s < events.size(); s++) {
            TraceEvent e = events.get(s);
            int task = e.taskId() - 1;
            String where = e.where().isEmpty() ? "" : "\nat " + e.where();
            String title = "step " + e.step() + " · " + e.task() + ": " + EventText.describe(e) + where;
            b.append(String.format(Locale.ROOT, "<a href=\"#e%d\"><rect class=\"ev %s\" data-slot=\"%d\" data-task=\"%d\" "
                    + "data-kind=\"%s\" x=\"%d\" y=\"%d\" width=\"%d\" height=\"%d\" rx=\"2\"><title>%s</title></rect></a>%n",
                    s, kindClass(e.kind()), s, e.taskId(), kindClass(e.kind()), x(s) + 1, laneMid(task) - BLOCK / 2,
                    slot - 2, BLOCK, Html.escape(title)));
        }
    }

    private void switches() {
        List<TraceEvent> events = t.events();
        for (int s = 0; s < events.size(); s++) {
            TraceEvent e = events.get(s);
            if (e.switchTo().isEmpty()) {
                continue;
            }
            TraceEvent.Switch sw = e.switchTo().get();
            int from = e.taskId() - 1;
            int to = sw.toTaskId() - 1;
            int xx = x(s + 1);
            int y1 = laneMid(from) + (to > from ? BLOCK / 2 : -BLOCK / 2);
            int y2 = laneMid(to) + (to > from ? -BLOCK / 2 : BLOCK / 2);
            String reason = sw.reason().label();
            b.append(String.format(Locale.ROOT, "<line class=\"sw %s\" data-slot=\"%d\" data-task=\"%d\" data-kind=\"%s\" "
                    + "x1=\"%d\" y1=\"%d\" x2=\"%d\" y2=\"%d\" stroke=\"%s\" marker-end=\"url(#arrow-%s)\">"
                    + "<title>%s</title></line>%n",
                    reason, s, e.taskId(), reason, xx, y1, xx, y2, switchColour(sw.reason()), reason,
                    Html.escape("step " + e.step() + ": " + e.task() + " " + sw.describe())));
        }
    }

    /**
     * A flag where {@code site} happened: right after the last event of its task at or before
     * its step (what a task does between two scheduling points has that step), or, when the
     * task had none yet, just before its first event. Nothing when the site is outside the
     * events drawn or outside any task.
     */
    private void siteMark(String what, Site site) {
        int task = t.tasks().indexOf(site.task());
        if (task < 0) {
            return;
        }
        int after = -1;
        int first = -1;
        List<TraceEvent> events = t.events();
        for (int s = 0; s < events.size(); s++) {
            if (events.get(s).taskId() != task + 1) {
                continue;
            }
            if (first < 0) {
                first = s;
            }
            if (events.get(s).step() <= site.step()) {
                after = s;
            }
        }
        int slotOf;
        if (after >= 0) {
            slotOf = after + 1;
        } else if (first >= 0 && t.hidden() == 0) {
            slotOf = first;
        } else {
            return;
        }
        int xx = x(slotOf);
        b.append(String.format(Locale.ROOT, "<g class=\"site-mark\" data-slot=\"%d\" data-task=\"%d\" data-kind=\"%s\">"
                + "<title>%s</title><line x1=\"%d\" y1=\"%d\" x2=\"%d\" y2=\"%d\"/><text x=\"%d\" y=\"%d\">%s</text></g>%n",
                slotOf, task + 1, what, Html.escape(what + " by " + site.task() + " at step " + site.step() + "\nat "
                        + site.where()), xx, laneTop(task) + 2, xx, laneTop(task) + LANE - 2, xx + 3, laneTop(task) + 9,
                what));
    }

    private void failure(Failure f, int height) {
        int task = t.failureTask();
        int xx = x(t.events().size()) + 6;
        int y = task >= 0 ? laneMid(task) : TOP - 14;
        b.append(String.format(Locale.ROOT, "<g class=\"failure\" data-slot=\"%d\" data-task=\"%d\" data-kind=\"failure\">"
                + "<title>%s</title><line x1=\"%d\" y1=\"%d\" x2=\"%d\" y2=\"%d\"/>"
                + "<circle cx=\"%d\" cy=\"%d\" r=\"10\"/><text x=\"%d\" y=\"%d\">%s</text></g>%n",
                t.events().size(), task + 1,
                Html.escape("step " + f.site().step() + " · " + f.site().task() + ": " + f.headline()
                        + "\nat " + f.site().where()),
                xx, TOP - 4, xx, height - 8, xx + 14, y, xx + 14, y + 5, EventText.FAILURE_MARK));
    }

    /** The colour of a switch connector and its arrow head. */
    static String switchColour(TraceEvent.SwitchReason reason) {
        return switch (reason) {
            case PREEMPTED -> "#6b7280";
            case BLOCKED -> "#dc2626";
            case SLEEPING -> "#7c3aed";
            case EXITED -> "#111827";
        };
    }

    /** The CSS class of an event kind, e.g. {@code timed-out}. */
    static String kindClass(TraceEvent.Kind kind) {
        return kind.name().toLowerCase(Locale.ROOT).replace('_', '-');
    }

    /** {@code s} cut to about {@code pixels} wide with an ellipsis; empty when not even a few letters fit. */
    private static String fit(String s, int pixels) {
        int chars = (int) (pixels / CHAR_WIDTH);
        if (chars < 6) {
            return "";
        }
        return s.length() <= chars ? s : s.substring(0, chars - 1) + "…";
    }
}
