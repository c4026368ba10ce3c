package hmm4j.cli;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.BufferedReader;
import java.io.BufferedWriter;
import java.io.IOException;
import java.io.PrintWriter;
import java.io.UncheckedIOException;
import java.net.URISyntaxException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.CodeSource;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.Spec;

/**
 * {@code hmm4j bench}: runs the JMH benchmarks of the {@code bench} module and prints the
 * performance bar's figures, each against the baseline measured in the same run, with its
 * ratio, its target and {@code ok} or {@code MISS}.
 *
 * <p>Nothing may depend on the {@code bench} module, so the benchmarks run in a child JVM:
 * the same {@code java} as this one, on {@code bench/target/hmm4j-benchmarks.jar} (found next
 * to the CLI's own jar, {@code cli/target/hmm4j.jar}, or given with {@code --jar}), with
 * {@code -prof gc} for the allocation figures and {@code -rf json}. The JSON result is read
 * with Jackson; every figure uses the <em>median</em> of the measurement iterations of all
 * forks, which a neighbour's burst on a shared 2-core machine moves less than the mean.
 *
 * <p>A row whose target is a ratio to a tool that cannot run inside JMH (the schedules per
 * second, whose target is a multiple of Lincheck's, measured by the explore module's
 * comparison test) is shown for reference ({@code ref}) and not counted as a figure.
 *
 * <p>Exit codes: 0 when the benchmarks ran and the table was printed, whatever the verdicts
 * (a figure that misses its target is a measurement to report, not a failure of the
 * command: performance is measured, never asserted); 2 when the benchmarks jar is missing
 * or the arguments are wrong, or the {@code --from-json} file is missing or not a JMH result; 1
 * when the benchmarks failed or the result of the run cannot be read.
 */
@Command(name = "bench",
        mixinStandardHelpOptions = true,
        versionProvider = VersionProvider.class,
        description = {
            "Run the JMH benchmarks and print the performance figures.",
            "Each figure is shown with its baseline from the same run, the ratio, the",
            "target, and ok or MISS. Quick mode (the default) takes about three minutes;",
            "--full uses the benchmarks' own JMH settings. The exit code is 0 whenever",
            "the benchmarks ran: a missed target is reported, not an error.",
            ""
        })
final class BenchCommand implements Callable<Integer> {
    /** File name of the shaded benchmarks jar in {@code bench/target}. */
    static final String JAR_NAME = "hmm4j-benchmarks.jar";
    /** Pages in the {@code hmm_range_fault} and page-table benchmarks. */
    static final int PAGES = 1 << 20;
    /** JMH options of quick mode: one fork, 3 x 1 s of warm-up, 5 x 0.5 s of measurement. */
    static final List<String> QUICK_OPTIONS = List.of("-f", "1", "-wi", "3", "-w", "1s", "-i", "5", "-r", "500ms");
    /** The secondary metric of {@code -prof gc} giving the bytes allocated per operation. */
    static final String ALLOC_METRIC = "gc.alloc.rate.norm";

    private static final List<String> HEADERS = List.of("figure", "measured", "baseline", "ratio", "target", "");
    private static final List<Table.Align> ALIGNS = List.of(Table.Align.LEFT, Table.Align.RIGHT,
            Table.Align.RIGHT, Table.Align.RIGHT, Table.Align.LEFT, Table.Align.LEFT);

    @Spec
    private CommandSpec spec;

    @Option(names = "--quick", description = "Short warm-up and measurement, one fork (the default).")
    private boolean quick;

    @Option(names = "--full", description = "The benchmarks' own JMH settings (several minutes).")
    private boolean full;

    @Option(names = "--jar", paramLabel = "FILE",
            description = "The benchmarks jar (default: bench/target/" + JAR_NAME + " of this checkout).")
    private Path jar;

    @Option(names = "--json", paramLabel = "FILE", description = "Keep JMH's JSON result in FILE.")
    private Path json;

    @Option(names = "--from-json", paramLabel = "FILE",
            description = "Print the table from a JMH JSON result (java -jar " + JAR_NAME
                    + " -prof gc -rf json -rff FILE) instead of running the benchmarks.")
    private Path fromJson;

