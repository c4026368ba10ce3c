package hmm4j.drivers.usemm;

import hmm4j.kernel.mm.MmStruct;
import hmm4j.sim.Kernel;

/**
 * The vhost pattern (correct): the worker upgrades the device's {@code mmgrab} to an
 * address-space reference with {@code mmget_not_zero} before {@code kthread_use_mm}, skips
 * the work if the process is already gone, and drops it with {@code mmput} after.
 */
public final class VhostStyleDevice extends UseMmDevice {

    public VhostStyleDevice(Kernel kernel, MmStruct mm, long userAddr, int length) {
        super(kernel, "vhost-dev", mm, userAddr, length);
    }

    @Override
    public void work() {
        if (mm.mmgetNotZero()) {
            copyOnce();
            mm.mmput();
        }
        release();
    }
}
