package hmm4j.drivers.usemm;

import hmm4j.kernel.mm.MmStruct;
import hmm4j.sim.Kernel;

/**
 * The kvm/i915 gvt pattern (wrong): the worker adopts the mm it holds only with
 * {@code mmgrab}. The struct is alive, but nothing stops {@code exit_mmap} from tearing the
 * address space down before or during the copy.
 */
public final class KvmStyleDevice extends UseMmDevice {

    public KvmStyleDevice(Kernel kernel, MmStruct mm, long userAddr, int length) {
        super(kernel, "kvm-vm", mm, userAddr, length);
    }

    @Override
    public void work() {
        copyOnce();
        release();
    }
}
