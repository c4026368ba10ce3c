package hmm4j.kernel.mm.ops;

import static hmm4j.kernel.mm.ops.MmHarness.PAGE;
import static hmm4j.kernel.mm.ops.MmHarness.RW;
import static hmm4j.kernel.mm.ops.MmHarness.assertNothingAllocated;
import static hmm4j.kernel.mm.ops.MmHarness.inProcess;
import static hmm4j.kernel.mm.ops.MmHarness.mapAnon;
import static hmm4j.kernel.mm.ops.MmHarness.pattern;
import static hmm4j.kernel.mm.ops.MmHarness.pte;
import static hmm4j.kernel.mm.ops.MmHarness.read;
import static hmm4j.kernel.mm.ops.MmHarness.write;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertTrue;

import hmm4j.kernel.mm.Errno;
import hmm4j.kernel.mm.FolioPins;
import hmm4j.kernel.mm.Gup;
import hmm4j.kernel.mm.Madvise;
import hmm4j.kernel.mm.HugeMemory;
import hmm4j.kernel.mm.GupTest;
import hmm4j.kernel.mm.Mmap;
import hmm4j.kernel.mm.MmStruct;
import hmm4j.kernel.mm.Page;
import hmm4j.kernel.mm.PhysMem;
import hmm4j.kernel.mm.Pte;
import hmm4j.kernel.sched.Process;
import hmm4j.sim.Kernel;
import hmm4j.sim.Task;
import hmm4j.sim.failure.Failure;
import java.util.List;
import java.util.concurrent.atomic.AtomicBoolean;
import org.junit.jupiter.api.Test;

/**
 * get_user_pages and pin_user_pages on system memory: references and pins on present pages,
 * faults for the rest (with no invalidation: a fault that fills an empty entry sends none),
 * the pin accounting ({@code folio_maybe_dma_pinned}, {@code MMF_HAS_PINNED}), the fast
 * variants without the mmap lock, the error codes, the {@code gup_test} ioctl, and fork's early
 * copy of a pinned anonymous page.
 */
class GupCallsTest {

    private static Page page(Kernel k, MmStruct mm, long addr) {
        return PhysMem.of(k).pfnToPage(Pte.pfn(pte(mm, addr)));
    }

    @Test
    void getUserPages_referencesPresentPages_andFaultsInTheOthers_withoutAnyInvalidation() {
        Kernel k = inProcess(61, (kk, self, mm, ops) -> {
            long a = mapAnon(mm, 3, RW);
            write(kk, a, pattern((int) PAGE, 1));
            Page first = page(kk, mm, a);
            ops.clear();
            Page[] pages = new Page[3];
            mm.mmapReadLock();
            try {
                assertEquals(3, Gup.getUserPages(mm, a, 3, Gup.FOLL_WRITE, pages));
            } finally {
                mm.mmapReadUnlock();
            }
            assertEquals(List.of(), ops.events());
            assertSame(first, pages[0]);
            assertEquals(2, first.refcount(), "the mapping's reference and the GUP's");
            for (int i = 1; i < 3; i++) {
                long e = pte(mm, a + i * PAGE);
                assertTrue(Pte.isPresent(e) && Pte.isWrite(e) && Pte.isDirty(e), Pte.toString(e));
                assertSame(page(kk, mm, a + i * PAGE), pages[i], "faulted in, then taken");
            }
            for (Page p : pages) {
                p.put();
            }
            assertEquals(1, first.refcount());

            Page[] zero = new Page[1];
            long b = mapAnon(mm, 1, RW);
            mm.mmapReadLock();
            try {
                assertEquals(1, Gup.getUserPages(mm, b, 1, 0, zero));
            } finally {
                mm.mmapReadUnlock();
            }
            assertTrue(zero[0].isZeroPage(), "a read GUP of an untouched anonymous page maps the zero page");
            zero[0].put();
        });
        assertNothingAllocated(k);
    }

