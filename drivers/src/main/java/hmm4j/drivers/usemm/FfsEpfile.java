package hmm4j.drivers.usemm;

import hmm4j.check.lifetime.KObject;
import hmm4j.kernel.fs.aio.Kiocb;
import hmm4j.kernel.mm.Errno;
import hmm4j.kernel.mm.MmStruct;
import hmm4j.kernel.mm.UserAccess;
import hmm4j.kernel.sched.Kthread;
import hmm4j.kernel.workqueue.WorkStruct;
import hmm4j.kernel.workqueue.WorkqueueStruct;
import hmm4j.sim.Kernel;
import hmm4j.sim.Mark;
import hmm4j.sim.sync.SpinLock;
import java.util.Arrays;

/**
 * The USB gadget FunctionFS endpoint file's AIO read (drivers/usb/gadget/function/f_fs.c):
 * {@code ffs_epfile_read_iter} with an asynchronous kiocb, {@code ffs_epfile_async_io_complete},
 * {@code ffs_user_copy_worker} and {@code ffs_aio_cancel}, the last {@code use_mm()} user of
 * Linus Torvalds' mail (seed 003).
 *
 * <p>Overview: the read queues an OUT request on the endpoint and returns
 * {@code -EIOCBQUEUED}, remembering the submitter's mm in its {@code ffs_io_data} with no
 * reference at all ({@code io_data->mm = current->mm}). When the request completes (data
 * from the host, or {@code -ECONNRESET} after a cancel), its completion queues the copy
 * worker on the function's {@code io_completion_wq}; the worker adopts the mm with
 * {@code kthread_use_mm}, copies the data to the user buffer, drops the mm, and only then
 * completes the iocb. Killing the AIO context (at the submitter's last {@code mmput},
 * {@code exit_aio}) cancels the iocb: {@code ffs_aio_cancel} dequeues the request.
 *
 * <p>Why that is correct without {@code mmget} is the comment in {@link #ffsUserCopyWorker};
 * the worker declares it to the model with {@link Kiocb#declareTeardownBarrier}, and rule
 * mm.pin checks at each access that the barrier really holds.
 */
public final class FfsEpfile {
    /** Coverage mark: the copy worker wrote to user memory after the submitter's last mmput (exit_aio waiting for it). */
    public static final Mark COPY_AFTER_LAST_MMPUT = Mark.of("ffs.copy.after-last-mmput",
            "The f_fs copy worker wrote to user memory while the submitter's mm_users was 0 (exit_aio waiting for "
                    + "the iocb)");
    /** Coverage mark: the cancel took the request back before the host's data came. */
    public static final Mark CANCEL_DEQUEUED = Mark.of("ffs.cancel.dequeued",
            "ffs_aio_cancel took the OUT request back before the host's data came (-ECONNRESET, no copy)");

    private final Kernel kernel;
    private final UsbEp ep;
    private final SpinLock epsLock;
    private final WorkqueueStruct ioCompletionWq;
    private volatile int lastCopied = 1;
    private volatile byte[] lastData;

    /** {@code struct ffs_io_data}: one AIO read in flight. */
    private static final class FfsIoData extends KObject {
        final Kiocb kiocb;
        final MmStruct mm;
        final long userAddr;
        volatile UsbEp.UsbRequest req;
        volatile WorkStruct work;

        FfsIoData(Kernel kernel, Kiocb kiocb, MmStruct mm, long userAddr) {
            super(kernel, "ffs_io_data");
            this.kiocb = kiocb;
            this.mm = mm;
            this.userAddr = userAddr;
            expectFreedAtQuiescence();
        }
    }

    /** The function's endpoint file on {@code ep}, with its completion workqueue. */
    public FfsEpfile(Kernel kernel, UsbEp ep) {
        this.kernel = kernel;
        this.ep = ep;
        this.epsLock = new SpinLock(kernel, "ffs->eps_lock", "ffs->eps_lock");
        this.ioCompletionWq = WorkqueueStruct.allocOrderedWorkqueue(kernel, "f_fs_io_completion", 0);
    }

    /**
     * {@code ffs_epfile_read_iter} for an AIO kiocb, then {@code ffs_epfile_io}: queues an OUT
     * request of {@code length} bytes for user address {@code userAddr} of the calling task's
     * mm, sets the cancel callback, and returns {@code -EIOCBQUEUED}.
     */
    public long readIter(Kiocb kiocb, long userAddr, int length) {
        FfsIoData io = new FfsIoData(kernel, kiocb, MmStruct.of(kernel.current()), userAddr);
        io.req = ep.usbEpAllocRequest(length, r -> ffsEpfileAsyncIoComplete(io));
        kiocb.kiocbSetCancelFn(k -> ffsAioCancel(io));
        epsLock.lock();
        try {
            ep.usbEpQueue(io.req);
        } finally {
            epsLock.unlock();
        }
        return -Errno.EIOCBQUEUED;
    }

    /** {@code ffs_epfile_async_io_complete}: the request's {@code ->complete}; queues the copy worker. */
    private void ffsEpfileAsyncIoComplete(FfsIoData io) {
        io.work = new WorkStruct(io, "ffs_user_copy_worker", w -> ffsUserCopyWorker(io));
        ioCompletionWq.queueWork(io.work);
    }

    /** {@code ffs_user_copy_worker}: copies what the host sent to the user buffer, then completes the iocb. */
    private void ffsUserCopyWorker(FfsIoData io) {
        io.checkAccess("io_data");
        UsbEp.UsbRequest req = io.req;
        int ret = req.status() != 0 ? req.status() : req.actual();
        if (ret > 0) {
            /*
             * No mmget here, and none is needed: io->mm is the submitter's mm, stored at submit
             * time without a reference. This worker runs before the iocb it finishes is
             * completed (kiComplete below), and until then the iocb holds its AIO context's
             * reqs reference. The submitter's last mmput runs exit_aio before exit_mmap, and
             * exit_aio waits until no iocb of the mm is in flight. So from here to kiComplete
             * the VMAs and page tables are intact, and the mm_struct too (the users' mm_count
             * is dropped after exit_mmap). After kiComplete nothing may touch the mm or the
             * iocb: their teardown may already be running.
             */
            io.kiocb.declareTeardownBarrier(kernel.current());
            Kthread.kthreadUseMm(io.mm);
            byte[] data = Arrays.copyOf(req.buf(), ret);
            int r = UserAccess.copyToUser(kernel, io.userAddr, data);
            if (io.mm.mmUsersPeek() == 0) {
                kernel.mark(COPY_AFTER_LAST_MMPUT);
            }
            Kthread.kthreadUnuseMm(io.mm);
            ret = r == 0 ? ret : -Errno.EFAULT;
            lastData = data;
        }
        lastCopied = ret;
        io.kiocb.kiComplete(ret);
        io.kfree();
    }

    /** {@code ffs_aio_cancel}: under {@code ffs->eps_lock}, takes the request back from the endpoint. */
    private int ffsAioCancel(FfsIoData io) {
        epsLock.lock();
        try {
            int value = ep.usbEpDequeue(io.req);
            if (value == 0) {
                kernel.mark(CANCEL_DEQUEUED);
            }
            return value;
        } finally {
            epsLock.unlock();
        }
    }

    /** The last worker's result: bytes copied, {@code -ECONNRESET}, {@code -EFAULT}, or 1 if none ran. */
    public int lastResult() {
        return lastCopied;
    }

    /** The bytes the last worker copied, or null. */
    public byte[] lastData() {
        byte[] d = lastData;
        return d == null ? null : Arrays.copyOf(d, d.length);
    }
}
