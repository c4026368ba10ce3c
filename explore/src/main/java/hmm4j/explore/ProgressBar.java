package hmm4j.explore;

import hmm4j.sim.HiddenFromSites;
import java.io.Console;
import java.io.PrintStream;
import java.lang.reflect.Method;
import java.util.Locale;
import java.util.concurrent.TimeUnit;

/**
 * A one-line progress bar for long explorations, redrawn in place on a terminal: runs done
 * of planned, a bar, runs per second and failures. It draws at most every
 * {@value #REDRAW_MILLIS} ms and clears its line when the exploration ends.
 * {@link #forTerminal} gives a silent listener when standard error is not a terminal, so
 * logs and pipes stay clean.
 */
@HiddenFromSites
public final class ProgressBar implements ProgressListener {
    private static final long REDRAW_MILLIS = 200;
    private static final int WIDTH = 24;

    private final PrintStream out;
    private final String label;
    private long lastDraw = Long.MIN_VALUE;
    private int lastLength;

    /** A bar on {@code out} (normally standard error), prefixed by {@code label}. */
    public ProgressBar(PrintStream out, String label) {
        this.out = out;
        this.label = label;
    }

    /** A bar on standard error when it is a terminal, else {@link ProgressListener#NONE}. */
    public static ProgressListener forTerminal(String label) {
        return isTerminal() ? new ProgressBar(System.err, label) : NONE;
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

    @Override
    public synchronized void runFinished(long runsDone, long runsPlanned, long failures, long elapsedNanos) {
        long now = TimeUnit.NANOSECONDS.toMillis(elapsedNanos);
        if (lastDraw != Long.MIN_VALUE && now - lastDraw < REDRAW_MILLIS) {
            return;
        }
        lastDraw = now;
        String line = line(label, runsDone, runsPlanned, failures, elapsedNanos);
        out.print('\r' + line + " ".repeat(Math.max(0, lastLength - line.length())));
        out.flush();
        lastLength = line.length();
    }

    @Override
    public synchronized void finished() {
        if (lastLength > 0) {
            out.print('\r' + " ".repeat(lastLength) + '\r');
            out.flush();
            lastLength = 0;
        }
    }

    /**
     * The text of the bar, e.g. {@code S1 [#####.......]  512/1000 runs  2048 runs/s  0 failures};
     * {@code 512 runs} with an empty bar when the runs are bounded by time only (planned -1).
     */
    static String line(String label, long runsDone, long runsPlanned, long failures, long elapsedNanos) {
        int filled = runsPlanned <= 0 ? 0 : (int) Math.min(WIDTH, WIDTH * runsDone / runsPlanned);
        double seconds = elapsedNanos / 1e9;
        long rate = seconds <= 0 ? 0 : Math.round(runsDone / seconds);
        return String.format(Locale.ROOT, "%s [%s%s] %s runs  %d runs/s  %d failure%s", label,
                "#".repeat(filled), ".".repeat(WIDTH - filled),
                runsPlanned < 0 ? String.valueOf(runsDone) : runsDone + "/" + runsPlanned, rate, failures,
                failures == 1 ? "" : "s");
    }
}
