package hmm4j.scenarios.selftest;

import hmm4j.drivers.dmirror.DmirrorDevice;
import hmm4j.drivers.dmirror.DmirrorFile;
import hmm4j.sim.Kernel;
import java.util.Map;
import java.util.TreeMap;

/**
 * The {@code /dev/hmm_dmirrorN} nodes of one machine: the test_hmm module as loaded with the
 * {@code spm_addr_dev0/1} parameters, so with its two device-private devices (minors 0 and 1)
 * and its two device-coherent ones (minors 2 and 3), as test_hmm.sh's {@code smoke} run loads
 * it on a machine with specific-purpose memory. A minor without a device fails to open, as the
 * C suite's {@code hmm_open} does when the node is missing. A component of the kernel.
 *
 * <p>Locking: the devices are created before the run ({@link #load}, module init); opening
 * only reads the table.
 */
final class DmirrorModule {
    /** The minors of the device-private devices the module always creates. */
    static final int[] PRIVATE_MINORS = {0, 1};
    /** The minors of the device-coherent devices its SPM parameters create. */
    static final int[] COHERENT_MINORS = {2, 3};
    /** The first device-coherent minor ({@code HMM_COHERENCE_DEVICE_ONE}). */
    static final int FIRST_COHERENT_MINOR = 2;

    private final Map<Integer, DmirrorDevice> devices = new TreeMap<>();

    private DmirrorModule() {
    }

    /** Module init: creates the device-private and device-coherent devices on {@code kernel}. Call before the run. */
    static DmirrorModule load(Kernel kernel) {
        DmirrorModule module = kernel.component(DmirrorModule.class, DmirrorModule::new);
        for (int minor : PRIVATE_MINORS) {
            module.devices.computeIfAbsent(minor, m -> DmirrorDevice.create(kernel, m));
        }
        for (int minor : COHERENT_MINORS) {
            module.devices.computeIfAbsent(minor, m -> DmirrorDevice.create(kernel, m));
        }
        return module;
    }

    /** The module loaded on {@code kernel}. */
    static DmirrorModule of(Kernel kernel) {
        DmirrorModule module = kernel.componentOrNull(DmirrorModule.class);
        if (module == null) {
            throw new IllegalStateException("the dmirror module is not loaded on this kernel");
        }
        return module;
    }

    /** The device of {@code minor}, or null when there is no such node. */
    DmirrorDevice device(int minor) {
        return devices.get(minor);
    }

    /**
     * {@code open("/dev/hmm_dmirror<minor>")} from the calling process: a new mirror of the
     * caller's mm, or null when there is no such device.
     */
    DmirrorFile open(int minor) {
        DmirrorDevice device = devices.get(minor);
        return device == null ? null : DmirrorFile.open(device);
    }
}
