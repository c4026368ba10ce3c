package hmm4j.drivers.dmirror;

import static hmm4j.drivers.dmirror.HmmDmirrorUapi.HMM_DMIRROR_CHECK_EXCLUSIVE;
import static hmm4j.drivers.dmirror.HmmDmirrorUapi.HMM_DMIRROR_EXCLUSIVE;
import static hmm4j.drivers.dmirror.HmmDmirrorUapi.HMM_DMIRROR_FLAGS;
import static hmm4j.drivers.dmirror.HmmDmirrorUapi.HMM_DMIRROR_MIGRATE_TO_DEV;
import static hmm4j.drivers.dmirror.HmmDmirrorUapi.HMM_DMIRROR_MIGRATE_TO_SYS;
import static hmm4j.drivers.dmirror.HmmDmirrorUapi.HMM_DMIRROR_READ;
import static hmm4j.drivers.dmirror.HmmDmirrorUapi.HMM_DMIRROR_RELEASE;
import static hmm4j.drivers.dmirror.HmmDmirrorUapi.HMM_DMIRROR_SNAPSHOT;
import static hmm4j.drivers.dmirror.HmmDmirrorUapi.HMM_DMIRROR_WRITE;

import hmm4j.kernel.mm.Errno;
import hmm4j.kernel.mm.Pte;

/**
 * The command envelope ({@code dmirror_fops_unlocked_ioctl} in lib/test_hmm.c):
 * the checks every command shares, the dispatch, and the copy-back rule.
 *
 * <p>In order: the record is copied in (a missing record is {@code -EFAULT}); {@code addr}
 * must be page aligned and {@code addr + npages * PAGE_SIZE} must be strictly above
 * {@code addr} as unsigned 64-bit values, which refuses {@code npages == 0} and any wrap
 * ({@code -EINVAL}); {@code cpages} and {@code faults} are zeroed; an unknown command is
 * {@code -EINVAL}; the command runs on the copy; only if it returns 0 is the copy written back,
 * so after an error the caller sees no counters of that call.
 */
final class DmirrorIoctl {

    private DmirrorIoctl() {
    }

    /** {@code dmirror_fops_unlocked_ioctl}: 0 or a negated errno. Process context; may sleep. */
    static int dmirrorFopsUnlockedIoctl(Dmirror dmirror, int command, HmmDmirrorCmd user) {
        if (user == null) {
            return -Errno.EFAULT;
        }
        HmmDmirrorCmd cmd = user.copy();
        if ((cmd.addr & ~Pte.PAGE_MASK) != 0) {
            return -Errno.EINVAL;
        }
        if (Long.compareUnsigned(cmd.addr, cmd.addr + (cmd.npages << Pte.PAGE_SHIFT)) >= 0) {
            return -Errno.EINVAL;
        }
        cmd.cpages = 0;
        cmd.faults = 0;
        int ret = switch (command) {
            case HMM_DMIRROR_READ -> DmirrorReadWrite.dmirrorRead(dmirror, cmd);
            case HMM_DMIRROR_WRITE -> DmirrorReadWrite.dmirrorWrite(dmirror, cmd);
            case HMM_DMIRROR_MIGRATE_TO_DEV -> DmirrorMigrate.dmirrorMigrateToDevice(dmirror, cmd);
            case HMM_DMIRROR_MIGRATE_TO_SYS -> DmirrorMigrate.dmirrorMigrateToSystem(dmirror, cmd);
            case HMM_DMIRROR_SNAPSHOT -> DmirrorSnapshot.dmirrorSnapshot(dmirror, cmd);
            case HMM_DMIRROR_EXCLUSIVE -> DmirrorExclusive.dmirrorExclusive(dmirror, cmd);
            case HMM_DMIRROR_CHECK_EXCLUSIVE -> DmirrorExclusive.dmirrorCheckAtomic(dmirror, cmd);
            case HMM_DMIRROR_RELEASE -> {
                dmirror.mdevice().dmirrorDeviceRemoveChunks();
                yield 0;
            }
            case HMM_DMIRROR_FLAGS -> {
                dmirror.setFlags(cmd.npages);
                yield 0;
            }
            default -> -Errno.EINVAL;
        };
        if (ret != 0) {
            return ret;
        }
        user.cpages = cmd.cpages;
        user.faults = cmd.faults;
        return 0;
    }
}
