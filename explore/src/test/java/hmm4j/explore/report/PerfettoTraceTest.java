package hmm4j.explore.report;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import hmm4j.sim.RunResult;
import hmm4j.sim.TraceEvent;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;
import java.util.stream.StreamSupport;
import org.junit.jupiter.api.Test;

/** The trace-event JSON, parsed back: threads, slices in order, switches, wake-up flows, the failure. */
class PerfettoTraceTest {
    private static final ObjectMapper MAPPER = new ObjectMapper();

    private static List<JsonNode> events(String json) throws Exception {
        JsonNode root = MAPPER.readTree(json);
        assertTrue(root.get("traceEvents").isArray(), json);
        return StreamSupport.stream(root.get("traceEvents").spliterator(), false).toList();
    }

    private static List<JsonNode> of(List<JsonNode> events, String ph, String cat) {
        return events.stream().filter(e -> e.get("ph").asText().equals(ph)
                && (cat == null || cat.equals(e.path("cat").asText(null)))).toList();
    }

    @Test
    void everyTask_isANamedSortedThread() throws Exception {
        RunResult r = ReportRuns.useAfterFree();
        List<JsonNode> events = events(PerfettoTrace.render(r));
        List<JsonNode> names = events.stream().filter(e -> e.get("name").asText().equals("thread_name")).toList();
        assertEquals(r.taskNames().size(), names.size());
        for (int i = 0; i < names.size(); i++) {
            assertEquals("M", names.get(i).get("ph").asText());
            assertEquals(i + 1, names.get(i).get("tid").asInt());
            assertEquals(r.taskNames().get(i) + " (" + (i + 1) + ")", names.get(i).get("args").get("name").asText());
        }
        assertEquals(r.taskNames().size(),
                events.stream().filter(e -> e.get("name").asText().equals("thread_sort_index")).count());
        JsonNode process = events.stream().filter(e -> e.get("name").asText().equals("process_name")).findFirst()
                .orElseThrow();
        assertEquals("hmm4j seed 7: FAIL use-after-free: read mirror#1->pfn on freed mirror#1",
                process.get("args").get("name").asText());
    }

    @Test
    void everyEvent_isASlice_inTraceOrder_onItsTasksThread() throws Exception {
        RunResult r = ReportRuns.useAfterFree();
        List<JsonNode> slices = events(PerfettoTrace.render(r)).stream()
                .filter(e -> e.get("ph").asText().equals("X") && !e.get("cat").asText().equals("wait")).toList();
        assertEquals(r.trace().size(), slices.size());
        long lastTs = -1;
        for (int i = 0; i < slices.size(); i++) {
            JsonNode s = slices.get(i);
            TraceEvent e = r.trace().get(i);
            assertEquals(e.taskId(), s.get("tid").asInt());
            assertEquals(e.step(), s.get("args").get("step").asLong());
            assertEquals(e.kind().name(), s.get("args").get("kind").asText());
            assertTrue(s.get("ts").asLong() > lastTs, "strictly increasing times: " + slices);
            assertTrue(s.get("dur").asLong() > 0, s.toString());
            lastTs = s.get("ts").asLong();
        }
    }

    @Test
    void switches_wakeUps_andTheFailure_arePresent() throws Exception {
        RunResult r = ReportRuns.clean();
        List<JsonNode> events = events(PerfettoTrace.render(r));
        long switches = r.trace().stream().filter(e -> e.switchTo().isPresent()).count();
        List<JsonNode> instants = of(events, "i", "switch");
        assertEquals(switches, instants.size());
        assertTrue(instants.stream().allMatch(i -> i.get("s").asText().equals("t")));
        assertTrue(instants.stream().anyMatch(i -> i.get("name").asText().equals("⇢ preempted, adder-b runs")),
                instants.toString());
        List<JsonNode> starts = of(events, "s", "wake-up");
        List<JsonNode> ends = of(events, "f", "wake-up");
        assertEquals(1, starts.size(), events.toString());
        assertEquals(starts.get(0).get("id"), ends.get(0).get("id"));
        assertEquals(1, starts.get(0).get("tid").asInt(), "from the waker adder-a");
        assertEquals(2, ends.get(0).get("tid").asInt(), "to the woken adder-b");
        List<JsonNode> waits = of(events, "X", "wait");
        assertEquals(1, waits.size());
        assertEquals("blocked: mutex_lock(counter_lock) held by adder-a", waits.get(0).get("name").asText());
        assertEquals("woken by adder-a", waits.get(0).get("args").get("endedBy").asText());
        assertTrue(of(events, "i", "failure").isEmpty(), "a clean run has no failure mark");

        RunResult uaf = ReportRuns.useAfterFree();
        JsonNode root = MAPPER.readTree(PerfettoTrace.render(uaf));
        List<JsonNode> failure = of(events(PerfettoTrace.render(uaf)), "i", "failure");
        assertEquals(1, failure.size());
        JsonNode f = failure.get(0);
        assertEquals("g", f.get("s").asText());
        assertEquals(uaf.taskNames().indexOf("device") + 1, f.get("tid").asInt());
        assertEquals("✗ use-after-free: read mirror#1->pfn on freed mirror#1", f.get("name").asText());
        assertEquals("USE_AFTER_FREE", f.get("args").get("kind").asText());
        assertEquals("accessed by device at step 8:", f.get("args").get("details").get(0).asText());
        long lastSlice = of(events(PerfettoTrace.render(uaf)), "X", null).stream()
                .mapToLong(e -> e.get("ts").asLong() + e.get("dur").asLong()).max().orElseThrow();
        assertTrue(f.get("ts").asLong() >= lastSlice, "the failure comes after the last event");
        assertEquals(uaf.seed(), root.get("otherData").get("seed").asLong());
    }

    @Test
    void timestamps_areStepsInMilliseconds() throws Exception {
        RunResult r = ReportRuns.deadlock();
        Set<Long> stepsOfSlices = new TreeSet<>();
        List<Long> ts = new ArrayList<>();
        for (JsonNode e : of(events(PerfettoTrace.render(r)), "X", "operation")) {
            stepsOfSlices.add(e.get("args").get("step").asLong());
            ts.add(e.get("ts").asLong());
            assertEquals(e.get("args").get("step").asLong(), e.get("ts").asLong() / 1000, e.toString());
        }
        assertEquals(Set.of(2L, 3L, 4L, 5L), stepsOfSlices);
        assertEquals(PerfettoTrace.render(r), PerfettoTrace.render(ReportRuns.deadlock()), "same run, same file");
    }
}
