package hmm4j.scenarios.selftest;

import hmm4j.drivers.dmirror.DmirrorFile;
import hmm4j.drivers.dmirror.HmmDmirrorCmd;
import hmm4j.drivers.dmirror.HmmDmirrorUapi;
import hmm4j.kernel.fs.FilesStruct;
import hmm4j.kernel.mm.Errno;
import hmm4j.kernel.mm.MmStruct;
import hmm4j.kernel.mm.Mmap;
import hmm4j.kernel.mm.Mprotect;
import hmm4j.kernel.mm.Page;
import hmm4j.kernel.mm.PageCache;
import hmm4j.kernel.mm.Pte;
import hmm4j.kernel.mm.ShmemFile;
import hmm4j.kernel.mm.UserAccess;
import hmm4j.kernel.sched.Clone;
import hmm4j.kernel.sched.Process;
import hmm4j.kernel.sched.Signal;
import hmm4j.kernel.sched.WaitStatus;
import hmm4j.sim.Kernel;
import hmm4j.sim.Op;
import hmm4j.sim.Task;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.function.IntUnaryOperator;

/**
 * What the C tests call, as seen from a process of the model: the few libc calls they use
 * ({@code mmap}, {@code munmap}, {@code mprotect}, {@code fork}, {@code waitpid},
 * {@code kill}, {@code _exit}, {@code pthread_create}, {@code pwrite}, {@code pread}, {@code close}), the
 * helpers at the top of hmm-tests.c ({@code hmm_open}, {@code hmm_dmirror_cmd},
 * {@code hmm_migrate_sys_to_dev}, {@code hmm_buffer_free}, {@code hmm_create_file},
 * {@code hmm_random}, {@code hmm_nanosleep}) and the CPU's loads and stores of {@code int}
 * words ({@link #load}, {@link #store}). The test groups extend it, so that a test body reads
 * like its C original.
 *
 * <p>Every call acts for the calling task ({@code current}): its mm, its files. A CPU access
 * the address space refuses ends the test as the C process would end, by {@code SIGSEGV}.
 *
 * <p>Differences from the C suite: file descriptors are objects ({@link DmirrorFile},
 * {@link ShmemFile}; null where C has -1); {@code malloc} of a buffer is an anonymous mapping;
 * {@code hmm_nanosleep} is counted in scheduling steps (see {@link #hmmNanosleep}).
 */
class UserSpace extends Asserts {
    /** {@code HMM_BUFFER_SIZE}: 4 MiB, 1024 pages of 4 KiB. */
    static final long HMM_BUFFER_SIZE = 1024 * 1024 * 4;
    /** {@code NTIMES}: iterations of the repeated tests. */
    static final int NTIMES = 10;
    /**
     * How many nanoseconds of {@link #hmmNanosleep} one scheduling step stands for. With 8,
     * the 0–32 µs delay of {@code anon_teardown} is 0–4000 steps, about the length of the
     * READ's fault rounds over 1024 pages: over seeds the unmap lands before, inside and after
     * them, and the READ returns 0 about half the time (with 1, nearly always, as the rounds
     * are a small part of the READ; with 16, never).
     */
    static final long NANOS_PER_STEP = 8;
    /** The model's page size ({@code sysconf(_SC_PAGE_SIZE)}). */
    static final long PAGE_SIZE = Pte.PAGE_SIZE;
    /** {@code ffs(page_size) - 1}. */
    static final int PAGE_SHIFT = Pte.PAGE_SHIFT;

    private static final Op.Kind HMM_NANOSLEEP = new Op.Kind("hmm_nanosleep", Op.Access.READ);

    private int children;

    protected UserSpace(Kernel kernel) {
        super(kernel);
    }

    // ---- the address space ----

    /** The calling process's mm. */
    protected final MmStruct mm() {
        Task t = kernel.current();
        MmStruct mm = t == null ? null : MmStruct.of(t);
        if (mm == null) {
            throw new IllegalStateException("not called from a process of the test");
        }
        return mm;
    }

    /** {@code mmap}: the address, or a negated errno ({@code MAP_FAILED}). */
    protected final long mmap(long addr, long length, int prot, int flags, ShmemFile fd, long offset) {
        return Mmap.mmap(mm(), addr, length, prot, flags, fd, offset >>> PAGE_SHIFT);
    }

    /** {@code mmap} of the device file itself ({@code dmirror_fops_mmap}): the address or a negated errno. */
    protected final long mmap(long addr, long length, int prot, int flags, DmirrorFile fd, long offset) {
        return fd.mmap(length, prot, flags);
    }

