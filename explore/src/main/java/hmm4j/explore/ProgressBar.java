package hmm4j.explore;

import hmm4j.sim.HiddenFromSites;
import java.io.Console;
import java.io.PrintStream;
import java.lang.reflect.Method;
import java.nio.charset.StandardCharsets;
import java.util.Locale;
import java.util.Optional;
import java.util.concurrent.TimeUnit;

/**
 * A one-line progress bar for long explorations, redrawn in place on a terminal: runs done
 * of planned, a bar, runs per second and failures. It draws at most every
 * {@value #REDRAW_MILLIS} ms and clears its line when the exploration ends.
 *
 * <p>Overview: every line fits in the terminal's width less one column, so it never wraps;
 * it is redrawn with a carriage return and a clear-to-end-of-line. On a narrow terminal the
 * bar goes first, then the rate, then the line is cut. The width is {@code COLUMNS}, else
 * what {@code stty size} says of the controlling terminal, else {@value #DEFAULT_COLUMNS}.
 * The bar also keeps what was explored so far (runs, failures, seeds) for a summary when the
 * exploration is interrupted ({@link #summary}), whether it draws or not.
 * {@link #forTerminal} gives a silent listener when standard error is not a terminal, so
 * logs and pipes stay clean.
 */
@HiddenFromSites
public final class ProgressBar implements ProgressListener {
    private static final long REDRAW_MILLIS = 200;
    private static final int WIDTH = 24;
    /** The smallest bar worth drawing; below it the bar is dropped. */
    private static final int MIN_BAR = 8;
    static final int DEFAULT_COLUMNS = 80;
    /** Carriage return and erase to the end of the line (ANSI EL). */
    public static final String CLEAR = "\r\u001b[K";

    private final PrintStream out;
    private final String label;
    private final int columns;
    private final boolean draws;
    private long lastDraw = Long.MIN_VALUE;
    private boolean drawn;
    // What was explored so far, for the summary.
    private long runsDone;
    private long runsPlanned;
    private long failures;
    private long elapsedNanos;
    private long runs;
    private long lowestSeed = Long.MAX_VALUE;
    private long highestSeed = Long.MIN_VALUE;
    private int firstFailingRun = -1;
    private long firstFailingSeed;

    /** A bar on {@code out} (normally standard error) of a terminal {@code columns} wide, prefixed by {@code label}. */
    public ProgressBar(PrintStream out, String label, int columns) {
        this(out, label, columns, true);
    }

    /** A bar on {@code out} of a terminal {@value #DEFAULT_COLUMNS} columns wide. */
    public ProgressBar(PrintStream out, String label) {
        this(out, label, DEFAULT_COLUMNS);
    }

    private ProgressBar(PrintStream out, String label, int columns, boolean draws) {
        this.out = out;
        this.label = label;
        this.columns = Math.max(1, columns);
        this.draws = draws;
    }

    /** A bar on standard error when it is a terminal, else {@link ProgressListener#NONE}. */
    public static ProgressListener forTerminal(String label) {
        return isTerminal() ? new ProgressBar(System.err, label, columns()) : NONE;
    }

    /**
     * A bar on standard error that draws only when it is a terminal and keeps the
     * {@link #summary} either way.
     */
    public static ProgressBar tracking(String label) {
        boolean terminal = isTerminal();
        return new ProgressBar(System.err, label, terminal ? columns() : DEFAULT_COLUMNS, terminal);
    }

    /**
     * True when the JVM has a console attached to a terminal. From JDK 22 a console exists
     * even when the streams are redirected, and {@code Console.isTerminal()} tells; it is
     * looked up reflectively because this module compiles for Java 21.
     */
    static boolean isTerminal() {
        Console c = System.console();
        if (c == null) {
            return false;
        }
        try {
            Method m = Console.class.getMethod("isTerminal");
            return (Boolean) m.invoke(c);
        } catch (NoSuchMethodException e) {
            return true;
        } catch (ReflectiveOperationException | RuntimeException e) {
            return false;
        }
    }

    /** The terminal's width: {@code COLUMNS}, else {@code stty size} on the controlling terminal, else 80. */
    static int columns() {
        return columns(System.getenv("COLUMNS")).or(ProgressBar::sttyColumns).orElse(DEFAULT_COLUMNS);
    }

    /** The width {@code COLUMNS} gives, when it is a positive number. */
    static Optional<Integer> columns(String env) {
        if (env == null) {
            return Optional.empty();
        }
        try {
            int n = Integer.parseInt(env.strip());
            return n > 0 ? Optional.of(n) : Optional.empty();
        } catch (NumberFormatException e) {
            return Optional.empty();
        }
    }