    @Option(names = "--verbose", description = "Show JMH's own output on standard error.")
    private boolean verbose;

    /** Verdict of one figure against its target. */
    enum Verdict {
        OK("ok"), MISS("MISS"), MISSING("n/a"),
        /** A figure shown for reference: its target is a ratio to a tool that cannot run in JMH. */
        REFERENCE("ref");

        final String label;

        Verdict(String label) {
            this.label = label;
        }
    }

    /** One row of the table, formatted. */
    record Figure(String name, String measured, String baseline, String ratio, String target, Verdict verdict) {
    }

    /**
     * One benchmark's result: the median time per operation in nanoseconds and the median
     * bytes allocated per operation ({@code NaN} without {@code -prof gc}).
     */
    record Result(double nanosPerOp, double bytesPerOp) {
    }

    /** Runs (or reads) the benchmarks and prints the table; see the class comment for exit codes. */
    @Override
    public Integer call() throws IOException, InterruptedException {
        if (quick && full) {
            throw new ParameterException(spec.commandLine(), "--quick and --full exclude each other");
        }
        if (fromJson != null && (json != null || jar != null || full || quick)) {
            throw new ParameterException(spec.commandLine(), "--from-json reads a finished run; it takes no run options");
        }
        PrintWriter out = spec.commandLine().getOut();
        PrintWriter err = spec.commandLine().getErr();
        Map<String, Result> results;
        String source;
        if (fromJson != null) {
            Options.readableFile(spec, "--from-json", fromJson);
            try {
                results = parse(fromJson);
            } catch (IllegalArgumentException | UncheckedIOException e) {
                throw new ParameterException(spec.commandLine(), "--from-json " + fromJson + ": " + e.getMessage(), e);
            }
            source = "from " + fromJson;
        } else {
            Path benchmarks = jar != null ? jar : defaultJar();
            if (!Files.isRegularFile(benchmarks)) {
                err.println("hmm4j: the benchmarks jar is missing: " + benchmarks
                        + " (build it with 'mvn -B -q -DskipTests install', or run ./hmm4j, which does)");
                err.flush();
                return ErrorHandler.USAGE;
            }
            Path result = json != null ? json : Files.createTempFile("hmm4j-bench", ".json");
            try {
                runJmh(benchmarks, result, err);
                results = parse(result);
            } finally {
                if (json == null) {
                    Files.deleteIfExists(result);
                }
            }
            source = full ? "full mode (the benchmarks' JMH settings)"
                    : "quick mode (1 fork, 3 x 1 s warm-up, 5 x 0.5 s measurement; indicative)";
        }
        List<Figure> figures = figures(results);
        out.println("hmm4j bench: " + source + "; medians of the measurement iterations");
        out.println();
        out.print(table(figures).render());
        long ok = figures.stream().filter(f -> f.verdict() == Verdict.OK).count();
        long miss = figures.stream().filter(f -> f.verdict() == Verdict.MISS).count();
        long reference = figures.stream().filter(f -> f.verdict() == Verdict.REFERENCE).count();
        out.println();
        out.println((figures.size() - reference) + " figures: " + ok + " within target, " + miss + " missed"
                + (reference > 0 ? ", " + reference + " for reference" : "")
                + (miss > 0 ? " (reported, not an error: see docs/performance.md)" : ""));
        out.flush();
        return 0;
    }

    // ---- running JMH ----

    /** {@code bench/target/hmm4j-benchmarks.jar} of the checkout this CLI was built in. */
    static Path defaultJar() {
        Path fallback = Path.of("bench", "target", JAR_NAME).toAbsolutePath();
        CodeSource code = BenchCommand.class.getProtectionDomain().getCodeSource();
        if (code == null || code.getLocation() == null) {
            return fallback;
        }
        Path self;
        try {
            self = Path.of(code.getLocation().toURI()).toAbsolutePath();
        } catch (URISyntaxException | IllegalArgumentException e) {
            return fallback;
        }
        // cli/target/hmm4j.jar or cli/target/classes: three levels up is the checkout.
        Path target = self.getParent();
        Path module = target == null ? null : target.getParent();
        Path root = module == null ? null : module.getParent();
        return root == null ? fallback : root.resolve("bench").resolve("target").resolve(JAR_NAME);
    }

