package hmm4j.kernel.mm.ops;

import static hmm4j.kernel.mm.lifetime.RecordingNotifierOps.end;
import static hmm4j.kernel.mm.lifetime.RecordingNotifierOps.start;
import static hmm4j.kernel.mm.lifetime.Runs.assertClean;
import static hmm4j.kernel.mm.lifetime.Runs.checkedKernel;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;

import hmm4j.kernel.mm.Errno;
import hmm4j.kernel.mm.MmStruct;
import hmm4j.kernel.mm.Mmap;
import hmm4j.kernel.mm.PhysMem;
import hmm4j.kernel.mm.Pte;
import hmm4j.kernel.mm.UserAccess;
import hmm4j.kernel.mm.lifetime.RecordingNotifierOps;
import hmm4j.kernel.mm.notifier.MmuNotifier;
import hmm4j.kernel.sched.Process;
import hmm4j.sim.Kernel;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.Test;

/**
 * The notifier call sites of munmap and the fault handler: exactly which
 * {@code invalidate_range_start/end} pairs a subscriber sees (kernel-spec §2.4, §2.5).
 */
class NotifierCallSitesTest {

    private static final long PAGE = Pte.PAGE_SIZE;

    /** Runs {@code body} in a process and returns the events the recorder saw during it. */
    private static List<String> recordDuring(long seed, BodyWithMm body) {
        Kernel k = checkedKernel(seed);
        RecordingNotifierOps ops = new RecordingNotifierOps();
        MmuNotifier sub = new MmuNotifier("recorder", ops);
        AtomicReference<List<String>> seen = new AtomicReference<>();
        Process.spawn(k, "proc", self -> {
            MmStruct mm = MmStruct.of(self);
            body.setUp(k, mm);
            sub.register(mm);
            body.run(k, mm);
            seen.set(ops.events());
            sub.unregister(mm);
        });
        assertClean(k.run());
        assertNotNull(seen.get(), "the body ran to the end");
        return seen.get();
    }

    /** A test body in process context: set-up before the notifier is registered, then the operation. */
    private interface BodyWithMm {
        default void setUp(Kernel k, MmStruct mm) {
        }

        void run(Kernel k, MmStruct mm);
    }

    @Test
    void munmapOfPartOfAMapping_issuesOneUnmapPairOverExactlyTheUnmappedRange() {
        AtomicLong base = new AtomicLong();
        List<Long> used = new ArrayList<>();
        List<String> events = recordDuring(21, new BodyWithMm() {
            @Override
            public void setUp(Kernel k, MmStruct mm) {
                long addr = Mmap.mmapAnonymous(mm, 4 * PAGE, Mmap.PROT_READ | Mmap.PROT_WRITE);
                assertFalse(Errno.isError(addr));
                base.set(addr);
                assertEquals(0, UserAccess.copyToUser(k, addr, new byte[(int) (4 * PAGE)]));
            }

            @Override
            public void run(Kernel k, MmStruct mm) {
                used.add(PhysMem.of(k).usedPages());
                assertEquals(0, Mmap.munmap(mm, base.get() + PAGE, 2 * PAGE));
                used.add(PhysMem.of(k).usedPages());
                mm.mmapReadLock();
                try {
                    assertNotNull(mm.vmaLookup(base.get()));
                    assertNull(mm.vmaLookup(base.get() + PAGE));
                    assertNull(mm.vmaLookup(base.get() + 2 * PAGE));
                    assertNotNull(mm.vmaLookup(base.get() + 3 * PAGE));
                } finally {
                    mm.mmapReadUnlock();
                }
            }
        });
        long a = base.get();
        assertEquals(List.of(start("MMU_NOTIFY_UNMAP", a + PAGE, a + 3 * PAGE, true),
                end("MMU_NOTIFY_UNMAP", a + PAGE, a + 3 * PAGE)), events);
        assertEquals(used.get(0) - 2, used.get(1), "the two unmapped pages were freed");
    }

