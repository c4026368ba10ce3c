package hmm4j.drivers.dmirror;

/**
 * The private user API of the test device (lib/test_hmm_uapi.h): command numbers (the
 * {@code nr} of {@code _IOWR('H', nr, struct hmm_dmirror_cmd)}), the {@code FLAGS} bits and
 * the bytes a {@code SNAPSHOT} writes per page ({@code enum hmm_dmirror_snapshot} there).
 *
 * <p>Differences from the header: {@code HMM_DMIRROR_READ_UNLOCKABLE} (0x09, proposed, not
 * merged) is not offered; the coherent values exist but the coherent devices (minors 2 and 3)
 * are not modelled, so a snapshot never produces them.
 */
public final class HmmDmirrorUapi {
    /** Read the device's view of [addr, addr + npages pages) into {@code ptr}. */
    public static final int HMM_DMIRROR_READ = 0x00;
    /** Write {@code ptr} through the device's view of the range. */
    public static final int HMM_DMIRROR_WRITE = 0x01;
    /** Migrate the range to device memory, then read it back into {@code ptr}. */
    public static final int HMM_DMIRROR_MIGRATE_TO_DEV = 0x02;
    /** Migrate this device's pages of the range back to system memory. */
    public static final int HMM_DMIRROR_MIGRATE_TO_SYS = 0x03;
    /** One byte per page of the range into {@code ptr}, without faulting. */
    public static final int HMM_DMIRROR_SNAPSHOT = 0x04;
    /** Make the range device-exclusive (device atomics), then read it back into {@code ptr}. */
    public static final int HMM_DMIRROR_EXCLUSIVE = 0x05;
    /** 0 if no page of the range is still mapped for device atomics, else {@code -EPERM}. */
    public static final int HMM_DMIRROR_CHECK_EXCLUSIVE = 0x06;
    /** Evict every chunk of the device's memory (device-wide). */
    public static final int HMM_DMIRROR_RELEASE = 0x07;
    /** Set the mirror's fault-injection flags to the {@code npages} field. */
    public static final int HMM_DMIRROR_FLAGS = 0x08;

    /** {@code FLAGS}: make the next page allocation of a migration fail once. */
    public static final long HMM_DMIRROR_FLAG_FAIL_ALLOC = 1L << 0;

    public static final byte HMM_DMIRROR_PROT_ERROR = (byte) 0xFF;
    public static final byte HMM_DMIRROR_PROT_NONE = 0x00;
    public static final byte HMM_DMIRROR_PROT_READ = 0x01;
    public static final byte HMM_DMIRROR_PROT_WRITE = 0x02;
    public static final byte HMM_DMIRROR_PROT_PMD = 0x04;
    public static final byte HMM_DMIRROR_PROT_PUD = 0x08;
    public static final byte HMM_DMIRROR_PROT_ZERO = 0x10;
    public static final byte HMM_DMIRROR_PROT_DEV_PRIVATE_LOCAL = 0x20;
    public static final byte HMM_DMIRROR_PROT_DEV_PRIVATE_REMOTE = 0x30;
    public static final byte HMM_DMIRROR_PROT_DEV_COHERENT_LOCAL = 0x40;
    public static final byte HMM_DMIRROR_PROT_DEV_COHERENT_REMOTE = 0x50;

    private HmmDmirrorUapi() {
    }

    /** The command's name without the prefix ({@code "READ"}, ...), or {@code "0x.."} for an unknown one. */
    public static String commandName(int cmd) {
        return switch (cmd) {
            case HMM_DMIRROR_READ -> "READ";
            case HMM_DMIRROR_WRITE -> "WRITE";
            case HMM_DMIRROR_MIGRATE_TO_DEV -> "MIGRATE_TO_DEV";
            case HMM_DMIRROR_MIGRATE_TO_SYS -> "MIGRATE_TO_SYS";
            case HMM_DMIRROR_SNAPSHOT -> "SNAPSHOT";
            case HMM_DMIRROR_EXCLUSIVE -> "EXCLUSIVE";
            case HMM_DMIRROR_CHECK_EXCLUSIVE -> "CHECK_EXCLUSIVE";
            case HMM_DMIRROR_RELEASE -> "RELEASE";
            case HMM_DMIRROR_FLAGS -> "FLAGS";
            default -> "0x" + Integer.toHexString(cmd);
        };
    }
}
