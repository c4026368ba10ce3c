package hmm4j.explore.report;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import hmm4j.sim.RunResult;
import hmm4j.sim.TraceEvent;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;

/**
 * The timeline's text on the picture: which events are labelled and with what, labels that
 * never overlap each other or a block however crowded the lane, and the minimised run shown
 * with the run as found one click away.
 */
class TimelineLabelsTest {
    private static final Pattern LABEL = Pattern.compile(
            "<text class=\"label (\\w+)\" data-slot=\"(\\d+)\" data-task=\"(\\d+)\" data-kind=\"\\w+\" x=\"(\\d+)\" "
                    + "y=\"(\\d+)\">([^<]*)</text>");
    private static final Pattern BLOCK = Pattern.compile(
            "<rect class=\"ev [^\"]+\" data-slot=\"\\d+\" data-task=\"\\d+\" data-kind=\"[^\"]+\" x=\"(\\d+)\" "
                    + "y=\"(\\d+)\" width=\"(\\d+)\" height=\"(\\d+)\"");

    private static TraceEvent op(long step, int task, String op) {
        return new TraceEvent(step, task, task == 1 ? "process" : "worker", op, "");
    }

    private static RunResult run(List<TraceEvent> trace) {
        return new RunResult(1, "test", List.of(), trace.size(), 0, List.of(), trace, Optional.empty(),
                List.of("process", "worker"));
    }

    private static List<String> labels(List<TraceEvent> trace) {
        List<String> out = new ArrayList<>();
        for (int s = 0; s < trace.size(); s++) {
            out.add(KeyEvents.label(trace, s).orElse(""));
        }
        return out;
    }

    @Test
    void countReachingZero_isLabelledOnlyWhenTheTraceShowsTheTeardownThatFollowsIt() {
        List<TraceEvent> t = List.of(op(1, 1, "atomic_dec_and_test(mm#1->mm_users)"), op(2, 2, "spin_lock(x)"),
                op(3, 1, "exit_mmap(mm#1): mmu_notifier_release"), op(4, 1, "atomic_dec_and_test(mm#1->mm_count)"),
                op(5, 1, "spin_lock(mm#1->page_table_lock)"), op(6, 2, "refcount_dec_and_test(obj->ref)"),
                op(7, 2, "kfree(obj)"));
        assertEquals(List.of("mm_users → 0", "", "exit_mmap", "mm_count −1", "", "ref → 0", "kfree(obj)"), labels(t));
    }

    @Test
    void lifetimeCalls_labelledByTheFunctionTheyName_locksAndPlainAccessesNot() {
        List<TraceEvent> t = List.of(op(1, 1, "mmu_notifier_register(mn, mm#1)"),
                op(2, 1, "mmu_interval_notifier_remove(sub#2)"), op(3, 1, "mirror->release(mm#1)"),
                op(4, 1, "__mmu_notifier_invalidate_range_start(mm#1)"), op(5, 1, "synchronize_srcu(mmu_notifier_srcu)"),
                op(6, 1, "kthread_use_mm(mm#1)"), op(7, 1, "mutex_lock(a)"), op(8, 1, "READ_ONCE(x)"),
                op(9, 1, "invalidate (nonblock) of sub#1"));
        assertEquals(List.of("mmu_notifier_register", "mmu_interval_notifier_remove", "->release",
                "invalidate_range_start", "synchronize_srcu", "kthread_use_mm", "", "", "non-blockable: invalidate"),
                labels(t));
    }

    @Test
    void crowdedLane_labelsGoIntoRows_noneOverlapsAnotherOrABlock() {
        List<TraceEvent> t = new ArrayList<>();
        for (int i = 0; i < 60; i++) {
            t.add(op(i + 1, 1 + i % 2, i % 3 == 0 ? "kthread_use_mm(mm#1)" : "exit_mmap(mm#1)"));
        }
        String html = HtmlReport.render(run(t), RunHeader.titled("crowded"));
        List<int[]> boxes = new ArrayList<>();
        Matcher m = LABEL.matcher(html);
        while (m.find()) {
            int x = Integer.parseInt(m.group(4));
            int y = Integer.parseInt(m.group(5));
            int w = (int) Math.ceil(m.group(6).length() * 6.62);
            boxes.add(new int[] {x, y - 11, x + w, y + 2});
        }
        assertTrue(boxes.size() >= 20, "many labels drawn: " + boxes.size());
        List<int[]> blocks = new ArrayList<>();
        Matcher b = BLOCK.matcher(html);
        while (b.find()) {
            int x = Integer.parseInt(b.group(1));
            int y = Integer.parseInt(b.group(2));
            blocks.add(new int[] {x, y, x + Integer.parseInt(b.group(3)), y + Integer.parseInt(b.group(4))});
        }
        assertEquals(60, blocks.size());
        for (int i = 0; i < boxes.size(); i++) {
            for (int j = i + 1; j < boxes.size(); j++) {
                assertFalse(overlap(boxes.get(i), boxes.get(j)), "labels " + i + " and " + j + " overlap");
            }
            for (int[] block : blocks) {
                assertFalse(overlap(boxes.get(i), block), "label " + i + " overlaps a block");
            }
        }
        int leftOut = 60 - boxes.size();
        assertTrue(leftOut == 0 || html.contains(leftOut + " more labels found no room: hover their blocks."), html);
    }

