package hmm4j.bench;

import static hmm4j.bench.Machines.BASE;
import static hmm4j.bench.Machines.PAGE;
import static hmm4j.bench.Machines.check;

import hmm4j.kernel.mm.MmStruct;
import hmm4j.kernel.mm.notifier.MmuIntervalNotifier;
import hmm4j.kernel.mm.notifier.MmuIntervalNotifierOps;
import hmm4j.kernel.mm.notifier.MmuNotifierEvent;
import hmm4j.kernel.mm.notifier.MmuNotifierRange;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.Warmup;

/**
 * An invalidation of 16 pages among N interval subscriptions (N = 1,000 and 1,000,000).
 * Targets: the 1,000,000 case within 15x of the 1,000 case (the interval tree's
 * O(log n + k)), and at least 1000x faster than a linear list of the same subscriptions.
 *
 * <p>Set-up (once per fork and N): one address space, N subscriptions on disjoint
 * single-page intervals laid end to end from a fixed base, all inserted with
 * {@code mmu_interval_notifier_insert}, and one {@link MmuNotifierRange}
 * ({@code MMU_NOTIFY_CLEAR}) over the 16 pages in the middle of them. Every subscription's
 * {@code invalidate} is the driver's minimum: {@code mmu_interval_set_seq} and a call count
 * (no driver lock: the figure is the notifier core's cost, not a driver's). Each operation
 * is run once and must call exactly 16 callbacks.
 *
 * <p>Measured:
 * <ul>
 *   <li>{@link #intervalTree}: {@code mmu_notifier_invalidate_range_start} then
 *       {@code _end} on the range, the way an unmap brackets its PTE changes: the lookup in
 *       the augmented interval tree, the 16 callbacks with the sequence protocol (the tree
 *       frozen, {@code invalidate_seq} odd, then even again at the end) and the
 *       subscriptions lock taken at start and end.</li>
 *   <li>{@link #intervalTreeSpread}: the same, but each operation invalidates the next of
 *       1024 windows of 16 pages placed at seeded random positions among the subscriptions.
 *       Repeating one window keeps its path through the tree in the CPU caches; spreading the
 *       windows makes each operation pay for the cache misses of a descent through a tree
 *       of N nodes, which is what a real workload's invalidations see.</li>
 *   <li>{@link #linearList} (baseline): the same N subscriptions in an {@link ArrayList},
 *       every one tested for overlap, and the same callback called for the 16 hits.</li>
 * </ul>
 */
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MICROSECONDS)
@Warmup(iterations = 5, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(value = 2, jvmArgsAppend = "--add-exports=java.base/jdk.internal.vm=ALL-UNNAMED")
@State(Scope.Thread)
public class InvalidationBench {
    /** Pages in the invalidated range. */
    static final int HIT_PAGES = 16;
    /** Windows visited in turn by {@link #intervalTreeSpread}: a power of two. */
    static final int WINDOWS = 1024;

    /** How many interval subscriptions the address space has. */
    @Param({"1000", "1000000"})
    public int subscriptions;

    private final SetSeq ops = new SetSeq();
    private List<MmuIntervalNotifier> list;
    private MmuNotifierRange range;
    private long rangeStart;
    private long rangeLast;
    private long linearSeq = 1;
    private MmuNotifierRange[] spread;
    private int nextWindow;

    /** The callback of every subscription: {@code mmu_interval_set_seq} and a count. */
    static final class SetSeq implements MmuIntervalNotifierOps {
        long calls;

        @Override
        public boolean invalidate(MmuIntervalNotifier subscription, MmuNotifierRange range, long curSeq) {
            subscription.mmuIntervalSetSeq(curSeq);
            calls++;
            return true;
        }
    }

    /** Inserts the N subscriptions and checks that both operations call exactly 16 of them. */
    @Setup(Level.Trial)
    public void setUp() {
        MmStruct mm = Machines.newMm(Machines.nativeKernel());
        list = new ArrayList<>(subscriptions);
        for (int i = 0; i < subscriptions; i++) {
            MmuIntervalNotifier sub = new MmuIntervalNotifier("sub#" + i);
            check(sub.mmuIntervalNotifierInsert(mm, BASE + i * PAGE, PAGE, ops) == 0, "insert failed at " + i);
            list.add(sub);
        }
        rangeStart = BASE + (long) (subscriptions / 2) * PAGE;
        rangeLast = rangeStart + HIT_PAGES * PAGE - 1;
        range = new MmuNotifierRange(MmuNotifierEvent.MMU_NOTIFY_CLEAR, 0, mm, rangeStart, rangeLast + 1);

        long before = ops.calls;
        intervalTree();
        check(ops.calls - before == HIT_PAGES, "the tree invalidation called " + (ops.calls - before) + " callbacks");
        before = ops.calls;
        check(linearList() == HIT_PAGES && ops.calls - before == HIT_PAGES, "the linear scan missed callbacks");

        SplittableRandom random = new SplittableRandom(42);
        spread = new MmuNotifierRange[WINDOWS];
        for (int w = 0; w < WINDOWS; w++) {
            long start = BASE + (long) random.nextInt(subscriptions - HIT_PAGES + 1) * PAGE;
            spread[w] = new MmuNotifierRange(MmuNotifierEvent.MMU_NOTIFY_CLEAR, 0, mm, start, start + HIT_PAGES * PAGE);
        }
        before = ops.calls;
        for (int w = 0; w < WINDOWS; w++) {
            intervalTreeSpread();
        }
        check(ops.calls - before == (long) WINDOWS * HIT_PAGES, "a spread invalidation missed callbacks");
        Machines.settleHeap();
    }

    /** Start and end of one invalidation of the 16 pages. */
    @Benchmark
    public MmuNotifierRange intervalTree() {
        range.invalidateRangeStart();
        range.invalidateRangeEnd();
        return range;
    }

    /** Start and end of one invalidation of the next spread window of 16 pages. */
    @Benchmark
    public MmuNotifierRange intervalTreeSpread() {
        MmuNotifierRange r = spread[nextWindow];
        nextWindow = (nextWindow + 1) & (WINDOWS - 1);
        r.invalidateRangeStart();
        r.invalidateRangeEnd();
        return r;
    }

    /** Baseline: every subscription tested for overlap, the same callback for each hit. */
    @Benchmark
    public int linearList() {
        linearSeq += 2;
        long seq = linearSeq;
        int hits = 0;
        for (int i = 0, n = list.size(); i < n; i++) {
            MmuIntervalNotifier sub = list.get(i);
            if (sub.overlaps(rangeStart, rangeLast)) {
                ops.invalidate(sub, range, seq);
                hits++;
            }
        }
        return hits;
    }
}
