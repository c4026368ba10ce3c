package hmm4j.kernel.fs;

import hmm4j.kernel.mm.Errno;
import hmm4j.kernel.module.Module;
import hmm4j.sim.Kernel;
import java.util.Objects;

/**
 * A character device node ({@code struct cdev} registered with {@code cdev_add} and its
 * {@code /dev} node; fs/char_dev.c): opening it makes a new {@link File} with the device's
 * {@link FileOperations}.
 *
 * <p>Overview: {@link #open} is {@code open("/dev/NAME")} by the calling task, through
 * {@code chrdev_open}: it pins the owner module ({@code fops_get}, {@code -ENXIO} once the
 * module is going), makes the file with one reference, runs the driver's {@code open} and
 * installs a descriptor in the caller's {@link FilesStruct}; a failed {@code open} unpins the
 * module and drops the file without a {@code release}.
 *
 * <p>Differences from the kernel: no device numbers, inodes or {@code cdev_del} (a node is
 * an object the opener holds); no {@code O_*} flags.
 */
public final class CharDevice {
    /** The result of {@link #open}: 0 and the new file, or a negative errno and null. */
    public record Opened(int ret, File file) {
    }

    private final Kernel kernel;
    private final String name;
    private final FileOperations fops;

    /** {@code cdev_init} and {@code cdev_add}: a node {@code name} with {@code fops}. */
    public CharDevice(Kernel kernel, String name, FileOperations fops) {
        this.kernel = Objects.requireNonNull(kernel, "kernel");
        this.name = Objects.requireNonNull(name, "name");
        this.fops = Objects.requireNonNull(fops, "fops");
    }

    /** The node's name. */
    public String name() {
        return name;
    }

    /** The device's operations. */
    public FileOperations fops() {
        return fops;
    }

    /**
     * {@code open("/dev/NAME")} by the calling task: a new open file, its descriptor
     * installed in the task's table. Process context; may sleep.
     *
     * @return the file, or {@code -ENXIO} (the owner module is going) or the driver's error
     */
    public Opened open() {
        Module owner = fops.owner();
        if (owner != null && !owner.tryModuleGet()) {
            return new Opened(-Errno.ENXIO, null);
        }
        File file = new File(kernel, this);
        int ret = fops.open(file);
        if (ret != 0) {
            file.discardFailedOpen();
            return new Opened(ret, null);
        }
        FilesStruct.fdInstall(kernel.current(), file);
        return new Opened(0, file);
    }

    @Override
    public String toString() {
        return "/dev/" + name;
    }
}
