package hmm4j.explore.report;

import hmm4j.sim.HiddenFromSites;
import hmm4j.sim.TraceEvent;
import hmm4j.sim.failure.Failure;
import hmm4j.sim.failure.Site;
import hmm4j.sim.report.EventText;
import java.util.ArrayList;
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
 * Every block links to its row of the page's event table ({@code #<prefix><slot>}). Marks carry
 * {@code data-slot}, {@code data-task} and {@code data-kind} attributes, which tests read.
 *
 * <p>Labels: the key events ({@link KeyEvents}: a count reaching 0, exit_mmap, register and
 * unregister, release, invalidations, frees...), the waits and the allocated/freed flags are
 * also written as text on the picture, in rows above their lane's blocks: each label starts
 * at its block's left edge (or, when it would run past the last event, ends there) and goes
 * into the lowest row where it overlaps no other label
 * (widths from a monospace font, with room to spare), so labels never overlap each other or
 * a block; a lane gets as many rows as it needs, up to {@value #MAX_ROWS}, and a label that
 * finds no room is left to its tooltip (the page says how many). The failure's line goes after
 * the last event and after every label, so that it crosses none.
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
    /** Height of a row of labels. */
    static final int ROW = 14;
    /** Rows of labels a lane gets at most. */
    static final int MAX_ROWS = 4;
    /** Width of one character of a label (11px monospace is 6.6px; the rest is room to spare). */
    static final double LABEL_CHAR = 7.0;
    private static final int LABEL_GAP = 6;

    /** A label: text at x in a task's lane, in row {@code row} (0 nearest the blocks), or -1 when left out. */
    private record Label(int task, int slot, int x, String text, String kind, int row) {
        int end() {
            return x + (int) Math.ceil(text.length() * LABEL_CHAR) + 2;
        }
    }

    private final Timeline t;
    private final int slot;
    private final String rowPrefix;
    private final StringBuilder b = new StringBuilder();
    private final List<Label> labels = new ArrayList<>();
    private final int[] rows;
    private final int[] tops;
    private int leftOut;

    /** The timeline of {@code t}, its blocks linking to rows {@code #<rowPrefix><slot>}; {@link #svg()} draws it. */
    SvgTimeline(Timeline t, String rowPrefix) {
        this.t = t;
        this.rowPrefix = rowPrefix;
        int n = Math.max(1, t.events().size());
        this.slot = Math.max(MIN_SLOT, Math.min(MAX_SLOT, 1100 / n));
        int lanes = Math.max(1, t.tasks().size());
        this.rows = new int[lanes];
        this.tops = new int[lanes + 1];
        placeLabels();
        tops[0] = TOP;
        for (int i = 0; i < lanes; i++) {
            tops[i + 1] = tops[i] + laneHeight(i);
        }
    }

    /** Labels that found no room (their tooltips still have them). */
    int leftOut() {
        return leftOut;
    }

    private int x(int s) {
        return GUTTER + s * slot;
    }

    private int laneHeight(int task) {
        return LANE + (task < rows.length ? rows[task] : 0) * ROW;
    }

    private int laneTop(int task) {
        return tops[Math.max(0, Math.min(task, tops.length - 1))];
    }

    /** The middle of the task's blocks: below its rows of labels. */
    private int laneMid(int task) {
        int tk = Math.max(0, Math.min(task, rows.length - 1));
        return laneTop(tk) + rows[tk] * ROW + LANE / 2;
    }

    /** Finds the key events, waits and site flags, and packs their labels into rows per lane. */
    private void placeLabels() {
        List<Label> wanted = new ArrayList<>();
        List<TraceEvent> events = t.events();
        for (int s = 0; s < events.size(); s++) {
            int task = events.get(s).taskId() - 1;
            int at = s;
            if (task >= 0 && task < rows.length) {
                for (String text : KeyEvents.labels(events, s)) {
                    wanted.add(new Label(task, at, x(at) + 1, text, "key", -1));
                }
            }
        }
        for (Timeline.Wait w : t.waits()) {
            wanted.add(new Label(w.task(), w.from(), x(w.from()) + slot + 2, shortWait(w.what()), "wait", -1));
        }
        t.failure().ifPresent(f -> {
            if (f instanceof Failure.UseAfterFree u) {
                siteSlot(u.allocated()).ifPresent(p -> wanted.add(new Label(p[1], p[0], x(p[0]) + 3, "allocated",
                        "allocated", -1)));
                siteSlot(u.freed()).ifPresent(p -> wanted.add(new Label(p[1], p[0], x(p[0]) + 3, "freed", "freed", -1)));
            }
        });
        // A label that would run past the last event ends there instead (it grows to the left of
        // its block), so that the failure's line stays next to the last event.
        int limit = x(events.size()) - 4;
        for (int i = 0; i < wanted.size(); i++) {
            Label l = wanted.get(i);
            if (l.end() > limit) {
                int x = Math.max(GUTTER + 2, limit - (l.end() - l.x()));
                wanted.set(i, new Label(l.task(), l.slot(), x, l.text(), l.kind(), -1));
            }
        }
        wanted.sort(java.util.Comparator.comparingInt(Label::x).thenComparingInt(Label::task));
        int[][] ends = new int[rows.length][MAX_ROWS];
        for (int[] e : ends) {
            java.util.Arrays.fill(e, Integer.MIN_VALUE);
        }
        for (Label l : wanted) {
            int row = -1;
            for (int r = 0; r < MAX_ROWS; r++) {
                if (ends[l.task()][r] + LABEL_GAP <= l.x()) {
                    row = r;
                    break;
                }
            }
            if (row < 0) {
                leftOut++;
                continue;
            }
            ends[l.task()][row] = l.end();
            rows[l.task()] = Math.max(rows[l.task()], row + 1);
            labels.add(new Label(l.task(), l.slot(), l.x(), l.text(), l.kind(), row));
        }
    }

    /** {@code mutex_lock(m) held by t} → {@code waits: mutex_lock(m)}, cut to a label's length. */
    private static String shortWait(String what) {
        String s = what.startsWith("blocked: ") ? "waits: " + what.substring(9) : what;
        int held = s.indexOf(" held by ");
        if (held > 0) {
            s = s.substring(0, held);
        }
        return s.length() <= KeyEvents.MAX_CHARS + 4 ? s : s.substring(0, KeyEvents.MAX_CHARS + 3) + "…";
    }

    /** The {@code <svg>} element. */
    String svg() {
        if (!b.isEmpty()) {
            return b.toString();
        }
        List<String> tasks = t.tasks();
        int width = Math.max(x(t.events().size()) + FAILURE_ROOM, failureX() + FAILURE_ROOM - 6);
        int height = laneTop(Math.max(1, tasks.size())) + 8;
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
        labels();
        b.append("</svg>\n");
        return b.toString();
    }

    private void lanes(List<String> tasks, int width) {
        for (int i = 0; i < tasks.size(); i++) {
            b.append(String.format(Locale.ROOT, "<rect class=\"lane %s\" x=\"0\" y=\"%d\" width=\"%d\" height=\"%d\"/>%n",
                    i % 2 == 0 ? "even" : "odd", laneTop(i), width, laneHeight(i)));
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
            b.append(String.format(Locale.ROOT, "<a href=\"#%s%d\"><rect class=\"ev %s\" data-slot=\"%d\" data-task=\"%d\" "
                    + "data-kind=\"%s\" x=\"%d\" y=\"%d\" width=\"%d\" height=\"%d\" rx=\"2\"><title>%s</title></rect></a>%n",
                    rowPrefix, s, kindClass(e.kind()), s, e.taskId(), kindClass(e.kind()), x(s) + 1, laneMid(task) - BLOCK / 2,
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
        siteSlot(site).ifPresent(p -> {
            int slotOf = p[0];
            int task = p[1];
            int xx = x(slotOf);
            b.append(String.format(Locale.ROOT, "<g class=\"site-mark\" data-slot=\"%d\" data-task=\"%d\" "
                    + "data-kind=\"%s\"><title>%s</title><line x1=\"%d\" y1=\"%d\" x2=\"%d\" y2=\"%d\"/></g>%n",
                    slotOf, task + 1, what, Html.escape(what + " by " + site.task() + " at step " + site.step() + "\nat "
                            + site.where()), xx, laneMid(task) - BLOCK / 2 - 4, xx, laneMid(task) + BLOCK / 2 + 4));
        });
    }

    /**
     * Where the flag of {@code site} goes: {@code {slot, task}} right after the last event of
     * its task at or before its step, or, when the task had none yet, just before its first
     * event; empty when the site is outside the events drawn or outside any task.
     */
    private java.util.Optional<int[]> siteSlot(Site site) {
        int task = t.tasks().indexOf(site.task());
        if (task < 0) {
            return java.util.Optional.empty();
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
        if (after >= 0) {
            return java.util.Optional.of(new int[] {after + 1, task});
        } else if (first >= 0 && t.hidden() == 0) {
            return java.util.Optional.of(new int[] {first, task});
        }
        return java.util.Optional.empty();
    }

    /** Where the failure's line goes: after the last event, and after every label, so that it crosses none. */
    private int failureX() {
        return Math.max(x(t.events().size()) + 6, labels.stream().mapToInt(Label::end).max().orElse(0) + 4);
    }

    /** The labels, in their rows above their lanes' blocks (row 0 nearest the blocks). */
    private void labels() {
        for (Label l : labels) {
            int y = laneTop(l.task()) + (rows[l.task()] - 1 - l.row()) * ROW + ROW - 2;
            b.append(String.format(Locale.ROOT, "<text class=\"label %s\" data-slot=\"%d\" data-task=\"%d\" "
                    + "data-kind=\"%s\" x=\"%d\" y=\"%d\">%s</text>%n", l.kind(), l.slot(), l.task() + 1, l.kind(),
                    l.x(), y, Html.escape(l.text())));
        }
    }

    private void failure(Failure f, int height) {
        int task = t.failureTask();
        int xx = failureX();
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
