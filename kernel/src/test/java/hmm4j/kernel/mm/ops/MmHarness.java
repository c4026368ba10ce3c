package hmm4j.kernel.mm.ops;

import static hmm4j.kernel.mm.lifetime.Runs.assertClean;
import static hmm4j.kernel.mm.lifetime.Runs.checkedKernel;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import hmm4j.kernel.mm.Errno;
import hmm4j.kernel.mm.MmStruct;
import hmm4j.kernel.mm.Mmap;
import hmm4j.kernel.mm.PhysMem;
import hmm4j.kernel.mm.Pte;
import hmm4j.kernel.mm.SwapSpace;
import hmm4j.kernel.mm.UserAccess;
import hmm4j.kernel.mm.Vma;
import hmm4j.kernel.mm.lifetime.RecordingNotifierOps;
import hmm4j.kernel.mm.notifier.MmuNotifier;
import hmm4j.kernel.mm.notifier.MmuNotifierOps;
import hmm4j.kernel.mm.notifier.MmuNotifierRange;
import hmm4j.kernel.sched.Process;
import hmm4j.sim.Kernel;
import hmm4j.sim.Task;
import java.util.List;
import java.util.concurrent.atomic.AtomicBoolean;

/**
 * Helpers for the address-space operation tests: a process body on a checked kernel with a
 * recording notifier registered on its mm, and small accessors for entries, VMAs and user
 * memory that assert as they go.
 */
final class MmHarness {
    static final long PAGE = Pte.PAGE_SIZE;
    static final int RW = Mmap.PROT_READ | Mmap.PROT_WRITE;

    private MmHarness() {
    }

    /** A process body: its kernel, task, mm and the recorder registered on the mm. */
    interface Body {
        void run(Kernel k, Task self, MmStruct mm, RecordingNotifierOps ops) throws Exception;
    }

    /**
     * Runs {@code body} in a process named "proc" on a checked kernel with fixed {@code seed},
     * a recording notifier and a {@link MightSleepOps} one registered on the process's mm for
     * the body's duration; asserts
     * the run was clean and the body finished. Returns the kernel, for accounting checks after
     * every process has exited.
     */
    static Kernel inProcess(long seed, Body body) {
        Kernel k = checkedKernel(seed);
        AtomicBoolean finished = runIn(k, body);
        assertClean(k.run());
        assertTrue(finished.get(), "the process body ran to its end");
        return k;
    }

    /**
     * Spawns "proc" on {@code k} running {@code body} as {@link #inProcess} does; the caller
     * runs the kernel. The returned flag is set when the body has finished.
     */
    static AtomicBoolean runIn(Kernel k, Body body) {
        AtomicBoolean finished = new AtomicBoolean();
        RecordingNotifierOps ops = new RecordingNotifierOps();
        MmuNotifier sub = new MmuNotifier("recorder", ops);
        MmuNotifier sleeper = new MmuNotifier("sleeper", new MightSleepOps());
        Process.spawn(k, "proc", self -> {
            MmStruct mm = MmStruct.of(self);
            sub.register(mm);
            sleeper.register(mm);
            body.run(k, self, mm, ops);
            sleeper.unregister(mm);
            sub.unregister(mm);
            finished.set(true);
        });
        return finished;
    }

    /**
     * Callbacks that declare they may sleep, as a driver's blockable callbacks do: lockdep
     * then reports any invalidation issued in atomic context (under a page-table spinlock).
     */
    static final class MightSleepOps implements MmuNotifierOps {
        @Override
        public int invalidateRangeStart(MmuNotifier subscription, MmuNotifierRange range) {
            Kernel k = range.mm().kernel();
            k.syncObserver().mightSleep(k.current(), "invalidate_range_start callback");
            return 0;
        }

        @Override
        public void invalidateRangeEnd(MmuNotifier subscription, MmuNotifierRange range) {
            Kernel k = range.mm().kernel();
            k.syncObserver().mightSleep(k.current(), "invalidate_range_end callback");
        }
    }

    /** Asserts that nothing is left allocated: no ordinary page, no swap slot. */
    static void assertNothingAllocated(Kernel k) {
        assertEquals(0, PhysMem.of(k).usedPages(), "pages in use after every process exited");
        assertEquals(0, SwapSpace.of(k).usedSlots(), "swap slots in use after every process exited");
    }

    /** The entry mapping {@code addr}, read under the page-table lock. */
    static long pte(MmStruct mm, long addr) {
        mm.pageTableLock().lock();
        try {
            return mm.pgd("test").get(addr);
        } finally {
            mm.pageTableLock().unlock();
        }
    }

    /** The VMAs of {@code mm}, copied under the mmap read lock. */
    static List<Vma> vmas(MmStruct mm) {
        mm.mmapReadLock();
        try {
            return mm.vmas("test").stream().toList();
        } finally {
            mm.mmapReadUnlock();
        }
    }

    /** The VMA containing {@code addr}, or null. */
    static Vma vmaAt(MmStruct mm, long addr) {
        mm.mmapReadLock();
        try {
            return mm.vmaLookup(addr);
        } finally {
            mm.mmapReadUnlock();
        }
    }

    /** Inserts {@code vma} into the tree directly (a mapping the model's mmap cannot make). */
    static void insertVma(MmStruct mm, Vma vma) {
        mm.mmapWriteLock();
        try {
            mm.vmas("test").insert(vma);
        } finally {
            mm.mmapWriteUnlock();
        }
    }

    /** Sets one entry directly (an entry no operation of the model makes yet). */
    static void setPte(MmStruct mm, long addr, long pte) {
        mm.pageTableLock().lock();
        try {
            mm.pgd("test").set(addr, pte);
        } finally {
            mm.pageTableLock().unlock();
        }
    }

    /** Private anonymous memory of {@code pages} pages with {@code prot}. */
    static long mapAnon(MmStruct mm, long pages, int prot) {
        long addr = Mmap.mmapAnonymous(mm, pages * PAGE, prot);
        assertFalse(Errno.isError(addr), "mmap failed: " + addr);
        return addr;
    }

    /** {@code n} bytes of a recognisable pattern. */
    static byte[] pattern(int n, int salt) {
        byte[] b = new byte[n];
        for (int i = 0; i < n; i++) {
            b[i] = (byte) (i * 31 + salt);
        }
        return b;
    }

    /** Writes {@code data} at {@code addr} as the current task; asserts success. */
    static void write(Kernel k, long addr, byte[] data) {
        assertEquals(0, UserAccess.copyToUser(k, addr, data), "copy_to_user at 0x" + Long.toHexString(addr));
    }

    /** Reads {@code n} bytes at {@code addr} as the current task; asserts success. */
    static byte[] read(Kernel k, long addr, int n) {
        byte[] buf = new byte[n];
        assertEquals(0, UserAccess.copyFromUser(k, buf, addr), "copy_from_user at 0x" + Long.toHexString(addr));
        return buf;
    }
}
