package hmm4j.drivers.dmirror;

import hmm4j.kernel.fs.FileRef;
import hmm4j.kernel.fs.FilesStruct;
import hmm4j.sim.Task;
import java.util.Objects;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * An open file of a dmirror device ({@code struct file} of {@code /dev/hmm_dmirrorN}): one
 * mirror per open, and the file operations the selftests use — {@code ioctl}, {@code close}
 * and {@code mmap} ({@code dmirror_fops} in lib/test_hmm.c).
 *
 * <p>Overview. {@link #open} must be called from a task with an address space: the mirror's
 * notifier goes on {@code current->mm}. The file may be used by other tasks afterwards, as an
 * inherited file descriptor is (the mirror still belongs to the opener's address space, which
 * is why the selftests open a fresh file in a forked child). User buffers named by a command
 * ({@code ptr}) are in the calling task's address space.
 *
 * <p>Lifetime. A file reference is held by every descriptor naming the file and by every call
 * in progress ({@code fget}/{@code fput}). {@link #open} installs the first descriptor in the
 * opener's table ({@link FilesStruct}); a {@code fork} duplicates it into the child's, and the
 * child's {@link #close} or exit drops only the child's. The mirror is released
 * ({@code dmirror_fops_release}) when the last reference is dropped: by the last
 * {@link #close} (or {@code exit_files}) if no call is in progress, else by the last call to
 * return. Using the file once no reference is left is a programming error of the caller and
 * raises {@link IllegalStateException} (the kernel answers {@code -EBADF} from the
 * descriptor table).
 */
public final class DmirrorFile implements FileRef {
    private final DmirrorDevice device;
    private final Dmirror dmirror;
    private final AtomicInteger fCount = new AtomicInteger(1);

    private DmirrorFile(DmirrorDevice device, Dmirror dmirror) {
        this.device = device;
        this.dmirror = dmirror;
    }

    /**
     * {@code open("/dev/hmm_dmirrorN")}: a new mirror of {@code device} on the calling task's
     * address space, its descriptor installed in the caller's table. Process context; may
     * sleep.
     *
     * @throws IllegalStateException if not called from a task with an mm
     */
    public static DmirrorFile open(DmirrorDevice device) {
        Objects.requireNonNull(device, "device");
        DmirrorFile file = new DmirrorFile(device, Dmirror.dmirrorFopsOpen(device));
        FilesStruct.fdInstall(device.kernel().current(), file);
        return file;
    }

    /**
     * {@code ioctl(fd, _IOWR('H', cmd, struct hmm_dmirror_cmd), record)}: runs command
     * {@code cmd} ({@link HmmDmirrorUapi}) on {@code record}, whose {@code cpages} and
     * {@code faults} are written back only on success. Process context; may sleep.
     *
     * @return 0 or a negated errno: {@code -EINVAL} (unaligned address, empty or wrapping
     *         range, unknown command, bad VMA or dead address space for the migrations and
     *         SNAPSHOT), {@code -EFAULT}, {@code -EPERM}, {@code -ENOENT}, {@code -EBUSY},
     *         {@code -ENOMEM}
     * @throws IllegalStateException if the file is closed
     */
    public int ioctl(int cmd, HmmDmirrorCmd record) {
        fget("ioctl");
        try {
            return DmirrorIoctl.dmirrorFopsUnlockedIoctl(dmirror, cmd, record);
        } finally {
            fput();
        }
    }

    /**
     * {@code close(fd)} by the calling task: removes its descriptor and drops that reference;
     * if it was the last, the mirror is released now (its notifier removed, waiting for an
     * invalidation in flight, the device's memory evicted) unless a call on this file is still
     * running, which then releases it when it returns. Process context; may sleep.
     *
     * @return 0
     * @throws IllegalStateException if no descriptor of the calling task names this file
     */
    public int close() {
        Task current = device.kernel().current();
        if (FilesStruct.closeFd(current, this) != 0) {
            throw new IllegalStateException("close of a file of " + device.name() + " that "
                    + (current == null ? "<main>" : current.name()) + " has not open");
        }
        return 0;
    }

    /**
     * {@code mmap(NULL, len, prot, flags, fd, 0)} on the calling task's address space: a
     * {@code VM_MIXEDMAP} mapping of zeroed ordinary pages ({@link DmirrorMmap}). Process
     * context; may sleep.
     *
     * @return the address, or {@code -EINVAL} (bad length or flags) or {@code -ENOMEM}
     * @throws IllegalStateException if the file is closed or the caller has no mm
     */
    public long mmap(long len, int prot, int flags) {
        fget("mmap");
        try {
            return DmirrorMmap.dmirrorFopsMmap(device.kernel(), len, prot, flags);
        } finally {
            fput();
        }
    }

    /** The device this file was opened on. */
    public DmirrorDevice device() {
        return device;
    }

    /** True once no descriptor and no call holds the file (it has been released). */
    public boolean isClosed() {
        return fCount.get() == 0;
    }

    /** {@code get_file}: one more reference, for a descriptor duplicated by {@code fork}. */
    @Override
    public void getFile() {
        fget("dup");
    }

    /** The mirror (for the package's tests and checks). */
    Dmirror dmirror() {
        return dmirror;
    }

    private void fget(String op) {
        int c;
        do {
            c = fCount.get();
            if (c == 0) {
                throw new IllegalStateException(op + " on a closed file of " + device.name());
            }
        } while (!fCount.compareAndSet(c, c + 1));
    }

    @Override
    public void fput() {
        if (fCount.decrementAndGet() == 0) {
            dmirror.dmirrorFopsRelease();
        }
    }

    @Override
    public String toString() {
        return "file of " + device.name() + (isClosed() ? " (closed)" : "");
    }
}