    /** {@code munmap}: 0 or a negated errno. */
    protected final int munmap(long addr, long length) {
        return Mmap.munmap(mm(), addr, length);
    }

    /** {@code mprotect}: 0 or a negated errno. */
    protected final int mprotect(long addr, long length, int prot) {
        return Mprotect.mprotect(mm(), addr, length, prot);
    }

    /** {@code ASSERT_NE(ptr, MAP_FAILED)}. */
    protected final void assertMapped(String expression, long ptr) {
        if (Errno.isError(ptr)) {
            fail("ASSERT_NE(" + expression + ", MAP_FAILED)", "mmap returned " + withErrno(ptr));
        }
    }

    /** {@code malloc(size)} of user memory: an anonymous read-write mapping. */
    protected final long malloc(long size) {
        long p = Mmap.mmapAnonymous(mm(), size, Mmap.PROT_READ | Mmap.PROT_WRITE);
        if (Errno.isError(p)) {
            fail("ASSERT_NE(buffer->mirror, NULL)", "malloc(" + size + ") failed: " + withErrno(p));
        }
        return p;
    }

    /** {@code free} of a {@link #malloc}ed buffer of {@code size} bytes; a failing unmap fails the test. */
    protected final void free(long ptr, long size) {
        int ret = ptr == 0 ? 0 : munmap(ptr, size);
        if (ret != 0) {
            fail("free", "munmap of the buffer at 0x" + Long.toHexString(ptr) + " returned " + withErrno(ret));
        }
    }

    // ---- CPU accesses (int and byte loads and stores of the test program) ----

    /** The {@code count} ints at {@code addr}, read by the CPU (the C test's {@code ptr[i]}). */
    protected final int[] load(long addr, long count) {
        byte[] bytes = loadBytes(addr, count * Integer.BYTES);
        int[] words = new int[Math.toIntExact(count)];
        ByteBuffer.wrap(bytes).order(ByteOrder.LITTLE_ENDIAN).asIntBuffer().get(words);
        return words;
    }

    /** The {@code count} bytes at {@code addr}, read by the CPU (an {@code unsigned char *}). */
    protected final byte[] loadBytes(long addr, long count) {
        byte[] bytes = new byte[Math.toIntExact(count)];
        if (UserAccess.copyFromUser(kernel, bytes, addr) != 0) {
            fail("SIGSEGV", "CPU read of " + count + " bytes at 0x" + Long.toHexString(addr) + " faulted");
        }
        return bytes;
    }

    /** Stores {@code words} at {@code addr} through the CPU (the C test's {@code ptr[i] = v}). */
    protected final void store(long addr, int[] words) {
        ByteBuffer b = ByteBuffer.allocate(words.length * Integer.BYTES).order(ByteOrder.LITTLE_ENDIAN);
        b.asIntBuffer().put(words);
        if (UserAccess.copyToUser(kernel, addr, b.array()) != 0) {
            fail("SIGSEGV", "CPU write of " + words.length + " ints at 0x" + Long.toHexString(addr) + " faulted");
        }
    }

    /** {@code memset(addr, value, count)} through the CPU. */
    protected final void memset(long addr, byte value, long count) {
        byte[] bytes = new byte[Math.toIntExact(count)];
        java.util.Arrays.fill(bytes, value);
        if (UserAccess.copyToUser(kernel, addr, bytes) != 0) {
            fail("SIGSEGV", "CPU write of " + count + " bytes at 0x" + Long.toHexString(addr) + " faulted");
        }
    }

    /** {@code for (i = 0; i < count; ++i) ptr[i] = value(i);} with {@code ptr} at {@code addr}. */
    protected final void store(long addr, long count, IntUnaryOperator value) {
        store(addr, 0, count, value);
    }

    /** {@code for (i = from; i < to; ++i) ptr[i] = value(i);} with {@code ptr} at {@code addr}. */
    protected final void store(long addr, long from, long to, IntUnaryOperator value) {
        int[] words = new int[Math.toIntExact(to - from)];
        for (int k = 0; k < words.length; k++) {
            words[k] = value.applyAsInt((int) from + k);
        }
        store(addr + from * Integer.BYTES, words);
    }

    /** The number of ints in {@code size} bytes ({@code size / sizeof(*ptr)}). */
    protected static long words(long size) {
        return size / Integer.BYTES;
    }

    // ---- files ----