    /** The JMH command line: this JVM's {@code java}, the jar, the result file, quick or full. */
    static List<String> jmhCommand(String java, Path jar, Path result, boolean full) {
        List<String> cmd = new ArrayList<>(List.of(java, "-jar", jar.toString(),
                "-rf", "json", "-rff", result.toString(), "-prof", "gc", "-foe", "true"));
        if (!full) {
            cmd.addAll(QUICK_OPTIONS);
        }
        cmd.add("hmm4j\\.bench\\..*");
        return cmd;
    }

    /** The {@code java} launcher of this JVM. */
    private static String javaExecutable() {
        return ProcessHandle.current().info().command()
                .orElse(Path.of(System.getProperty("java.home"), "bin", "java").toString());
    }

    /**
     * Runs JMH in a child JVM, echoing one progress line per benchmark (or everything with
     * {@code --verbose}) to {@code err} and keeping its output in a log file, which is
     * deleted on success and named in the error otherwise.
     */
    private void runJmh(Path benchmarks, Path result, PrintWriter err) throws IOException, InterruptedException {
        Files.deleteIfExists(result);
        Path log = Files.createTempFile("hmm4j-bench", ".log");
        ProcessBuilder pb = new ProcessBuilder(jmhCommand(javaExecutable(), benchmarks, result, full))
                .redirectErrorStream(true);
        err.println("hmm4j bench: running the benchmarks in " + (full ? "full" : "quick") + " mode ("
                + (full ? "several minutes" : "about three minutes") + ")...");
        err.flush();
        Process child = pb.start();
        Thread killChild = new Thread(child::destroy, "hmm4j-bench-cleanup");
        Runtime.getRuntime().addShutdownHook(killChild);
        int code;
        try (BufferedReader lines = child.inputReader(StandardCharsets.UTF_8);
             BufferedWriter logFile = Files.newBufferedWriter(log, StandardCharsets.UTF_8)) {
            Progress progress = new Progress(err, verbose);
            for (String line = lines.readLine(); line != null; line = lines.readLine()) {
                logFile.write(line);
                logFile.newLine();
                progress.accept(line);
            }
            code = child.waitFor();
        } finally {
            child.destroy();
            try {
                Runtime.getRuntime().removeShutdownHook(killChild);
            } catch (IllegalStateException shuttingDown) {
                // the hook runs anyway
            }
        }
        if (code != 0 || !Files.isRegularFile(result)) {
            throw new IllegalStateException("the benchmarks failed (JMH exit code " + code + "); its output is in " + log);
        }
        Files.delete(log);
    }

    /** Turns JMH's output into one progress line per benchmark run. */
    private static final class Progress {
        private final PrintWriter err;
        private final boolean verbose;
        private String benchmark = "";
        private String parameters = "";
        private String progress = "";

        Progress(PrintWriter err, boolean verbose) {
            this.err = err;
            this.verbose = verbose;
        }

        void accept(String line) {
            if (verbose) {
                err.println(line);
            } else if (line.startsWith("# Benchmark: ")) {
                benchmark = shortName(line.substring("# Benchmark: ".length()).strip());
                parameters = "";
            } else if (line.startsWith("# Parameters: ")) {
                parameters = " " + line.substring("# Parameters: ".length()).strip();
            } else if (line.startsWith("# Run progress: ")) {
                progress = line.substring("# Run progress: ".length()).strip();
            } else if (line.startsWith("# Fork: ")) {
                err.println("  " + benchmark + parameters + ", fork " + line.substring("# Fork: ".length()).strip()
                        + "  [" + progress + "]");
            }
            err.flush();
        }
    }

    // ---- reading the result ----

    /** Reads a JMH JSON result file; see {@link #parse(JsonNode)}. */
    static Map<String, Result> parse(Path file) {
        try {
            return parse(new ObjectMapper().readTree(file.toFile()));
        } catch (com.fasterxml.jackson.core.JsonProcessingException e) {
            throw new IllegalArgumentException("not a JMH JSON result: not JSON (line " + e.getLocation().getLineNr()
                    + ")", e);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read the JMH result " + file + ": " + e.getMessage(), e);
        }
    }

