package hmm4j.kernel.fs;

import hmm4j.check.lifetime.KObject;
import hmm4j.kernel.mm.Errno;
import hmm4j.kernel.mm.MmStruct;
import hmm4j.kernel.mm.Mmap;
import hmm4j.kernel.module.Module;
import hmm4j.kernel.workqueue.WorkStruct;
import hmm4j.sim.Kernel;
import hmm4j.sim.Task;
import hmm4j.sim.sync.RefcountT;
import java.util.ArrayList;
import java.util.List;

/**
 * {@code struct file}: an open file of a character device, reference counted
 * ({@code f_count}; include/linux/fs.h, fs/file_table.c, fs/ioctl.c, mm/mmap.c).
 *
 * <p>Overview: made by {@link CharDevice#open} with one reference, the descriptor's. Each
 * further descriptor ({@code fork}, {@code dup}), each call in progress ({@link #ioctl},
 * {@link #mmap}: {@code fdget}/{@code fdput}) and each VMA mapping the file
 * ({@code vm_file}) holds one more. The last {@link #fput} runs the driver's
 * {@code release}, unpins the owner module and frees the file.
 *
 * <p>Lifetime: a {@link KObject}, so a driver that keeps a pointer to a file it holds no
 * reference to and uses it after the release is a use-after-free with its three sites. A
 * system call names the file by a descriptor of the calling task: without one it is
 * {@code -EBADF}.
 *
 * <p>Differences from the kernel: the kernel runs a task's last {@code fput} as task work at
 * its return to user space (a kernel thread's through the {@code delayed_fput} work); the
 * model runs the last put at once, except the put of a removed VMA, made under the mmap
 * lock ({@link #fputDeferred}), which runs on {@code system_wq} as {@code delayed_fput}
 * does ({@link #flushDelayedFput} waits for it). No file position, flags or {@code f_mode}.
 */
public final class File extends KObject implements FileRef {
    private final Kernel kernel;
    private final CharDevice device;
    private final FileOperations fops;
    private final RefcountT fCount;
    private volatile Object privateData;

    // The sanitizer files the reference only.
    @SuppressWarnings("this-escape")
    File(Kernel kernel, CharDevice device) {
        super(kernel, "file of " + device);
        this.kernel = kernel;
        this.device = device;
        this.fops = device.fops();
        this.fCount = new RefcountT(kernel, name() + "->f_count", 1);
    }

    /** The device the file was opened on. */
    public CharDevice device() {
        checkAccess("file->f_inode");
        return device;
    }

    /** {@code file->private_data}: the driver's object for this open. */
    public Object privateData() {
        checkAccess("file->private_data");
        return privateData;
    }

    /** Sets {@code file->private_data} (in the driver's {@code open}). */
    public void setPrivateData(Object data) {
        checkAccess("file->private_data");
        this.privateData = data;
    }

    /** {@code file_count}: the references held (for tests and checks). */
    public int fileCount() {
        return fCount.peek();
    }

    /** {@code get_file}: one more reference; the caller already holds one. */
    @Override
    public void getFile() {
        checkAccess("get_file");
        fCount.inc();
    }

    /** {@code fput}: drops a reference; the last one releases the file. May sleep. */
    @Override
    public void fput() {
        checkAccess("fput");
        if (fCount.decAndTest()) {
            release();
        }
    }

    /**
     * {@code fput} of a removed VMA's reference, under the mmap lock: the last one queues the
     * release on {@code system_wq} ({@code delayed_fput}). Does not sleep.
     */
    @Override
    public void fputDeferred() {
        checkAccess("fput");
        if (fCount.decAndTest()) {
            DelayedFput.of(kernel).add(this);
        }
    }

    /**
     * {@code flush_delayed_fput}: waits until every release queued by {@link #fputDeferred}
     * has run. May sleep.
     */
    public static void flushDelayedFput(Kernel kernel) {
        DelayedFput.of(kernel).work.flushWork();
    }