    /** {@code hmm_create_file}: an unnamed tmpfs file ({@code O_TMPFILE}) truncated to {@code size}. */
    protected final ShmemFile hmmCreateFile(long size) {
        return PageCache.of(kernel).createFile("hmm-tests tmpfile", size);
    }

    /** {@code pwrite(fd, buf, count, offset)}: copies user memory into the file's pages. */
    protected final long pwrite(ShmemFile fd, long buf, long count, long offset) {
        byte[] data = new byte[Math.toIntExact(count)];
        if (UserAccess.copyFromUser(kernel, data, buf) != 0) {
            return -Errno.EFAULT;
        }
        PageCache cache = PageCache.of(kernel);
        if (offset + count > fd.size()) {
            cache.truncate(fd, offset + count);
        }
        for (long done = 0; done < count; ) {
            long pos = offset + done;
            int inPage = (int) (pos & ~Pte.PAGE_MASK);
            int chunk = (int) Math.min(count - done, PAGE_SIZE - inPage);
            Page page = cache.findOrCreatePage(fd, pos >>> PAGE_SHIFT);
            if (page == null) {
                return done > 0 ? done : -Errno.ENOMEM;
            }
            page.writeBytes(inPage, data, (int) done, chunk);
            page.put();
            done += chunk;
        }
        return count;
    }

    /** {@code pread(fd, buf, count, offset)}: copies the file's pages into user memory. */
    protected final long pread(ShmemFile fd, long buf, long count, long offset) {
        long n = Math.max(0, Math.min(count, fd.size() - offset));
        byte[] data = new byte[Math.toIntExact(n)];
        PageCache cache = PageCache.of(kernel);
        for (long done = 0; done < n; ) {
            long pos = offset + done;
            int inPage = (int) (pos & ~Pte.PAGE_MASK);
            int chunk = (int) Math.min(n - done, PAGE_SIZE - inPage);
            Page page = cache.findGetPage(fd, pos >>> PAGE_SHIFT);
            if (page != null) {
                page.readBytes(inPage, data, (int) done, chunk);
                page.put();
            }
            done += chunk;
        }
        return UserAccess.copyToUser(kernel, buf, data) != 0 ? -Errno.EFAULT : n;
    }

    // ---- the device ----

    /** {@code hmm_open(unit)}: the open file, or null (C's -1) when the device does not exist. */
    protected final DmirrorFile hmmOpen(int unit) {
        return DmirrorModule.of(kernel).open(unit);
    }

    /** {@code hmm_is_coherent_type(dev)}. */
    protected static boolean hmmIsCoherentType(int dev) {
        return dev >= DmirrorModule.FIRST_COHERENT_MINOR;
    }

    /** {@code ASSERT_GE(fd, 0)} for a file returned by {@link #hmmOpen}. */
    protected final void assertOpen(String expression, DmirrorFile fd) {
        if (fd == null) {
            fail("ASSERT_GE(" + expression + ", 0)", expression + " = -1");
        }
    }

    /** {@code close(fd)}: 0 or a negated errno. */
    protected final int close(DmirrorFile fd) {
        return FilesStruct.closeFd(kernel.current(), fd);
    }

    /**
     * {@code hmm_dmirror_cmd}: fills the command record from {@code buffer} ({@code addr =
     * ptr}, {@code ptr = mirror}), issues the ioctl (again on {@code EINTR}) and, on success,
     * copies {@code cpages} and {@code faults} back into the buffer.
     *
     * @return 0, or the negated errno of the ioctl (the buffer's counters then keep the values
     *         of the last successful call)
     */
    protected final int hmmDmirrorCmd(DmirrorFile fd, int request, HmmBuffer buffer, long npages) {
        HmmDmirrorCmd cmd = new HmmDmirrorCmd();
        cmd.addr = buffer.ptr;
        cmd.ptr = buffer.mirror;
        cmd.npages = npages;
        int ret;
        do {
            ret = fd.ioctl(request, cmd);
        } while (ret == -Errno.EINTR);
        if (ret != 0) {
            return ret;
        }
        buffer.cpages = cmd.cpages;
        buffer.faults = cmd.faults;
        return 0;
    }

    /** {@code hmm_migrate_sys_to_dev}: {@code HMM_DMIRROR_MIGRATE_TO_DEV} of the buffer. */
    protected final int hmmMigrateSysToDev(DmirrorFile fd, HmmBuffer buffer, long npages) {
        return hmmDmirrorCmd(fd, HmmDmirrorUapi.HMM_DMIRROR_MIGRATE_TO_DEV, buffer, npages);
    }

