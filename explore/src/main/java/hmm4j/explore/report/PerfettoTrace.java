package hmm4j.explore.report;

import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonGenerator;
import hmm4j.sim.HiddenFromSites;
import hmm4j.sim.RunResult;
import hmm4j.sim.TraceEvent;
import hmm4j.sim.failure.Failure;
import hmm4j.sim.report.EventText;
import hmm4j.sim.report.FailureText;
import hmm4j.sim.report.TextReport;
import java.io.IOException;
import java.io.StringWriter;
import java.io.UncheckedIOException;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * The run as a Chrome trace-event JSON file (the "JSON Array/Object Format" that
 * {@code ui.perfetto.dev} and {@code chrome://tracing} open): drop the file on either.
 *
 * <p>API: {@link #render(RunResult)} returns the JSON text; write it to a {@code .json}
 * file. The same run gives the same text.
 *
 * <p>Mapping:
 * <ul>
 *   <li>the run is process 1, named with the verdict and seed ({@code process_name}); each
 *       task is a thread whose {@code tid} is its task number, named {@code name (id)}
 *       ({@code thread_name}) and sorted by number ({@code thread_sort_index});</li>
 *   <li>every trace event is a complete slice ({@code "ph":"X"}) on its task's thread, named
 *       with the event in words ({@link EventText}) and with its step, kind, code site and
 *       switch in {@code args}; category {@code operation}, {@code blocked}, ...;</li>
 *   <li>every note the model attached to an event ({@link TraceEvent#notes()}) is in the
 *       slice's {@code args.notes} and a thread-scoped instant at its start, category
 *       {@code note} (e.g. {@code mmu_notifier_register});</li>
 *   <li>every wait is a slice from the block (or sleep) to the wake-up or timeout that
 *       ended it, category {@code wait};</li>
 *   <li>every context switch is a thread-scoped instant ({@code "ph":"i"}, category
 *       {@code switch}) at the end of the event it follows, named with its reason, e.g.
 *       {@code ⇢ preempted, reader runs}; every wake-up by a task is a flow arrow
 *       ({@code "ph":"s"} / {@code "f"}) from the waker's last event to the woken task;</li>
 *   <li>the failure is a global instant ({@code "ph":"i", "s":"g"}) named {@code ✗ headline}
 *       on the thread of the task it happened in, with its details in {@code args}.</li>
 * </ul>
 * Timestamps are microseconds derived from steps (step {@code s} at {@code s} ms; events of
 * one step share it in trace order), so the viewer's time axis reads as step numbers.
 */
@HiddenFromSites
public final class PerfettoTrace {
    private static final int PID = 1;
    private static final JsonFactory JSON = JsonFactory.builder().build();

    private PerfettoTrace() {
    }

    /** The trace-event JSON of every event of {@code run}. */
    public static String render(RunResult run) {
        return render(run, Integer.MAX_VALUE);
    }

    /** The trace-event JSON of the last {@code maxEvents} events of {@code run}. */
    public static String render(RunResult run, int maxEvents) {
        if (maxEvents < 1) {
            throw new IllegalArgumentException("maxEvents must be at least 1: " + maxEvents);
        }
        Timeline t = new Timeline(run, maxEvents);
        StringWriter out = new StringWriter(4096 + t.events().size() * 300);
        try (JsonGenerator g = JSON.createGenerator(out)) {
            g.writeStartObject();
            g.writeStringField("displayTimeUnit", "ms");
            g.writeArrayFieldStart("traceEvents");
            metadata(g, t);
            events(g, t);
            waits(g, t);
            switchesAndWakeUps(g, t);
            if (t.failure().isPresent()) {
                failure(g, t, t.failure().get());
            }
            g.writeEndArray();
            g.writeObjectFieldStart("otherData");
            g.writeStringField("verdict", TextReport.verdict(run));
            g.writeNumberField("seed", run.seed());
            g.writeStringField("strategy", run.strategy());
            g.writeNumberField("steps", run.steps());
            g.writeNumberField("eventsNotShown", t.hidden());
            g.writeEndObject();
            g.writeEndObject();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return out.toString();
    }

    private static void metadata(JsonGenerator g, Timeline t) throws IOException {
        RunResult run = t.run();
        meta(g, "process_name", 0, "name", "hmm4j seed " + run.seed() + ": " + TextReport.verdict(run));
        List<String> tasks = t.tasks();
        for (int i = 0; i < tasks.size(); i++) {
            meta(g, "thread_name", i + 1, "name", tasks.get(i) + " (" + (i + 1) + ")");
            g.writeStartObject();
            g.writeStringField("ph", "M");
            g.writeStringField("name", "thread_sort_index");
            g.writeNumberField("pid", PID);
            g.writeNumberField("tid", i + 1);
            g.writeObjectFieldStart("args");
            g.writeNumberField("sort_index", i + 1);
            g.writeEndObject();
            g.writeEndObject();
        }
    }

    private static void meta(JsonGenerator g, String name, int tid, String key, String value) throws IOException {
        g.writeStartObject();
        g.writeStringField("ph", "M");
        g.writeStringField("name", name);
        g.writeNumberField("pid", PID);
        g.writeNumberField("tid", tid);
        g.writeObjectFieldStart("args");
        g.writeStringField(key, value);
        g.writeEndObject();
        g.writeEndObject();
    }

    private static void events(JsonGenerator g, Timeline t) throws IOException {
        List<TraceEvent> events = t.events();
        for (int s = 0; s < events.size(); s++) {
            TraceEvent e = events.get(s);
            g.writeStartObject();
            g.writeStringField("ph", "X");
            g.writeStringField("name", EventText.describe(e));
            g.writeStringField("cat", SvgTimeline.kindClass(e.kind()));
            g.writeNumberField("pid", PID);
            g.writeNumberField("tid", e.taskId());
            g.writeNumberField("ts", t.micros(s));
            g.writeNumberField("dur", t.duration(s));
            g.writeObjectFieldStart("args");
            g.writeNumberField("step", e.step());
            g.writeStringField("kind", e.kind().name());
            g.writeStringField("op", e.op());
            if (!e.detail().isEmpty()) {
                g.writeStringField("detail", e.detail());
            }
            if (e.wokenBy().isPresent()) {
                g.writeStringField("wokenBy", e.wokenBy().get());
            }
            if (e.switchTo().isPresent()) {
                g.writeStringField("then", e.switchTo().get().describe());
            }
            if (!e.where().isEmpty()) {
                g.writeStringField("where", e.where());
            }
            if (!e.notes().isEmpty()) {
                g.writeStringField("notes", String.join("; ", e.notes()));
            }
            g.writeEndObject();
            g.writeEndObject();
            for (String note : e.notes()) {
                g.writeStartObject();
                g.writeStringField("ph", "i");
                g.writeStringField("s", "t");
                g.writeStringField("name", note);
                g.writeStringField("cat", "note");
                g.writeNumberField("pid", PID);
                g.writeNumberField("tid", e.taskId());
                g.writeNumberField("ts", t.micros(s));
                g.writeEndObject();
            }
        }
    }

    private static void waits(JsonGenerator g, Timeline t) throws IOException {
        for (Timeline.Wait w : t.waits()) {
            long start = t.micros(w.from()) + t.duration(w.from());
            long end = w.to() < t.events().size() ? t.micros(w.to()) : t.end();
            g.writeStartObject();
            g.writeStringField("ph", "X");
            g.writeStringField("name", w.what());
            g.writeStringField("cat", "wait");
            g.writeNumberField("pid", PID);
            g.writeNumberField("tid", w.task() + 1);
            g.writeNumberField("ts", start);
            g.writeNumberField("dur", Math.max(0, end - start));
            g.writeObjectFieldStart("args");
            g.writeStringField("endedBy", w.endedBy());
            g.writeEndObject();
            g.writeEndObject();
        }
    }

    private static void switchesAndWakeUps(JsonGenerator g, Timeline t) throws IOException {
        List<TraceEvent> events = t.events();
        Map<String, Integer> lastSlotOfTask = new HashMap<>();
        int flow = 0;
        for (int s = 0; s < events.size(); s++) {
            TraceEvent e = events.get(s);
            if (e.kind() == TraceEvent.Kind.WOKEN && e.wokenBy().isPresent()
                    && lastSlotOfTask.containsKey(e.wokenBy().get())) {
                int from = lastSlotOfTask.get(e.wokenBy().get());
                flow++;
                flowPoint(g, "s", flow, events.get(from).taskId(), t.micros(from), e);
                flowPoint(g, "f", flow, e.taskId(), t.micros(s), e);
            }
            lastSlotOfTask.put(e.task(), s);
            if (e.switchTo().isPresent()) {
                g.writeStartObject();
                g.writeStringField("ph", "i");
                g.writeStringField("s", "t");
                g.writeStringField("name", EventText.SWITCH_MARK + " " + EventText.describeSwitch(e).orElseThrow());
                g.writeStringField("cat", "switch");
                g.writeNumberField("pid", PID);
                g.writeNumberField("tid", e.taskId());
                g.writeNumberField("ts", t.micros(s) + t.duration(s));
                g.writeObjectFieldStart("args");
                g.writeStringField("reason", e.switchTo().get().reason().label());
                g.writeStringField("next", e.switchTo().get().toTask());
                g.writeNumberField("step", e.step());
                g.writeEndObject();
                g.writeEndObject();
            }
        }
    }

    private static void flowPoint(JsonGenerator g, String ph, int id, int tid, long ts, TraceEvent woken)
            throws IOException {
        g.writeStartObject();
        g.writeStringField("ph", ph);
        g.writeStringField("name", "wake-up");
        g.writeStringField("cat", "wake-up");
        g.writeNumberField("id", id);
        g.writeNumberField("pid", PID);
        g.writeNumberField("tid", tid);
        g.writeNumberField("ts", ts);
        if (ph.equals("f")) {
            g.writeStringField("bp", "e");
        }
        g.writeObjectFieldStart("args");
        g.writeStringField("woken", woken.task());
        g.writeEndObject();
        g.writeEndObject();
    }

    private static void failure(JsonGenerator g, Timeline t, Failure f) throws IOException {
        g.writeStartObject();
        g.writeStringField("ph", "i");
        g.writeStringField("s", "g");
        g.writeStringField("name", EventText.failureMark(f));
        g.writeStringField("cat", "failure");
        g.writeNumberField("pid", PID);
        g.writeNumberField("tid", Math.max(0, t.failureTask() + 1));
        g.writeNumberField("ts", t.end());
        g.writeObjectFieldStart("args");
        g.writeStringField("kind", f.kind().name());
        g.writeStringField("headline", f.headline());
        g.writeStringField("task", f.site().task());
        g.writeNumberField("step", f.site().step());
        g.writeArrayFieldStart("details");
        for (String line : FailureText.details(f)) {
            g.writeString(line);
        }
        g.writeEndArray();
        g.writeEndObject();
        g.writeEndObject();
    }
}
