package hmm4j.drivers.usemm;

import hmm4j.kernel.mm.Errno;
import hmm4j.sim.Kernel;
import hmm4j.sim.sync.SpinLock;
import hmm4j.sim.sync.WaitQueueHead;
import java.util.ArrayDeque;
import java.util.function.Consumer;

/**
 * A USB gadget endpoint and its controller, as much as f_fs's AIO path needs
 * ({@code struct usb_ep}, {@code struct usb_request}, {@code usb_ep_queue},
 * {@code usb_ep_dequeue}, {@code usb_gadget_giveback_request}: drivers/usb/gadget/udc/core.c).
 *
 * <p>Overview: a function driver queues an OUT request ({@link #usbEpQueue}); the controller
 * completes the oldest queued request when the host sends data ({@link #hostTransfer}, run
 * by the controller's interrupt thread) with status 0 and the bytes received, or
 * {@link #usbEpDequeue} takes it back and completes it with {@code -ECONNRESET}. Either way
 * the request's {@code ->complete} runs exactly once, in the context that finished it
 * (interrupt context: it must not sleep).
 *
 * <p>Locking: the queue is guarded by the controller's lock, dropped before
 * {@code ->complete} runs, as the UDC drivers do around the giveback.
 */
public final class UsbEp {
    private final SpinLock lock;
    private final WaitQueueHead queuedWq;
    private final ArrayDeque<UsbRequest> queue = new ArrayDeque<>(); // guarded by lock
    private volatile boolean everQueued;

    /** {@code struct usb_request}: a transfer buffer and its completion. */
    public static final class UsbRequest {
        private final byte[] buf;
        private final Consumer<UsbRequest> complete;
        private volatile int status;
        private volatile int actual;

        UsbRequest(int length, Consumer<UsbRequest> complete) {
            this.buf = new byte[length];
            this.complete = complete;
        }

        /** {@code req->buf}. */
        public byte[] buf() {
            return buf;
        }

        /** {@code req->status}: 0, or a negative errno ({@code -ECONNRESET} after a dequeue). */
        public int status() {
            return status;
        }

        /** {@code req->actual}: the bytes transferred. */
        public int actual() {
            return actual;
        }
    }

    public UsbEp(Kernel kernel, String name) {
        this.lock = new SpinLock(kernel, "udc->lock", name + "->udc_lock");
        this.queuedWq = new WaitQueueHead(kernel, name + "->queued");
    }

    /** {@code usb_ep_alloc_request} with its buffer of {@code length} bytes and {@code ->complete}. */
    public UsbRequest usbEpAllocRequest(int length, Consumer<UsbRequest> complete) {
        return new UsbRequest(length, complete);
    }

    /** {@code usb_ep_queue}: the request waits for the host. Does not sleep. */
    public int usbEpQueue(UsbRequest req) {
        lock.lock();
        try {
            queue.addLast(req);
            everQueued = true;
        } finally {
            lock.unlock();
        }
        queuedWq.wakeUpAll();
        return 0;
    }

    /**
     * {@code usb_ep_dequeue}: takes a queued request back and completes it with
     * {@code -ECONNRESET}; {@code -EINVAL} if the controller already completed it.
     * Does not sleep.
     */
    public int usbEpDequeue(UsbRequest req) {
        boolean removed;
        lock.lock();
        try {
            removed = queue.remove(req);
        } finally {
            lock.unlock();
        }
        if (!removed) {
            return -Errno.EINVAL;
        }
        req.status = -Errno.ECONNRESET;
        req.actual = 0;
        req.complete.accept(req);
        return 0;
    }

    /**
     * The controller's interrupt thread: waits until a request has been queued, then the
     * host's {@code data} completes the oldest queued request with status 0. Returns false
     * when the request was already taken back.
     */
    public boolean hostTransfer(byte[] data) {
        queuedWq.waitEvent(() -> everQueued);
        UsbRequest req;
        lock.lock();
        try {
            req = queue.pollFirst();
        } finally {
            lock.unlock();
        }
        if (req == null) {
            return false;
        }
        int n = Math.min(data.length, req.buf.length);
        System.arraycopy(data, 0, req.buf, 0, n);
        req.actual = n;
        req.status = 0;
        req.complete.accept(req);
        return true;
    }
}