    /**
     * The results of a JMH JSON document (an array of runs), keyed by
     * {@code Class.method} followed by {@code :name=value,...} for parameterised runs, e.g.
     * {@code InvalidationBench.intervalTree:subscriptions=1000}.
     *
     * @throws IllegalArgumentException if the document is not a JMH result or a run is not
     *         in an average-time or sample-time unit
     */
    static Map<String, Result> parse(JsonNode root) {
        if (!root.isArray()) {
            throw new IllegalArgumentException("not a JMH JSON result: the top level is not an array");
        }
        Map<String, Result> results = new HashMap<>();
        for (JsonNode run : root) {
            String benchmark = run.path("benchmark").asText("");
            JsonNode primary = run.path("primaryMetric");
            if (benchmark.isEmpty() || primary.isMissingNode()) {
                throw new IllegalArgumentException("not a JMH JSON result: a run has no benchmark or primaryMetric");
            }
            double nanos = median(primary) * nanosPer(primary.path("scoreUnit").asText(""), benchmark);
            JsonNode alloc = run.path("secondaryMetrics").path(ALLOC_METRIC);
            double bytes = alloc.isMissingNode() ? Double.NaN : median(alloc);
            results.put(key(benchmark, run.path("params")), new Result(nanos, bytes));
        }
        return results;
    }

    /** {@code Class.method[:k=v,...]} with the parameters sorted by name. */
    static String key(String benchmark, JsonNode params) {
        StringBuilder b = new StringBuilder(shortName(benchmark));
        if (params.isObject() && !params.isEmpty()) {
            Map<String, String> sorted = new TreeMap<>();
            for (Map.Entry<String, JsonNode> e : params.properties()) {
                sorted.put(e.getKey(), e.getValue().asText());
            }
            b.append(':');
            sorted.forEach((k, v) -> b.append(k).append('=').append(v).append(','));
            b.setLength(b.length() - 1);
        }
        return b.toString();
    }

    /** The last two dotted parts of a benchmark name: {@code Class.method}. */
    static String shortName(String benchmark) {
        int method = benchmark.lastIndexOf('.');
        int cls = method <= 0 ? -1 : benchmark.lastIndexOf('.', method - 1);
        return benchmark.substring(cls + 1);
    }

    /** The median of a metric's raw data over all forks and iterations, or its score without raw data. */
    static double median(JsonNode metric) {
        List<Double> values = new ArrayList<>();
        for (JsonNode fork : metric.path("rawData")) {
            for (JsonNode v : fork) {
                values.add(v.asDouble());
            }
        }
        if (values.isEmpty()) {
            return metric.path("score").asDouble(Double.NaN);
        }
        double[] a = values.stream().mapToDouble(Double::doubleValue).toArray();
        Arrays.sort(a);
        int n = a.length;
        return n % 2 == 1 ? a[n / 2] : (a[n / 2 - 1] + a[n / 2]) / 2;
    }

    /** Nanoseconds per unit of a time-per-operation score unit such as {@code us/op}. */
    static double nanosPer(String unit, String benchmark) {
        return switch (unit) {
            case "ns/op" -> 1;
            case "us/op" -> 1e3;
            case "ms/op" -> 1e6;
            case "s/op" -> 1e9;
            default -> throw new IllegalArgumentException(benchmark + " is measured in '" + unit
                    + "'; hmm4j bench reads time per operation (ns/op, us/op, ms/op or s/op)");
        };
    }

    // ---- the figures ----