    /** {@code hmm_migrate_dev_to_sys}: {@code HMM_DMIRROR_MIGRATE_TO_SYS} of the buffer. */
    protected final int hmmMigrateDevToSys(DmirrorFile fd, HmmBuffer buffer, long npages) {
        return hmmDmirrorCmd(fd, HmmDmirrorUapi.HMM_DMIRROR_MIGRATE_TO_SYS, buffer, npages);
    }

    /** A buffer of {@code size} bytes with its mirror {@code malloc}ed and no range yet ({@code fd = -1}). */
    protected final HmmBuffer hmmBufferAlloc(long size) {
        return hmmBufferAlloc(size, size);
    }

    /** A buffer of {@code size} bytes whose mirror has {@code mirrorSize} bytes (snapshots: one per page). */
    protected final HmmBuffer hmmBufferAlloc(long size, long mirrorSize) {
        HmmBuffer buffer = new HmmBuffer();
        buffer.fd = null;
        buffer.size = size;
        buffer.mirror = malloc(mirrorSize);
        buffer.mirrorSize = mirrorSize;
        return buffer;
    }

    /** {@code hmm_buffer_free}: unmaps the range (unless {@code ptr} is NULL) and frees the mirror. */
    protected final void hmmBufferFree(HmmBuffer buffer) {
        if (buffer == null) {
            return;
        }
        int ret = buffer.ptr == 0 ? 0 : munmap(buffer.ptr, buffer.size);
        if (ret != 0) {
            fail("hmm_buffer_free", "munmap(buffer->ptr, buffer->size) returned " + withErrno(ret));
        }
        free(buffer.mirror, buffer.mirrorSize);
    }

    // ---- processes and threads ----

    /** The code of a thread. */
    @FunctionalInterface
    protected interface Code {
        void run() throws Exception;
    }

    /** The code of a forked child. */
    @FunctionalInterface
    protected interface ChildCode {
        void run() throws Exception;
    }

    /**
     * {@code fork()}: a child process with a copy-on-write duplicate of the caller's address
     * space and of its descriptor table, running {@code child} (C's {@code if (pid == 0) { ...
     * _exit(0); }} branch); the caller continues as the parent. The child exits with status 0
     * when {@code child} returns, or as {@link #exit} or a signal ends it.
     */
    protected final ChildProcess fork(ChildCode child) {
        Task parent = kernel.current();
        return new ChildProcess(Process.fork(parent, parent.name() + "-child" + (++children), self -> child.run()));
    }

    /** {@code waitpid(pid, &status, 0)}: waits for the child to end; its pid and status word. */
    protected final WaitStatus waitpid(ChildProcess pid) {
        return Process.waitpid(pid.task);
    }

    /** {@code kill(pid, sig)}: 0 or a negated errno. */
    protected final int kill(ChildProcess pid, int sig) {
        return Signal.kill(pid.task, sig);
    }

    /** {@code _exit(code)} of the calling process (does not return). */
    protected final void exit(int code) {
        Process.exit(code);
    }

    /**
     * In a child: {@code while (1) { }}, the loop of a child that waits to be killed: it parks
     * until a fatal signal is pending, then dies of it (does not return).
     */
    protected final void spinUntilKilled() {
        Signal.pause(kernel.current());
    }

    /** {@code pthread_create}: a thread of the calling process running {@code code}. */
    protected final Task pthreadCreate(String name, Code code) {
        return Clone.cloneVm(kernel, name, self -> code.run());
    }

    /** {@code pthread_join}. */
    protected final void pthreadJoin(Task thread) {
        thread.join();
    }

    /** {@code hmm_random()}: a random unsigned int, from the kernel's seeded randomness. */
    protected final long hmmRandom() {
        return Integer.toUnsignedLong(kernel.random().nextInt());
    }

    /**
     * {@code hmm_nanosleep(n)}. The controlled runtime's clock only moves when no task can
     * run, so a real sleep would always let every other task finish first. Instead the caller
     * waits until the machine has taken {@code n / NANOS_PER_STEP} more scheduling steps,
     * offering the CPU to the other tasks at each: the delay is measured in the machine's own
     * work, and where the caller resumes is chosen by the seeded schedule.
     */
    protected final void hmmNanosleep(long n) {
        long until = kernel.runtime().step() + n / NANOS_PER_STEP;
        // A pause of the calling task: it touches nothing but itself.
        Op pause = new Op(HMM_NANOSLEEP, kernel.current().target(), "hmm_nanosleep");
        while (kernel.runtime().step() < until) {
            kernel.point(pause);
        }
    }
}
