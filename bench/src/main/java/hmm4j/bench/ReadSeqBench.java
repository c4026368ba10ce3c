package hmm4j.bench;

import static hmm4j.bench.Machines.BASE;
import static hmm4j.bench.Machines.PAGE;
import static hmm4j.bench.Machines.check;

import hmm4j.kernel.mm.MmStruct;
import hmm4j.kernel.mm.notifier.MmuIntervalNotifier;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.Warmup;

/**
 * The driver's read side, uncontended: {@code mmu_interval_read_begin} followed by
 * {@code mmu_interval_read_retry}, against a pair of volatile reads. Target: a few
 * nanoseconds.
 *
 * <p>Set-up: one address space with one interval subscription over one page; nothing ever
 * invalidates it, so {@code read_begin} never sleeps and {@code read_retry} always answers
 * false.
 *
 * <p>Measured:
 * <ul>
 *   <li>{@link #readBeginRetry}: the pair, as a driver's fault path does it (without the
 *       driver lock a driver holds around {@code read_retry}: that lock is the driver's, not
 *       the notifier's). The kernel's {@code read_begin} takes the subscriptions spinlock to
 *       read the subscription's and the global sequence together; the model does the same.</li>
 *   <li>{@link #readRetry}: {@code read_retry} alone, the lockless half (one volatile read
 *       and a compare), reported for reference.</li>
 *   <li>{@link #volatileReadPair} (baseline): two reads of a volatile {@code long} and a
 *       compare, the cheapest possible sequence-count check on the JVM.</li>
 * </ul>
 */
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@Warmup(iterations = 5, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(value = 2, jvmArgsAppend = "--add-exports=java.base/jdk.internal.vm=ALL-UNNAMED")
@State(Scope.Thread)
public class ReadSeqBench {
    private MmuIntervalNotifier sub;
    private long seq;
    private volatile long sequenceCell = 1;

    /** One subscription on one page, never invalidated. */
    @Setup(Level.Trial)
    public void setUp() {
        MmStruct mm = Machines.newMm(Machines.nativeKernel());
        sub = new MmuIntervalNotifier("bench-reader");
        check(sub.mmuIntervalNotifierInsert(mm, BASE, PAGE, (s, r, cur) -> {
            s.mmuIntervalSetSeq(cur);
            return true;
        }) == 0, "insert failed");
        seq = sub.mmuIntervalReadBegin();
        check(!readBeginRetry() && !readRetry() && !volatileReadPair(), "an uncontended read side must not retry");
    }

    /** {@code read_begin} + {@code read_retry}: false (no collision). */
    @Benchmark
    public boolean readBeginRetry() {
        long s = sub.mmuIntervalReadBegin();
        return sub.mmuIntervalReadRetry(s);
    }

    /** {@code read_retry} alone on the sequence read at set-up. */
    @Benchmark
    public boolean readRetry() {
        return sub.mmuIntervalReadRetry(seq);
    }

    /** Baseline: a volatile read, then a second one compared with the first. */
    @Benchmark
    public boolean volatileReadPair() {
        long s = sequenceCell;
        return sequenceCell != s;
    }
}