    /** {@code __fput}: the driver's release, then the module's pin, then the memory. */
    private void release() {
        fops.release(this);
        Module owner = fops.owner();
        if (owner != null) {
            owner.modulePut();
        }
        kfree();
    }

    /** A failed open: no release, but the module's pin and the memory go. */
    void discardFailedOpen() {
        Module owner = fops.owner();
        if (owner != null) {
            owner.modulePut();
        }
        kfree();
    }

    /** {@code fdget}: the calling task's descriptor for this file, with a reference for the call; null for none. */
    private boolean fdget() {
        Task t = kernel.current();
        if (!FilesStruct.holds(t, this)) {
            return false;
        }
        getFile();
        return true;
    }

    /**
     * {@code ioctl(fd, cmd, arg)} by the calling task: the driver's {@code unlocked_ioctl}
     * with a reference held for the call. Process context; may sleep.
     *
     * @return the driver's answer ({@code -ENOTTY} if it has none), or {@code -EBADF} when the
     *         calling task has no descriptor for the file
     */
    public long ioctl(int cmd, Object arg) {
        if (!fdget()) {
            return -Errno.EBADF;
        }
        try {
            return fops.unlockedIoctl(this, cmd, arg);
        } finally {
            fput();
        }
    }

    /**
     * {@code mmap(NULL, len, prot, flags, fd, 0)} on the calling task's address space:
     * {@link #mmap(long, long, int, int, long)} at a free address, from offset 0.
     */
    public long mmap(long len, int prot, int flags) {
        return mmap(0, len, prot, flags, 0);
    }

    /**
     * {@code mmap(addr, len, prot, flags, fd, pgoff << PAGE_SHIFT)} on the calling task's
     * address space: a new VMA mapping the file from page {@code pgoff} ({@code vm_pgoff}; the
     * kernel's byte offset must be page aligned, so the model takes pages), at {@code addr} as
     * a hint or, with {@code MAP_FIXED}, exactly, replacing what was mapped there; its
     * {@code vm_file} holds a reference until it is removed; set up by the driver's
     * {@code mmap} ({@link Mmap#mmapFile(MmStruct, long, long, int, int, FileRef, long, Mmap.FileMmap)}).
     * Process context; may sleep.
     *
     * @return the address, or {@code -EBADF}, {@code -EINVAL}, {@code -EOVERFLOW},
     *         {@code -ENOMEM}, {@code -ENODEV} (no {@code mmap} in the driver) or the driver's error
     */
    public long mmap(long addr, long len, int prot, int flags, long pgoff) {
        if (!fdget()) {
            return -Errno.EBADF;
        }
        try {
            MmStruct mm = MmStruct.of(kernel.current());
            if (mm == null) {
                return -Errno.ENODEV;
            }
            return Mmap.mmapFile(mm, addr, len, prot, flags, this, pgoff, vma -> fops.mmap(this, vma));
        } finally {
            fput();
        }
    }

    /**
     * {@code close(fd)} by the calling task: removes its descriptor and drops that reference.
     *
     * @return 0, or {@code -EBADF} when the task has no descriptor for the file
     */
    public int close() {
        return FilesStruct.closeFd(kernel.current(), this);
    }

    /** The kernel's {@code delayed_fput_list} and its work. */
    private static final class DelayedFput {
        private final List<File> list = new ArrayList<>();
        final WorkStruct work;

        private DelayedFput(Kernel kernel) {
            this.work = new WorkStruct(kernel, "delayed_fput_work", w -> run());
        }

        static DelayedFput of(Kernel kernel) {
            DelayedFput existing = kernel.componentOrNull(DelayedFput.class); // no capturing lambda once made
            return existing != null ? existing : kernel.component(DelayedFput.class, () -> new DelayedFput(kernel));
        }

        void add(File f) {
            synchronized (this) {
                list.add(f);
            }
            work.scheduleWork();
        }

        private void run() {
            List<File> todo;
            synchronized (this) {
                todo = List.copyOf(list);
                list.clear();
            }
            for (File f : todo) {
                f.release();
            }
        }
    }
}