    /**
     * Notes the model attached ({@code Kernel.note}, no trace event of their own) are labels of
     * their own on the block they belong to, in their task's lane; a teardown note makes a
     * count tested on its block read {@code → 0}; a label that would run past the last event
     * ends there, so the failure's line stays next to the events.
     */
    @Test
    void notes_areLabelsOnTheirBlocks_aTeardownNoteMeansZero_labelsEndAtTheLastEvent() {
        hmm4j.sim.Kernel k = hmm4j.sim.Kernel.controlled(1);
        hmm4j.sim.sync.AtomicT ref = new hmm4j.sim.sync.AtomicT(k, "hmm->kref", 1);
        hmm4j.sim.sync.SpinLock lock = new hmm4j.sim.sync.SpinLock(k, "l");
        k.spawnKthread("process", self -> {
            lock.lock();
            k.note("mmu_notifier_register");
            lock.unlock();
            lock.lock();
            k.note("invalidate_range_start UNMAP");
            k.note("non-blockable section");
            lock.unlock();
        });
        k.spawnKthread("worker", self -> {
            lock.lock();
            lock.unlock();
            if (ref.decAndTest()) {
                k.note("hmm_free");
            }
        });
        RunResult r = k.run();
        assertTrue(r.clean(), r.failures().toString());
        List<String> all = new ArrayList<>();
        for (int s = 0; s < r.trace().size(); s++) {
            all.addAll(KeyEvents.labels(r.trace(), s));
        }
        assertTrue(all.containsAll(List.of("mmu_notifier_register", "invalidate_range_start UNMAP",
                "non-blockable section", "kref → 0", "hmm_free")), all.toString());
        String html = HtmlReport.render(r, RunHeader.titled("notes"));
        Matcher m = LABEL.matcher(html);
        java.util.Map<String, String> laneOf = new java.util.HashMap<>();
        int maxEnd = 0;
        while (m.find()) {
            laneOf.put(m.group(6), m.group(3));
            maxEnd = Math.max(maxEnd, Integer.parseInt(m.group(4)) + (int) Math.ceil(m.group(6).length() * 6.62));
        }
        assertEquals("1", laneOf.get("mmu_notifier_register"), html);
        assertEquals("1", laneOf.get("invalidate_range_start UNMAP"));
        assertEquals("2", laneOf.get("hmm_free"));
        int lastBlockEnd = 0;
        Matcher b = BLOCK.matcher(html);
        while (b.find()) {
            lastBlockEnd = Math.max(lastBlockEnd, Integer.parseInt(b.group(1)) + Integer.parseInt(b.group(3)));
        }
        assertTrue(maxEnd <= lastBlockEnd, "labels end by the last event: " + maxEnd + " > " + lastBlockEnd);
    }

    private static boolean overlap(int[] a, int[] b) {
        return a[0] < b[2] && b[0] < a[2] && a[1] < b[3] && b[1] < a[3];
    }

    @Test
    void minimisedRun_shownFirst_theRunAsFoundOneClickAway_withItsOwnRows() {
        RunResult full = ReportRuns.useAfterFree();
        RunResult minimal = ReportRuns.useAfterFree();
        String html = HtmlReport.render(minimal, full, RunHeader.titled("uaf"));
        int details = html.indexOf("<details class=\"full\"><summary>The run as found: " + full.steps() + " steps, ");
        assertTrue(details > 0, html);
        assertTrue(html.indexOf("<svg") < details, "the minimised timeline comes first");
        assertTrue(html.indexOf("<svg", details) > details, "the full run's timeline is inside the details");
        assertTrue(html.contains("<p class=\"hint minimised\">The minimised run: the same failure in "), html);
        assertTrue(html.contains("<tr id=\"f0\"") && html.contains("<a href=\"#f0\">"), "the full run's rows and links");
        assertTrue(html.contains("<tr id=\"e0\"") && html.contains("<a href=\"#e0\">"), "the shown run's rows and links");
        assertEquals(HtmlReport.render(full, RunHeader.titled("uaf")), HtmlReport.render(null, full,
                RunHeader.titled("uaf")), "no minimised run: the page of the run as found");
    }

    @Test
    void failureDetails_wrapLongSiteLines() {
        assertTrue(HtmlStyle.CSS.contains("white-space: pre-wrap; overflow-wrap: anywhere;"));
    }
}
