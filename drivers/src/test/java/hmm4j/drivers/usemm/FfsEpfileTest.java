package hmm4j.drivers.usemm;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import hmm4j.check.Checkers;
import hmm4j.kernel.fs.aio.Aio;
import hmm4j.kernel.fs.aio.IoEvent;
import hmm4j.kernel.fs.aio.Kioctx;
import hmm4j.kernel.mm.MmStruct;
import hmm4j.kernel.mm.Mmap;
import hmm4j.kernel.mm.UserAccess;
import hmm4j.kernel.sched.Process;
import hmm4j.sim.Kernel;
import hmm4j.sim.RunResult;
import java.util.List;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.Test;

/**
 * The f_fs AIO read end to end while the process lives: {@code io_submit} queues the OUT
 * request, the host's data completes it, the copy worker writes it to the user buffer under
 * {@code kthread_use_mm} (allowed by the iocb's teardown barrier, not by a reference) and
 * completes the iocb with the byte count, which {@code io_getevents} returns.
 */
class FfsEpfileTest {
    private static final long[] SEEDS = {1, 3, 9, 27, 81};

    @Test
    void aioRead_copiesTheHostsData_andCompletesWithTheByteCount() {
        byte[] host = new byte[48];
        for (int i = 0; i < host.length; i++) {
            host[i] = (byte) (i * 7 + 1);
        }
        for (long seed : SEEDS) {
            Kernel k = Kernel.controlled(seed);
            Checkers.install(k);
            UsbEp ep = new UsbEp(k, "ep1");
            FfsEpfile epfile = new FfsEpfile(k, ep);
            AtomicReference<List<IoEvent>> events = new AtomicReference<>();
            AtomicReference<byte[]> read = new AtomicReference<>();
            k.spawnKthread("udc-irq", self -> ep.hostTransfer(host));
            Process.spawn(k, "process", self -> {
                MmStruct mm = MmStruct.of(self);
                long addr = Mmap.mmapAnonymous(mm, 4096, Mmap.PROT_READ | Mmap.PROT_WRITE);
                Kioctx ctx = Aio.ioSetup(mm);
                assertEquals(1, Aio.ioSubmit(ctx, 5, epfile::readIter, addr, host.length));
                List<IoEvent> got = Aio.ioGetevents(ctx);
                while (got.isEmpty()) {
                    k.runtime().sleep(1_000_000);
                    got = Aio.ioGetevents(ctx);
                }
                events.set(got);
                byte[] buf = new byte[host.length];
                assertEquals(0, UserAccess.copyFromUser(k, buf, addr));
                read.set(buf);
            });
            RunResult r = k.run();
            assertTrue(r.clean(), "seed " + seed + ": " + r.failures());
            assertEquals(List.of(new IoEvent(5, host.length)), events.get(), "seed " + seed);
            assertArrayEquals(host, read.get(), "seed " + seed);
            assertEquals(host.length, epfile.lastResult());
            assertTrue(r.hit(MmStruct.TEARDOWN_BARRIER_ACCESS), "seed " + seed + ": the worker had no mm_users");
        }
    }
}