    @Test
    void pinUserPages_countsAPin_setsMmfHasPinned_andUnpinGivesItBack() {
        inProcess(62, (kk, self, mm, ops) -> {
            long a = mapAnon(mm, 1, RW);
            write(kk, a, pattern(16, 2));
            FolioPins pins = FolioPins.of(kk);
            Page p = page(kk, mm, a);
            assertFalse(pins.folioMaybeDmaPinned(p));
            assertFalse(pins.mmHasPinned(mm));
            Page[] pages = new Page[1];
            mm.mmapReadLock();
            try {
                assertEquals(1, Gup.pinUserPages(mm, a, 1, Gup.FOLL_WRITE | Gup.FOLL_LONGTERM, pages));
            } finally {
                mm.mmapReadUnlock();
            }
            assertSame(p, pages[0]);
            assertEquals(1, pins.pincount(p));
            assertTrue(pins.folioMaybeDmaPinned(p));
            assertTrue(pins.mmHasPinned(mm));
            assertEquals(1 + FolioPins.GUP_PIN_COUNTING_BIAS, pins.refcountAsKernel(p), "the kernel's biased count");
            Gup.unpinUserPages(mm, pages, 1);
            assertEquals(0, pins.pincount(p));
            assertFalse(pins.folioMaybeDmaPinned(p));
            assertEquals(1, p.refcount());
            assertTrue(pins.mmHasPinned(mm), "MMF_HAS_PINNED is never cleared");
        });
    }

    @Test
    void errorCodes_andAPartialResultWhenALaterPageFails() {
        inProcess(63, (kk, self, mm, ops) -> {
            long a = mapAnon(mm, 2, RW);
            long ro = mapAnon(mm, 1, Mmap.PROT_READ);
            assertEquals(0, Mmap.munmap(mm, a + PAGE, PAGE));
            Page[] pages = new Page[2];
            mm.mmapReadLock();
            try {
                assertEquals(-Errno.EINVAL, Gup.getUserPages(mm, a, 1, Gup.FOLL_PIN, pages), "FOLL_PIN is internal");
                assertEquals(-Errno.EINVAL, Gup.pinUserPages(mm, a, 1, Gup.FOLL_GET, pages), "pin with FOLL_GET");
                assertEquals(-Errno.EFAULT, Gup.getUserPages(mm, a + PAGE, 1, 0, pages), "no VMA");
                assertEquals(-Errno.EFAULT, Gup.getUserPages(mm, ro, 1, Gup.FOLL_WRITE, pages), "write to PROT_READ");
                assertEquals(1, Gup.getUserPages(mm, a, 2, Gup.FOLL_WRITE, pages), "the first page, then the hole");
            } finally {
                mm.mmapReadUnlock();
            }
            pages[0].put();
        });
    }

    @Test
    void fastVariants_takePresentPagesWithoutTheMmapLock_andFallBackForTheRest() {
        inProcess(64, (kk, self, mm, ops) -> {
            long a = mapAnon(mm, 3, RW);
            write(kk, a, pattern((int) (2 * PAGE), 3));
            Page[] pages = new Page[3];
            assertEquals(3, Gup.pinUserPagesFast(mm, a, 3, Gup.FOLL_WRITE, pages), "two lockless, one faulted");
            assertTrue(Pte.isPresent(pte(mm, a + 2 * PAGE)), "the fallback faulted the third page in");
            FolioPins pins = FolioPins.of(kk);
            for (Page p : pages) {
                assertEquals(1, pins.pincount(p));
            }
            Gup.unpinUserPages(mm, pages, 3);
            assertEquals(3, Gup.getUserPagesFast(mm, a, 3, 0, pages));
            for (Page p : pages) {
                p.put();
            }
            assertEquals(-Errno.EINVAL, Gup.getUserPagesFast(mm, a, 1, Gup.FOLL_PIN, pages));
        });
    }

