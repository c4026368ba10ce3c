package hmm4j.kernel.fs;

import hmm4j.kernel.mm.Errno;
import hmm4j.kernel.mm.Vma;
import hmm4j.kernel.module.Module;

/**
 * {@code struct file_operations} of a character device (include/linux/fs.h): what a driver
 * implements. Every operation has the kernel's answer for a driver that leaves it out:
 * {@code open} and {@code release} succeed, {@code unlocked_ioctl} is {@code -ENOTTY},
 * {@code mmap} is {@code -ENODEV}.
 */
public interface FileOperations {

    /** {@code .owner}: the module pinned while a file is open, or null for built-in code. */
    default Module owner() {
        return null;
    }

    /**
     * {@code .open}: sets the file up (typically its {@link File#setPrivateData private data}).
     * Process context; may sleep.
     *
     * @return 0, or a negative errno that fails the open (no {@code release} follows)
     */
    default int open(File file) {
        return 0;
    }

    /**
     * {@code .release}: the last reference to the file is gone (every descriptor closed,
     * every mapping removed, every call returned). May sleep.
     */
    default int release(File file) {
        return 0;
    }

    /**
     * {@code .unlocked_ioctl}: a command with its argument (the user's pointer or value; in
     * the model any object). Process context; may sleep.
     *
     * @return 0 or a positive result, or a negative errno
     */
    default long unlockedIoctl(File file, int cmd, Object arg) {
        return -Errno.ENOTTY;
    }

    /**
     * {@code .mmap}: sets up {@code vma}, a new mapping of the file in the calling task's mm
     * (not yet linked), for instance with {@link hmm4j.kernel.mm.PfnMap#remapPfnRange}. Called
     * with the mmap write lock held; may sleep.
     *
     * @return 0, or a negative errno that fails the mmap
     */
    default int mmap(File file, Vma vma) {
        return -Errno.ENODEV;
    }
}
