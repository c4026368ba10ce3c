package hmm4j.drivers.usemm;

import hmm4j.check.lifetime.RefHandle;
import hmm4j.kernel.mm.MmStruct;
import hmm4j.kernel.mm.UserAccess;
import hmm4j.kernel.sched.Kthread;
import hmm4j.sim.Kernel;
import java.util.Arrays;

/**
 * What every {@code use_mm} user shares: a device object created by the process, holding a
 * pointer to the process mm pinned with {@code mmgrab} (the struct only), and a worker that
 * copies a buffer out of the process's memory while adopting its mm.
 *
 * <p>Lifetime: the {@code mmgrab} is taken by the process when it creates the device and is
 * dropped by the worker when it is done ({@link #release}), under the device's own
 * {@link RefHandle} (so the reference is the device's, whoever takes or drops it).
 */
public abstract class UseMmDevice {
    protected final Kernel kernel;
    protected final MmStruct mm;
    protected final String name;
    private final RefHandle mmRef;
    protected final long userAddr;
    protected final int length;
    private volatile byte[] lastCopy;
    private volatile int lastResult = 1;

    /**
     * Created in process context: {@code mm} is {@code current->mm}, pinned here with
     * {@code mmgrab} for the device's lifetime.
     */
    protected UseMmDevice(Kernel kernel, String name, MmStruct mm, long userAddr, int length) {
        this.kernel = kernel;
        this.name = name;
        this.mmRef = new RefHandle(name);
        this.mm = mm;
        this.userAddr = userAddr;
        this.length = length;
        mm.mmgrabAs(mmRef);
    }

    /** The worker's body: one or more copies out of user memory. */
    public abstract void work();

    /** One {@code kthread_use_mm} / {@code copy_from_user} / {@code kthread_unuse_mm} round; records the result. */
    protected final void copyOnce() {
        Kthread.kthreadUseMm(mm);
        byte[] buf = new byte[length];
        lastResult = UserAccess.copyFromUser(kernel, buf, userAddr);
        lastCopy = buf;
        Kthread.kthreadUnuseMm(mm);
    }

    /** Drops the device's {@code mmgrab}. */
    protected final void release() {
        mm.mmdropAs(mmRef);
    }

    /** The result of the last copy: 0, {@code -EFAULT}, or 1 if none ran. */
    public int lastResult() {
        return lastResult;
    }

    /** A copy of the bytes the last copy read, or null. */
    public byte[] lastCopy() {
        byte[] b = lastCopy;
        return b == null ? null : Arrays.copyOf(b, b.length);
    }
}