    @Test
    void gupTestIoctl_walksTheRangeInCalls_putsEverythingBack_andReportsTheSizeWalked() {
        inProcess(65, (kk, self, mm, ops) -> {
            long a = mapAnon(mm, 4, RW);
            GupTest gup = GupTest.open(kk);
            for (int cmd = GupTest.GUP_FAST_BENCHMARK; cmd <= GupTest.DUMP_USER_PAGES_TEST; cmd++) {
                GupTest.Args args = new GupTest.Args();
                args.addr = a;
                args.size = 4 * PAGE;
                args.nrPagesPerCall = 3;
                args.gupFlags = Gup.FOLL_WRITE;
                assertEquals(0, gup.ioctl(cmd, args), "command " + cmd);
                assertEquals(4 * PAGE, args.size, "command " + cmd);
                for (int i = 0; i < 4; i++) {
                    Page p = page(kk, mm, a + i * PAGE);
                    assertEquals(1, p.refcount(), "command " + cmd + " put page " + i + " back");
                    assertEquals(0, FolioPins.of(kk).pincount(p));
                }
            }
            GupTest.Args hole = new GupTest.Args();
            hole.addr = a + 8 * PAGE;
            hole.size = PAGE;
            hole.nrPagesPerCall = 1;
            assertEquals(0, gup.ioctl(GupTest.PIN_BASIC_TEST, hole), "a failing GUP does not fail the ioctl");
            assertEquals(0, hole.size, "nothing walked");
            assertEquals(-Errno.EINVAL, gup.ioctl(7, hole));
            assertEquals(0, gup.close());
        });
    }

    @Test
    void unpinOfAPageThatIsNotPinned_isReportedAsAPutWithoutAGet_andChangesNothing() {
        Kernel k = hmm4j.kernel.mm.lifetime.Runs.checkedKernel(67);
        Process.spawn(k, "proc", self -> {
            MmStruct mm = MmStruct.of(self);
            long a = mapAnon(mm, 1, RW);
            write(k, a, pattern(8, 5));
            Gup.unpinUserPages(mm, new Page[] {page(k, mm, a)}, 1);
        });
        Failure.RefcountError e = hmm4j.kernel.mm.lifetime.Runs.assertSingleFailure(k.run(), Failure.RefcountError.class);
        assertEquals(Failure.RefcountProblem.PUT_WITHOUT_GET, e.problem());
        assertTrue(e.detail().contains("not pinned"), e.detail());
    }

    @Test
    void aPinNeverUnpinned_isFoundAtTheEndOfTheRun_asAReferenceLeft() {
        Kernel k = hmm4j.kernel.mm.lifetime.Runs.checkedKernel(68);
        Process.spawn(k, "proc", self -> {
            MmStruct mm = MmStruct.of(self);
            long a = mapAnon(mm, 1, RW);
            write(k, a, pattern(8, 6));
            assertEquals(1, Gup.pinUserPagesFast(mm, a, 1, Gup.FOLL_WRITE | Gup.FOLL_LONGTERM, new Page[1]));
        });
        Failure.InvariantViolation v = hmm4j.kernel.mm.lifetime.Runs.assertSingleFailure(k.run(),
                Failure.InvariantViolation.class);
        assertEquals(hmm4j.kernel.KernelRules.NO_PAGE_REFERENCE_LEFT, v.rule(), v::detail);
    }