    /** The performance bar's figures, in the order of docs/performance.md. */
    static List<Figure> figures(Map<String, Result> r) {
        List<Figure> rows = new ArrayList<>();
        Result hmm = r.get("HmmRangeFaultBench.hmmRangeFault");
        Result raw = r.get("HmmRangeFaultBench.rawRadixWalk");
        rows.add(timeRatio("hmm_range_fault, 2^20 present pages (vs raw long[] walk)", hmm, raw, 3, "<= 3x"));
        rows.add(perPage("  allocation per page (vs raw walk)", hmm, raw, " B", 1, "< 1 B (none per page)"));

        Result tree1k = r.get("InvalidationBench.intervalTree:subscriptions=1000");
        Result tree1m = r.get("InvalidationBench.intervalTree:subscriptions=1000000");
        Result spread1k = r.get("InvalidationBench.intervalTreeSpread:subscriptions=1000");
        Result spread1m = r.get("InvalidationBench.intervalTreeSpread:subscriptions=1000000");
        Result list1m = r.get("InvalidationBench.linearList:subscriptions=1000000");
        rows.add(timeRatio("invalidate 16 pages: 10^6 vs 10^3 subscriptions", tree1m, tree1k, 15, "<= 15x"));
        rows.add(timeRatio("  same, 1024 spread windows (cold caches)", spread1m, spread1k, 15, "<= 15x"));
        rows.add(speedup("invalidate 16 pages among 10^6: tree vs linear list", tree1m, list1m, 1000,
                ">= 1000x faster"));
        rows.add(speedup("  same, 1024 spread windows (cold caches)", spread1m, list1m, 1000, ">= 1000x faster"));

        Result pair = r.get("ReadSeqBench.readBeginRetry");
        Result retry = r.get("ReadSeqBench.readRetry");
        Result volatiles = r.get("ReadSeqBench.volatileReadPair");
        rows.add(absolute("read_begin + read_retry, uncontended (vs 2 volatile reads)", pair, volatiles, 10,
                "<= 10 ns (a few ns)"));
        rows.add(absolute("  read_retry alone (vs 2 volatile reads)", retry, volatiles, 10, "<= 10 ns"));

        Result table = r.get("PageTableFootprintBench.pageTable");
        Result flat = r.get("PageTableFootprintBench.flatArray");
        rows.add(perEntry("bytes per present PTE, 2^20 dense (vs flat long[])", table, flat, 10, "<= 10 B"));

        Result decision = r.get("SchedulingBench.controlledDecision");
        Result handOff = r.get("SchedulingBench.rawHandOff");
        rows.add(timeRatio("scheduling decision, controlled (vs raw virtual-thread hand-off)", decision, handOff, 2,
                "<= 2x"));
        rows.add(perSecond("  schedules/s, lost-update whole runs (1 thread)", r.get("SchedulingBench.lostUpdateRun"),
                ">= 20x Lincheck (docs)"));
        rows.add(perSecond("  same, runs driven from a virtual thread",
                r.get("SchedulingBench.lostUpdateRunsOnVirtualThread"), ">= 20x Lincheck (docs)"));

        // Huge pages (issue 12): the same walk over 2048 PMD-mapped THPs, and THP migration.
        Result thp = r.get("HugeRangeFaultBench.hmmRangeFaultThp");
        rows.add(timeRatio("hmm_range_fault, 2^20 pages as 2 MiB THPs (vs raw PMD walk)", thp,
                r.get("HugeRangeFaultBench.rawPmdWalk"), 3, "<= 3x"));
        rows.add(timeRatio("  THPs vs base pages, per page (vs the 2^20 base pages)", thp, hmm, 1,
                "<= 1x (as fast)"));
        rows.add(speedup("THP device migration, per page (vs 512 base-page migrations)", r.get("ThpMigrationBench.thp"),
                r.get("ThpMigrationBench.basePages"), 1, "> 1x faster"));
        return rows;
    }

    /**
     * Runs per second of a whole-run benchmark, for reference: its target is a ratio to
     * Lincheck, measured by the explore module's comparison test, not by JMH.
     */
    private static Figure perSecond(String name, Result m, String target) {
        if (m == null) {
            return new Figure(name, "not run", "-", "-", target, Verdict.MISSING);
        }
        return new Figure(name, String.format(Locale.ROOT, "%,.0f/s", 1e9 / m.nanosPerOp()), "-", "-", target,
                Verdict.REFERENCE);
    }

    /** measured / baseline, both times; ok if the ratio is at most {@code max}. */
    private static Figure timeRatio(String name, Result m, Result b, double max, String target) {
        if (m == null || b == null) {
            return missing(name, m, b, target);
        }
        double ratio = m.nanosPerOp() / b.nanosPerOp();
        return new Figure(name, time(m.nanosPerOp()), time(b.nanosPerOp()), ratio(ratio), target,
                ratio <= max ? Verdict.OK : Verdict.MISS);
    }