    @Test
    void munmapOfNothingMapped_issuesNoInvalidation() {
        AtomicLong base = new AtomicLong();
        List<String> events = recordDuring(22, new BodyWithMm() {
            @Override
            public void setUp(Kernel k, MmStruct mm) {
                long addr = Mmap.mmapAnonymous(mm, 2 * PAGE, Mmap.PROT_READ | Mmap.PROT_WRITE);
                base.set(addr);
                assertEquals(0, Mmap.munmap(mm, addr, 2 * PAGE));
            }

            @Override
            public void run(Kernel k, MmStruct mm) {
                assertEquals(0, Mmap.munmap(mm, base.get(), 2 * PAGE));
            }
        });
        assertEquals(List.of(), events);
    }

    @Test
    void cowWriteAfterReadFault_issuesOneClearPairForExactlyThatPage() {
        AtomicLong base = new AtomicLong();
        List<byte[]> reads = new ArrayList<>();
        List<String> events = recordDuring(23, new BodyWithMm() {
            @Override
            public void setUp(Kernel k, MmStruct mm) {
                base.set(Mmap.mmapAnonymous(mm, 3 * PAGE, Mmap.PROT_READ | Mmap.PROT_WRITE));
            }

            @Override
            public void run(Kernel k, MmStruct mm) {
                long page = base.get() + PAGE;
                byte[] buf = new byte[16];
                assertEquals(0, UserAccess.copyFromUser(k, buf, page + 100), "read fault maps the zero page");
                reads.add(buf.clone());
                assertEquals(0, UserAccess.copyToUser(k, page + 100, new byte[] {7, 8, 9}), "COW of the zero page");
                assertEquals(0, UserAccess.copyFromUser(k, buf, page + 100));
                reads.add(buf.clone());
            }
        });
        long p = base.get() + PAGE;
        assertEquals(List.of(start("MMU_NOTIFY_CLEAR", p, p + PAGE, true), end("MMU_NOTIFY_CLEAR", p, p + PAGE)),
                events);
        assertArrayEquals(new byte[16], reads.get(0));
        byte[] expected = new byte[16];
        expected[0] = 7;
        expected[1] = 8;
        expected[2] = 9;
        assertArrayEquals(expected, reads.get(1));
    }

    @Test
    void firstWriteFaultOnAnUntouchedAnonymousPage_issuesNoInvalidation() {
        AtomicLong base = new AtomicLong();
        List<String> events = recordDuring(24, new BodyWithMm() {
            @Override
            public void setUp(Kernel k, MmStruct mm) {
                base.set(Mmap.mmapAnonymous(mm, 2 * PAGE, Mmap.PROT_READ | Mmap.PROT_WRITE));
            }

            @Override
            public void run(Kernel k, MmStruct mm) {
                assertEquals(0, UserAccess.copyToUser(k, base.get(), new byte[] {1}));
                assertEquals(0, UserAccess.copyToUser(k, base.get() + 1, new byte[] {2}), "already writable");
            }
        });
        assertEquals(List.of(), events);
    }

    @Test
    void writeAfterReadOnASharedAnonymousMapping_isNotACow() {
        AtomicLong base = new AtomicLong();
        List<String> events = recordDuring(25, new BodyWithMm() {
            @Override
            public void setUp(Kernel k, MmStruct mm) {
                long addr = Mmap.mmap(mm, 0, PAGE, Mmap.PROT_READ | Mmap.PROT_WRITE,
                        Mmap.MAP_SHARED | Mmap.MAP_ANONYMOUS, null, 0);
                assertFalse(Errno.isError(addr));
                base.set(addr);
            }

            @Override
            public void run(Kernel k, MmStruct mm) {
                byte[] buf = new byte[4];
                assertEquals(0, UserAccess.copyFromUser(k, buf, base.get()));
                assertEquals(0, UserAccess.copyToUser(k, base.get(), new byte[] {4, 3, 2, 1}));
                assertEquals(0, UserAccess.copyFromUser(k, buf, base.get()));
                assertArrayEquals(new byte[] {4, 3, 2, 1}, buf);
            }
        });
        assertEquals(List.of(), events);
    }
}
