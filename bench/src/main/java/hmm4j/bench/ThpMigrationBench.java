package hmm4j.bench;

import static hmm4j.bench.Machines.check;

import hmm4j.drivers.dmirror.DmirrorDevice;
import hmm4j.drivers.dmirror.DmirrorFile;
import hmm4j.drivers.dmirror.HmmDmirrorCmd;
import hmm4j.drivers.dmirror.HmmDmirrorUapi;
import hmm4j.kernel.mm.HugeMemory;
import hmm4j.kernel.mm.Madvise;
import hmm4j.kernel.mm.MmStruct;
import hmm4j.kernel.mm.Mmap;
import hmm4j.kernel.mm.PageTable;
import hmm4j.kernel.mm.UserAccess;
import hmm4j.kernel.sched.Process;
import hmm4j.sim.Kernel;
import hmm4j.sim.RunResult;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.SynchronousQueue;
import java.util.concurrent.TimeUnit;
import java.util.function.IntSupplier;
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
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Warmup;

/**
 * Device-private migration of THPs against the same memory as base pages, through dmirror
 * (lib/test_hmm.c) as {@code benchmark_thp_migration} of hmm-tests.c drives it: one operation
 * is {@code HMM_DMIRROR_MIGRATE_TO_DEV} of a 4 MiB buffer followed by
 * {@code HMM_DMIRROR_MIGRATE_TO_SYS} of it. Target: a THP's migration costs less per page than
 * 512 base-page migrations (issue 12), so {@link #basePages} / {@link #thp} &gt; 1.
 *
 * <ul>
 *   <li>{@link #thp}: the buffer is {@code MADV_HUGEPAGE}, 2 MiB-aligned and written, so it is
 *       2 THPs; each goes to the device as one compound entry
 *       ({@code MIGRATE_VMA_SELECT_COMPOUND}, a huge device folio, one device-private PMD) and
 *       back as one system THP.</li>
 *   <li>{@link #basePages} (baseline): the same size {@code MADV_NOHUGEPAGE}, 1024 base pages,
 *       each migrated as its own entry both ways.</li>
 * </ul>
 *
 * <p>The ioctls need a process ({@code current->mm}): one process of the native runtime
 * (real threads, no checkers, no trace) sets both buffers up and then runs each measured
 * operation handed to it by the JMH thread through a {@link SynchronousQueue}; both
 * benchmarks pay the same two hand-offs per operation (a few microseconds against
 * milliseconds of migration). {@code MIGRATE_TO_DEV} ends, as in the driver, by copying the
 * migrated data to a third (base-page) buffer, {@code cmd->ptr}, for verification: the same
 * 4 MiB copy in both benchmarks. The set-up checks that the THP buffer is 2 PMD leaves before
 * and after a round trip and that the other has none.
 */
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MICROSECONDS)
@Warmup(iterations = 5, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(value = 2, jvmArgsAppend = "--add-exports=java.base/jdk.internal.vm=ALL-UNNAMED")
@State(Scope.Thread)
public class ThpMigrationBench {
    /** The buffer: 2 THPs, 1024 pages. */
    static final long SIZE = 2 * HugeMemory.HPAGE_PMD_SIZE;
    /** Pages of the buffer. */
    static final int PAGES = (int) (SIZE >>> 12);
    private static final long THP_AT = 1L << 32;
    private static final long BASE_AT = THP_AT + 2 * SIZE;
    /** Where MIGRATE_TO_DEV copies the migrated data back for verification (dmirror's {@code cmd->ptr}). */
    private static final long MIRROR_AT = BASE_AT + 2 * SIZE;
    private static final IntSupplier STOP = () -> 0;

    private final BlockingQueue<IntSupplier> requests = new SynchronousQueue<>();
    private final BlockingQueue<Integer> replies = new SynchronousQueue<>();
    private Thread runner;
    private volatile RunResult result;
    private IntSupplier thpRoundTrip;
    private IntSupplier baseRoundTrip;

    /** Starts the process, which maps, advises and writes both buffers, then serves requests. */
    @Setup(Level.Trial)
    public void setUp() throws InterruptedException {
        Kernel kernel = Machines.nativeKernel();
        DmirrorDevice device = DmirrorDevice.create(kernel, 0);
        Process.spawn(kernel, "bench-process", self -> {
            MmStruct mm = MmStruct.of(self);
            DmirrorFile fd = DmirrorFile.open(device);
            map(mm, THP_AT, Madvise.MADV_HUGEPAGE);
            map(mm, BASE_AT, Madvise.MADV_NOHUGEPAGE);
            map(mm, MIRROR_AT, Madvise.MADV_NOHUGEPAGE);
            thpRoundTrip = () -> roundTrip(fd, THP_AT);
            baseRoundTrip = () -> roundTrip(fd, BASE_AT);
            PageTable pt = mm.pgd("bench set-up");
            int before = leaves(mm, pt, THP_AT);
            int first = roundTrip(fd, THP_AT) | roundTrip(fd, BASE_AT);
            replies.put(first != 0 ? first : before != 2 ? 1000 + before
                    : leaves(mm, pt, THP_AT) != 2 ? 2000 + leaves(mm, pt, THP_AT)
                    : leaves(mm, pt, BASE_AT) != 0 ? 3000 : 0);
            for (IntSupplier r = requests.take(); r != STOP; r = requests.take()) {
                replies.put(r.getAsInt());
            }
            fd.close();
        });
        runner = new Thread(() -> result = kernel.run(), "bench-kernel-run");
        runner.start();
        int setUp = replies.take();
        check(setUp == 0, "set-up failed: " + setUp);
        Machines.settleHeap();
    }

    private static void map(MmStruct mm, long at, int advice) {
        check(Mmap.mmap(mm, at, SIZE, Mmap.PROT_READ | Mmap.PROT_WRITE,
                Mmap.MAP_PRIVATE | Mmap.MAP_ANONYMOUS | Mmap.MAP_FIXED, null, 0) == at, "mmap failed");
        check(Madvise.madvise(mm, at, SIZE, advice) == 0, "madvise failed");
        byte[] data = new byte[(int) HugeMemory.HPAGE_PMD_SIZE];
        for (int i = 0; i < data.length; i++) {
            data[i] = (byte) i;
        }
        for (long a = at; a < at + SIZE; a += data.length) {
            check(UserAccess.copyToUser(mm.kernel(), a, data) == 0, "write failed");
        }
    }

    private static int leaves(MmStruct mm, PageTable pt, long at) {
        int n = 0;
        mm.pageTableLock().lock();
        try {
            for (long a = at; a < at + SIZE; a += HugeMemory.HPAGE_PMD_SIZE) {
                n += pt.isPmdLeaf(a) ? 1 : 0;
            }
        } finally {
            mm.pageTableLock().unlock();
        }
        return n;
    }

    /**
     * MIGRATE_TO_DEV then MIGRATE_TO_SYS of the buffer at {@code at}; 0, or the failing ioctl's
     * value ({@code -10000} if not every page went to the device).
     */
    private static int roundTrip(DmirrorFile fd, long at) {
        HmmDmirrorCmd cmd = new HmmDmirrorCmd(at, MIRROR_AT, PAGES);
        int ret = fd.ioctl(HmmDmirrorUapi.HMM_DMIRROR_MIGRATE_TO_DEV, cmd);
        if (ret != 0 || cmd.cpages != PAGES) {
            return ret != 0 ? ret : -10_000;
        }
        cmd = new HmmDmirrorCmd(at, 0, PAGES);
        ret = fd.ioctl(HmmDmirrorUapi.HMM_DMIRROR_MIGRATE_TO_SYS, cmd);
        return ret;
    }

    private int call(IntSupplier op) throws InterruptedException {
        requests.put(op);
        int ret = replies.take();
        check(ret == 0, "a migration failed: " + ret);
        return ret;
    }

    /** 2 THPs to the device and back. */
    @Benchmark
    public int thp() throws InterruptedException {
        return call(thpRoundTrip);
    }

    /** Baseline: 1024 base pages to the device and back. */
    @Benchmark
    public int basePages() throws InterruptedException {
        return call(baseRoundTrip);
    }

    /** Ends the process and the run. */
    @TearDown(Level.Trial)
    public void tearDown() throws InterruptedException {
        requests.put(STOP);
        runner.join();
        check(result != null && result.clean(), "the run was not clean: " + result);
    }
}
