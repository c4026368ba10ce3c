package hmm4j.scenarios;

import hmm4j.drivers.usemm.FfsEpfile;
import hmm4j.drivers.usemm.UsbEp;
import hmm4j.kernel.fs.aio.Aio;
import hmm4j.kernel.fs.aio.Kioctx;
import hmm4j.kernel.mm.Errno;
import hmm4j.kernel.mm.MmStruct;
import hmm4j.kernel.mm.Mmap;
import hmm4j.kernel.mm.UserAccess;
import hmm4j.kernel.sched.Process;
import hmm4j.sim.Kernel;
import hmm4j.sim.rule.SimRules;
import java.util.List;

/**
 * S1, the last {@code use_mm()} user of Linus Torvalds' mail: the USB gadget f_fs AIO copy
 * worker. A process P maps a buffer, sets up an AIO context and submits an asynchronous
 * read of a FunctionFS endpoint file, then exits; the controller's interrupt thread
 * completes the OUT request with the host's data (or the cancel at P's exit takes it back
 * first), and the copy worker writes the data into P's buffer with {@code kthread_use_mm}
 * and no {@code mmget}, then completes the iocb.
 *
 * <p>On the kernel ({@code S1-ffs-aio}) P's last {@code mmput} runs {@code exit_aio} before
 * {@code exit_mmap}, and {@code exit_aio} waits for the iocb, so the worker is correct by
 * that serialization. On a counterfactual kernel whose {@code __mmput} tears the address
 * space down first ({@code S1-ffs-aio-mmap-first}) the same worker uses an address space
 * nothing holds for it: rule mm.pin.
 */
public final class FfsAioScenario implements Scenario {
    private static final int LENGTH = 64;

    private final String id;
    private final String title;
    private final Expectation expectation;
    private final Aio.TeardownOrder order;

    private FfsAioScenario(String id, String title, Expectation expectation, Aio.TeardownOrder order) {
        this.id = id;
        this.title = title;
        this.expectation = expectation;
        this.order = order;
    }

    /** The f_fs pair: the kernel's teardown order (clean) and the swapped one (found). */
    public static List<Scenario> all() {
        return List.of(
                new FfsAioScenario("S1-ffs-aio", "f_fs AIO copy worker: no mmget, serialised by exit_aio before exit_mmap",
                        Expectation.clean().reaching(MmStruct.TEARDOWN_BARRIER_ACCESS, Aio.KILL_CANCELLED_ACTIVE,
                                Aio.KILL_WAITED_FOR_IOCB, FfsEpfile.COPY_AFTER_LAST_MMPUT, FfsEpfile.CANCEL_DEQUEUED),
                        Aio.TeardownOrder.AIO_FIRST),
                new FfsAioScenario("S1-ffs-aio-mmap-first",
                        "f_fs AIO copy worker on a kernel whose __mmput runs exit_mmap before exit_aio",
                        Expectation.finds(SimRules.PIN), Aio.TeardownOrder.MMAP_FIRST));
    }

    @Override
    public String id() {
        return id;
    }

    @Override
    public String title() {
        return title;
    }

    @Override
    public Expectation expectation() {
        return expectation;
    }

    @Override
    public void setUp(Kernel kernel) {
        Aio.setTeardownOrder(kernel, order);
        byte[] hostData = new byte[LENGTH];
        for (int i = 0; i < LENGTH; i++) {
            hostData[i] = (byte) (0xa5 ^ i);
        }
        UsbEp ep = new UsbEp(kernel, "ep1");
        FfsEpfile epfile = new FfsEpfile(kernel, ep);
        kernel.spawnKthread("udc-irq", k -> ep.hostTransfer(hostData));
        Process.spawn(kernel, "process", self -> {
            MmStruct mm = MmStruct.of(self);
            long addr = Mmap.mmapAnonymous(mm, 4096, Mmap.PROT_READ | Mmap.PROT_WRITE);
            if (Errno.isError(addr) || UserAccess.copyToUser(kernel, addr, new byte[LENGTH]) != 0) {
                throw new IllegalStateException("process could not set up its buffer: " + addr);
            }
            Kioctx ctx = Aio.ioSetup(mm);
            int submitted = Aio.ioSubmit(ctx, 1, epfile::readIter, addr, LENGTH);
            if (submitted != 1) {
                throw new IllegalStateException("io_submit returned " + submitted);
            }
        });
    }
}