    @Test
    void aThp_isFollowed_bothPathsTakeTheSubpage_aWriteToTheHugeZeroPageFaultsACopy() {
        inProcess(69, (kk, self, mm, ops) -> {
            long nr = HugeMemory.HPAGE_PMD_NR;
            long raw = mapAnon(mm, 4 * nr, RW);
            long a = (raw + Pte.PMD_SIZE - 1) & Pte.PMD_MASK;
            assertEquals(0, Madvise.madvise(mm, a, 2 * Pte.PMD_SIZE, Madvise.MADV_HUGEPAGE));
            write(kk, a, pattern(16, 7));
            long head = Pte.pfn(pte(mm, a));
            Page[] pages = new Page[2];
            mm.mmapReadLock();
            try {
                assertEquals(1, Gup.getUserPages(mm, a + 7 * PAGE, 1, Gup.FOLL_WRITE, pages));
            } finally {
                mm.mmapReadUnlock();
            }
            assertEquals(head + 7, pages[0].pfn(), "the subpage of the address");
            assertTrue(Pte.isHuge(pte(mm, a)), "still one leaf");
            pages[0].put();
            assertEquals(2, Gup.pinUserPagesFast(mm, a + 3 * PAGE, 2, Gup.FOLL_WRITE | Gup.FOLL_LONGTERM, pages));
            assertEquals(head + 3, pages[0].pfn());
            assertEquals(head + 4, pages[1].pfn());
            Gup.unpinUserPages(mm, pages, 2);

            long b = a + Pte.PMD_SIZE;
            assertArrayEquals(new byte[16], read(kk, b, 16), "a read fault maps the huge zero page");
            long zero = Pte.pfn(pte(mm, b));
            assertEquals(1, Gup.getUserPagesFast(mm, b, 1, 0, pages), "the slow path takes what the fast walk leaves");
            assertEquals(zero, pages[0].pfn(), "a read takes the huge zero page itself");
            pages[0].put();
            mm.mmapReadLock();
            try {
                assertEquals(1, Gup.getUserPages(mm, b + PAGE, 1, Gup.FOLL_WRITE, pages));
            } finally {
                mm.mmapReadUnlock();
            }
            assertNotEquals(zero + 1, pages[0].pfn(), "a write pin faults a private copy");
            pages[0].put();
            assertEquals(0, Mmap.munmap(mm, a, 2 * Pte.PMD_SIZE));
        });
    }

    @Test
    void fork_copiesAPinnedAnonymousPageForTheChild_andLeavesTheParentsEntryWritable() {
        AtomicBoolean childDone = new AtomicBoolean();
        Kernel k = inProcess(66, (kk, self, mm, ops) -> {
            long a = mapAnon(mm, 2, RW);
            write(kk, a, pattern((int) (2 * PAGE), 4));
            Page pinned = page(kk, mm, a);
            Page shared = page(kk, mm, a + PAGE);
            Page[] pages = new Page[1];
            mm.mmapReadLock();
            try {
                assertEquals(1, Gup.pinUserPages(mm, a, 1, Gup.FOLL_WRITE | Gup.FOLL_LONGTERM, pages));
            } finally {
                mm.mmapReadUnlock();
            }
            Task child = Process.fork(self, "child", c -> {
                MmStruct cm = MmStruct.of(c);
                long e = pte(cm, a);
                assertNotEquals(pinned.pfn(), Pte.pfn(e), "the child has its own copy");
                assertTrue(Pte.isWrite(e), "writable at once: " + Pte.toString(e));
                assertArrayEquals(pattern((int) (2 * PAGE), 4), read(kk, a, (int) (2 * PAGE)));
                write(kk, a, new byte[] {7});
                childDone.set(true);
            });
            long e = pte(mm, a);
            assertEquals(pinned.pfn(), Pte.pfn(e));
            assertTrue(Pte.isWrite(e), "the parent's entry of the pinned page stays writable");
            assertEquals(1, pinned.mapcount(), "the pinned page is not shared with the child");
            assertFalse(Pte.isWrite(pte(mm, a + PAGE)), "an unpinned page is shared copy-on-write as before");
            assertEquals(2, shared.mapcount());
            child.join();
            assertArrayEquals(pattern((int) PAGE, 4), read(kk, a, (int) PAGE), "the child's write is its own");
            Gup.unpinUserPages(mm, pages, 1);
        });
        assertTrue(childDone.get());
        assertNothingAllocated(k);
    }
}
