package hmm4j.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import hmm4j.cli.BenchCommand.Figure;
import hmm4j.cli.BenchCommand.Result;
import hmm4j.cli.BenchCommand.Verdict;
import java.io.IOException;
import java.io.InputStream;
import java.net.URISyntaxException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The JSON-to-table logic of {@code hmm4j bench} on a small JMH result checked in as a test
 * resource ({@code jmh-result-sample.json}, in JMH 1.37's format with round numbers), and
 * the command's argument and error paths. No benchmark runs here: performance is measured
 * by the bench module, never asserted by a unit test.
 */
class BenchCommandTest {
    private static final String SAMPLE = "/hmm4j/cli/jmh-result-sample.json";

    private static JsonNode sample() throws IOException {
        try (InputStream in = BenchCommandTest.class.getResourceAsStream(SAMPLE)) {
            return new ObjectMapper().readTree(in);
        }
    }

    private static Path samplePath() throws URISyntaxException {
        return Path.of(BenchCommandTest.class.getResource(SAMPLE).toURI());
    }

    @Test
    void parse_keysByClassMethodAndParams_inNanosPerOp() throws IOException {
        Map<String, Result> r = BenchCommand.parse(sample());
        assertEquals(21, r.size(), r.keySet().toString());
        assertEquals(300.0, r.get("SchedulingBench.controlledDecision").nanosPerOp(), 1e-9);
        assertEquals(700.0, r.get("InvalidationBench.intervalTree:subscriptions=1000").nanosPerOp(), 1e-9);
        assertEquals(8_400.0, r.get("InvalidationBench.intervalTree:subscriptions=1000000").nanosPerOp(), 1e-9);
        assertEquals(31.0, r.get("ReadSeqBench.readBeginRetry").nanosPerOp(), 1e-9);
        assertEquals(8_433_842.0, r.get("PageTableFootprintBench.pageTable").bytesPerOp(), 1e-9);
    }

    @Test
    void parse_usesMedianOverAllForks_notTheMean() throws IOException {
        // rawData [[3.2, 2.8, 9.0], [3.0, 2.9]]: median 3.0 ms, mean 4.18 ms.
        Result hmm = BenchCommand.parse(sample()).get("HmmRangeFaultBench.hmmRangeFault");
        assertEquals(3_000_000.0, hmm.nanosPerOp(), 1e-6);
    }

    @Test
    void figures_fromSample_renderTheTable() throws IOException {
        List<Figure> figures = BenchCommand.figures(BenchCommand.parse(sample()));
        String expected = """
                figure                                                             measured  baseline          ratio  target
                ----------------------------------------------------------------  ---------  --------  -------------  ----------------------  ----
                hmm_range_fault, 2^20 present pages (vs raw long[] walk)            3.00 ms   1.50 ms          2.00x  <= 3x                   ok
                  allocation per page (vs raw walk)                                  0.33 B    0.00 B              -  < 1 B (none per page)   ok
                invalidate 16 pages: 10^6 vs 10^3 subscriptions                     8.40 us    700 ns          12.0x  <= 15x                  ok
                  same, 1024 spread windows (cold caches)                           14.0 us    800 ns          17.5x  <= 15x                  MISS
                invalidate 16 pages among 10^6: tree vs linear list                 8.40 us   12.6 ms  1,500x faster  >= 1000x faster         ok
                  same, 1024 spread windows (cold caches)                           14.0 us   12.6 ms    900x faster  >= 1000x faster         MISS
                read_begin + read_retry, uncontended (vs 2 volatile reads)          31.0 ns   1.00 ns          31.0x  <= 10 ns (a few ns)     MISS
                  read_retry alone (vs 2 volatile reads)                            1.00 ns   1.00 ns          1.00x  <= 10 ns                ok
                bytes per present PTE, 2^20 dense (vs flat long[])                   8.04 B    8.00 B          1.01x  <= 10 B                 ok
                scheduling decision, controlled (vs raw virtual-thread hand-off)     300 ns    200 ns          1.50x  <= 2x                   ok
                  schedules/s, lost-update whole runs (1 thread)                   25,000/s         -              -  >= 20x Lincheck (docs)  ref
                  same, runs driven from a virtual thread                         100,000/s         -              -  >= 20x Lincheck (docs)  ref
                hmm_range_fault, 2^20 pages as 2 MiB THPs (vs raw PMD walk)         2.00 ms   1.00 ms          2.00x  <= 3x                   ok
                  THPs vs base pages, per page (vs the 2^20 base pages)             2.00 ms   3.00 ms          0.67x  <= 1x (as fast)         ok
                THP device migration, per page (vs 512 base-page migrations)        50.0 ms    100 ms   2.00x faster  > 1x faster             ok
                """;
        assertEquals(expected, BenchCommand.table(figures).render());
    }

    @Test
    void figures_missingRunsAndGcProfiler_areNotApplicable() {
        Map<String, Result> r = Map.of(
                "HmmRangeFaultBench.hmmRangeFault", new Result(3e6, Double.NaN),
                "HmmRangeFaultBench.rawRadixWalk", new Result(1.5e6, Double.NaN));
        List<Figure> f = BenchCommand.figures(r);
        assertEquals(Verdict.OK, f.get(0).verdict());
        assertEquals(Verdict.MISSING, f.get(1).verdict(), "no -prof gc, no allocation figure");
        assertTrue(f.get(1).target().endsWith("(needs -prof gc)"), f.get(1).target());
        assertEquals(Verdict.MISSING, f.get(2).verdict());
        assertEquals("not run", f.get(2).measured());
    }

    @Test
    void figures_overTarget_isMiss() {
        Map<String, Result> r = Map.of(
                "InvalidationBench.intervalTree:subscriptions=1000", new Result(1_000, 0),
                "InvalidationBench.intervalTree:subscriptions=1000000", new Result(16_000, 0),
                "InvalidationBench.linearList:subscriptions=1000000", new Result(15_000_000, 0));
        List<Figure> f = BenchCommand.figures(r);
        assertEquals(Verdict.MISS, f.get(2).verdict(), "16x is over the 15x target");
        assertEquals(Verdict.MISS, f.get(4).verdict(), "938x is under the 1000x target");
        assertEquals("938x faster", f.get(4).ratio());
    }

    @Test
    void key_sortsParameters() throws IOException {
        JsonNode params = new ObjectMapper().readTree("{\"b\": \"2\", \"a\": \"1\"}");
        assertEquals("X.y:a=1,b=2", BenchCommand.key("org.example.X.y", params));
        assertEquals("X.y", BenchCommand.key("org.example.X.y", new ObjectMapper().missingNode()));
    }

    @Test
    void parse_rejectsThroughputAndNonJmhDocuments() throws IOException {
        ObjectMapper json = new ObjectMapper();
        JsonNode thrpt = json.readTree("[{\"benchmark\": \"a.B.c\", \"primaryMetric\": "
                + "{\"score\": 1.0, \"scoreUnit\": \"ops/ms\", \"rawData\": [[1.0]]}}]");
        assertThrows(IllegalArgumentException.class, () -> BenchCommand.parse(thrpt));
        assertThrows(IllegalArgumentException.class, () -> BenchCommand.parse(json.readTree("{\"a\": 1}")));
    }

    @Test
    void jmhCommand_quickAddsShortSettings_fullUsesTheBenchmarks() {
        List<String> quick = BenchCommand.jmhCommand("java", Path.of("b.jar"), Path.of("r.json"), false);
        assertEquals(List.of("java", "-jar", "b.jar", "-rf", "json", "-rff", "r.json", "-prof", "gc", "-foe", "true"),
                quick.subList(0, 11));
        assertTrue(quick.containsAll(BenchCommand.QUICK_OPTIONS), quick.toString());
        List<String> full = BenchCommand.jmhCommand("java", Path.of("b.jar"), Path.of("r.json"), true);
        assertTrue(full.stream().noneMatch(a -> a.equals("-wi") || a.equals("-f")), full.toString());
    }

    @Test
    void defaultJar_isInTheBenchModuleOfThisCheckout() {
        Path jar = BenchCommand.defaultJar();
        assertEquals(BenchCommand.JAR_NAME, jar.getFileName().toString());
        assertEquals("target", jar.getParent().getFileName().toString());
        assertEquals("bench", jar.getParent().getParent().getFileName().toString());
    }

    @Test
    void fromJson_printsTableAndExits0() throws URISyntaxException {
        Console c = Console.real().run("bench", "--from-json", samplePath().toString());
        assertEquals(0, c.exitCode(), c.err());
        assertTrue(c.out().startsWith("hmm4j bench: from "), c.out());
        assertTrue(c.out().contains("read_begin + read_retry"), c.out());
        assertTrue(c.out().strip().endsWith("13 figures: 10 within target, 3 missed, 2 for reference "
                + "(reported, not an error: see docs/performance.md)"), c.out());
        assertEquals("", c.err());
    }

    @Test
    void missingJar_oneLineAndExit2(@TempDir Path dir) {
        Path jar = dir.resolve("nothing.jar");
        Console c = Console.real().run("bench", "--jar", jar.toString());
        assertEquals(2, c.exitCode());
        assertEquals(1, c.errLines().size(), c.err());
        assertTrue(c.errLines().get(0).startsWith("hmm4j: the benchmarks jar is missing: " + jar), c.err());
        assertEquals("", c.out());
    }

    @Test
    void quickAndFull_areExclusive() {
        Console c = Console.real().run("bench", "--quick", "--full");
        assertEquals(2, c.exitCode());
        assertEquals(List.of("hmm4j: --quick and --full exclude each other (see 'hmm4j bench --help')"),
                c.errLines());
    }

    @Test
    void unusableFromJson_oneLineAndExit2(@TempDir Path dir) throws IOException {
        Path bad = Files.writeString(dir.resolve("bad.json"), "{\"not\": \"jmh\"}");
        Console c = Console.real().run("bench", "--from-json", bad.toString());
        assertEquals(2, c.exitCode(), "an unusable file is bad input");
        assertEquals(List.of("hmm4j: --from-json " + bad + ": not a JMH JSON result: the top level is not an array"
                + " (see 'hmm4j bench --help')"), c.errLines());
        Path notJson = Files.writeString(dir.resolve("text.json"), "hello");
        Console text = Console.real().run("bench", "--from-json", notJson.toString());
        assertEquals(2, text.exitCode());
        assertEquals(List.of("hmm4j: --from-json " + notJson + ": not a JMH JSON result: not JSON (line 1)"
                + " (see 'hmm4j bench --help')"), text.errLines(), "no Jackson text");
    }

    @Test
    void missingFromJson_oneLineAndExit2(@TempDir Path dir) {
        Path none = dir.resolve("none.json");
        Console c = Console.real().run("bench", "--from-json", none.toString());
        assertEquals(2, c.exitCode(), "a missing file is bad input, as for every other command");
        assertEquals(List.of("hmm4j: --from-json " + none + ": no such file (see 'hmm4j bench --help')"), c.errLines());
        assertEquals("", c.out());
    }
}