    /** {@code stty size < /dev/tty} ("rows columns"), given at most a second; empty on any trouble. */
    private static Optional<Integer> sttyColumns() {
        try {
            Process p = new ProcessBuilder("stty", "size").redirectInput(ProcessBuilder.Redirect.from(new java.io.File("/dev/tty")))
                    .redirectError(ProcessBuilder.Redirect.DISCARD).start();
            if (!p.waitFor(1, TimeUnit.SECONDS)) {
                p.destroyForcibly();
                return Optional.empty();
            }
            String[] parts = new String(p.getInputStream().readAllBytes(), StandardCharsets.US_ASCII).strip().split("\\s+");
            return p.exitValue() == 0 && parts.length == 2 ? columns(parts[1]) : Optional.empty();
        } catch (java.io.IOException | RuntimeException e) {
            return Optional.empty();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return Optional.empty();
        }
    }

    @Override
    public synchronized void runDone(int runIndex, long seed, boolean failed) {
        runs++;
        lowestSeed = Math.min(lowestSeed, seed);
        highestSeed = Math.max(highestSeed, seed);
        if (failed && (firstFailingRun < 0 || runIndex < firstFailingRun)) {
            firstFailingRun = runIndex;
            firstFailingSeed = seed;
        }
    }

    @Override
    public synchronized void runFinished(long runsDone, long runsPlanned, long failures, long elapsedNanos) {
        this.runsDone = runsDone;
        this.runsPlanned = runsPlanned;
        this.failures = failures;
        this.elapsedNanos = elapsedNanos;
        long now = TimeUnit.NANOSECONDS.toMillis(elapsedNanos);
        if (!draws || lastDraw != Long.MIN_VALUE && now - lastDraw < REDRAW_MILLIS) {
            return;
        }
        lastDraw = now;
        out.print(CLEAR + line(label, runsDone, runsPlanned, failures, elapsedNanos, columns));
        out.flush();
        drawn = true;
    }

    @Override
    public synchronized void finished() {
        if (drawn) {
            out.print(CLEAR);
            out.flush();
            drawn = false;
        }
    }

    /**
     * What was explored so far, one line: e.g. {@code 512 runs in 2.0 s (256 runs/s), 1 failure
     * (first at run 7, seed 8), seeds 1..512}.
     */
    public synchronized String summary() {
        double seconds = elapsedNanos / 1e9;
        StringBuilder s = new StringBuilder(String.format(Locale.ROOT, "%d run%s in %.1f s (%d runs/s), %d failure%s",
                runsDone, runsDone == 1 ? "" : "s", seconds, rate(runsDone, elapsedNanos), failures, failures == 1 ? "" : "s"));
        if (firstFailingRun >= 0) {
            s.append(" (first at run ").append(firstFailingRun).append(", seed ").append(firstFailingSeed).append(')');
        }
        if (runs > 0) {
            s.append(", seeds ").append(lowestSeed).append("..").append(highestSeed);
            if (runs != highestSeed - lowestSeed + 1) {
                s.append(" (").append(runs).append(" of them)");
            }
        } else {
            s.append(", no seed covered");
        }
        return s.toString();
    }

    /** Failing runs so far. */
    public synchronized long failures() {
        return failures;
    }

    /** The bar's text on a terminal {@value #DEFAULT_COLUMNS} columns wide. */
    static String line(String label, long runsDone, long runsPlanned, long failures, long elapsedNanos) {
        return line(label, runsDone, runsPlanned, failures, elapsedNanos, DEFAULT_COLUMNS);
    }

    /**
     * The text of the bar, at most {@code columns - 1} characters, e.g.
     * {@code S1 [#####.......] 512/1000 runs  2048 runs/s  0 failures}; {@code 512 runs} with an
     * empty bar when the runs are bounded by time only (planned -1). When it does not fit, the
     * bar shrinks, then goes, then the rate goes, then the line is cut.
     */
    static String line(String label, long runsDone, long runsPlanned, long failures, long elapsedNanos, int columns) {
        int room = Math.max(0, columns - 1);
        String count = (runsPlanned < 0 ? String.valueOf(runsDone) : runsDone + "/" + runsPlanned) + " runs";
        String rate = rate(runsDone, elapsedNanos) + " runs/s";
        String fails = failures + " failure" + (failures == 1 ? "" : "s");
        String tail = count + "  " + rate + "  " + fails;
        int barRoom = room - label.length() - tail.length() - 4; // " [" + "] "
        if (barRoom >= MIN_BAR) {
            int width = Math.min(WIDTH, barRoom);
            int filled = runsPlanned <= 0 ? 0 : (int) Math.min(width, width * runsDone / runsPlanned);
            return label + " [" + "#".repeat(filled) + ".".repeat(width - filled) + "] " + tail;
        }
        String noBar = label + " " + tail;
        if (noBar.length() <= room) {
            return noBar;
        }
        String noRate = label + " " + count + "  " + fails;
        return noRate.length() <= room ? noRate : noRate.substring(0, room);
    }

    private static long rate(long runsDone, long elapsedNanos) {
        double seconds = elapsedNanos / 1e9;
        return seconds <= 0 ? 0 : Math.round(runsDone / seconds);
    }
}