    /** baseline / measured, both times (how many times faster); ok if at least {@code min}. */
    private static Figure speedup(String name, Result m, Result b, double min, String target) {
        if (m == null || b == null) {
            return missing(name, m, b, target);
        }
        double ratio = b.nanosPerOp() / m.nanosPerOp();
        return new Figure(name, time(m.nanosPerOp()), time(b.nanosPerOp()), ratio(ratio) + " faster", target,
                ratio >= min ? Verdict.OK : Verdict.MISS);
    }

    /** An absolute time target; the ratio to the baseline is shown for reference. */
    private static Figure absolute(String name, Result m, Result b, double maxNanos, String target) {
        if (m == null || b == null) {
            return missing(name, m, b, target);
        }
        return new Figure(name, time(m.nanosPerOp()), time(b.nanosPerOp()), ratio(m.nanosPerOp() / b.nanosPerOp()),
                target, m.nanosPerOp() <= maxNanos ? Verdict.OK : Verdict.MISS);
    }

    /** Allocation per page of a {@link #PAGES}-page operation; ok below {@code max} bytes. */
    private static Figure perPage(String name, Result m, Result b, String unit, double max, String target) {
        if (m == null || b == null) {
            return missing(name, m, b, target);
        }
        if (Double.isNaN(m.bytesPerOp()) || Double.isNaN(b.bytesPerOp())) {
            return new Figure(name, "n/a", "n/a", "-", target + " (needs -prof gc)", Verdict.MISSING);
        }
        double perPage = m.bytesPerOp() / PAGES;
        return new Figure(name, bytes(perPage) + unit, bytes(b.bytesPerOp() / PAGES) + unit, "-", target,
                perPage < max ? Verdict.OK : Verdict.MISS);
    }

    /** Retained bytes per entry of a {@link #PAGES}-entry table against the flat array. */
    private static Figure perEntry(String name, Result m, Result b, double max, String target) {
        if (m == null || b == null) {
            return missing(name, m, b, target);
        }
        if (Double.isNaN(m.bytesPerOp()) || Double.isNaN(b.bytesPerOp())) {
            return new Figure(name, "n/a", "n/a", "-", target + " (needs -prof gc)", Verdict.MISSING);
        }
        double perEntry = m.bytesPerOp() / PAGES;
        double flat = b.bytesPerOp() / PAGES;
        return new Figure(name, bytes(perEntry) + " B", bytes(flat) + " B", ratio(perEntry / flat), target,
                perEntry <= max ? Verdict.OK : Verdict.MISS);
    }

    private static Figure missing(String name, Result m, Result b, String target) {
        return new Figure(name, m == null ? "not run" : time(m.nanosPerOp()),
                b == null ? "not run" : time(b.nanosPerOp()), "-", target, Verdict.MISSING);
    }

    /** The table of figures, one row each. */
    static Table table(List<Figure> figures) {
        Table t = new Table(HEADERS, ALIGNS);
        for (Figure f : figures) {
            t.addRow(f.name(), f.measured(), f.baseline(), f.ratio(), f.target(), f.verdict().label);
        }
        return t;
    }

    /** A time with three significant digits in ns, us or ms, e.g. {@code 8.27 us}. */
    static String time(double nanos) {
        if (nanos < 1e3) {
            return significant(nanos) + " ns";
        }
        if (nanos < 1e6) {
            return significant(nanos / 1e3) + " us";
        }
        if (nanos < 1e9) {
            return significant(nanos / 1e6) + " ms";
        }
        return significant(nanos / 1e9) + " s";
    }

    /** A ratio with three significant digits, e.g. {@code 2.31x}, {@code 2,480x}. */
    static String ratio(double r) {
        return significant(r) + "x";
    }

    /** Bytes with two decimals, e.g. {@code 8.04}. */
    static String bytes(double b) {
        return String.format(Locale.ROOT, "%.2f", b);
    }

    private static String significant(double v) {
        if (v >= 1000) {
            return String.format(Locale.ROOT, "%,.0f", v);
        }
        if (v >= 100) {
            return String.format(Locale.ROOT, "%.0f", v);
        }
        if (v >= 10) {
            return String.format(Locale.ROOT, "%.1f", v);
        }
        return String.format(Locale.ROOT, "%.2f", v);
    }
}
