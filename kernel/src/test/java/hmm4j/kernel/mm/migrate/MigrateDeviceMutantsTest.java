package hmm4j.kernel.mm.migrate;

import static hmm4j.kernel.mm.lifetime.Runs.assertClean;
import static hmm4j.kernel.mm.lifetime.Runs.checkedKernel;
import static hmm4j.kernel.mm.lifetime.Runs.describe;
import static hmm4j.kernel.mm.migrate.MigrateHarness.GPU;
import static hmm4j.kernel.mm.migrate.MigrateHarness.PAGE;
import static hmm4j.kernel.mm.migrate.MigrateHarness.RW;
import static hmm4j.kernel.mm.migrate.MigrateHarness.check;
import static hmm4j.kernel.mm.migrate.MigrateHarness.fill;
import static hmm4j.kernel.mm.migrate.MigrateHarness.mapAnon;
import static hmm4j.kernel.mm.migrate.MigrateHarness.pageAt;
import static hmm4j.kernel.mm.migrate.MigrateHarness.pte;
import static hmm4j.kernel.mm.migrate.MigratePfn.MIGRATE_PFN_MIGRATE;
import static hmm4j.kernel.mm.migrate.MigrateVma.MIGRATE_VMA_SELECT_SYSTEM;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertTrue;

import hmm4j.kernel.KernelRules;
import hmm4j.kernel.mm.Errno;
import hmm4j.kernel.mm.HugeMemory;
import hmm4j.kernel.mm.Mmap;
import hmm4j.kernel.mm.MmStruct;
import hmm4j.kernel.mm.Page;
import hmm4j.kernel.mm.PhysMem;
import hmm4j.kernel.mm.Pte;
import hmm4j.kernel.mm.Vma;
import hmm4j.kernel.sched.Process;
import hmm4j.sim.Kernel;
import hmm4j.sim.RunResult;
import hmm4j.sim.failure.Failure;
import hmm4j.sim.sync.SpinLock;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicBoolean;
import org.junit.jupiter.api.Test;

/**
 * What mutation testing left unchecked in {@link MigrateDevice} (the THP paths are
 * in {@link MigrateDeviceThpMutantsTest}): the page flags {@code folio_migrate_flags} moves to
 * the destination, a page referenced between setup and pages (its mark, its destination given
 * back unlocked), an entry setup did not collect but the driver gave a destination, the mmap
 * lock asserted by each of the three calls, the empty range, the end-of-run record of a
 * migration never finalized, {@code might_sleep} of the device-side calls, and
 * {@code migrate_device_coherent_folio}'s answers.
 */
class MigrateDeviceMutantsTest {

    /** Runs {@code body} in "proc" with a device of {@code devicePages}; returns the run (not asserted). */
    private static RunResult run(long seed, int devicePages, MigrateHarness.Body body, AtomicBoolean finished) {
        Kernel k = checkedKernel(seed);
        TestDevice[] dev = new TestDevice[1];
        MigrateHarness.spawn(k, devicePages, dev, (kk, self, mm, d, rec) -> {
            body.run(kk, self, mm, d, rec);
            finished.set(true);
        });
        return k.run();
    }

    private static MigrateVma args(MmStruct mm, long a, int npages, long[] src, long[] dst) {
        return new MigrateVma(mm, mm.vmaLookup(a), a, a + npages * PAGE, src, dst, GPU, MIGRATE_VMA_SELECT_SYSTEM);
    }

    @Test
    void aPageReferencedAfterSetup_isNotMigrated_marksTheSkip_andItsDestinationGoesBackUnlocked() {
        AtomicBoolean finished = new AtomicBoolean();
        RunResult r = run(1, 8, (k, self, mm, dev, rec) -> {
            long a = mapAnon(mm, 2, RW);
            fill(k, a, 2, 3);
            Page[] sys = {pageAt(k, mm, a), pageAt(k, mm, a + PAGE)};
            mm.mmapReadLock();
            long[] src = new long[2];
            long[] dst = new long[2];
            MigrateVma args = args(mm, a, 2, src, dst);
            assertEquals(0, MigrateDevice.migrateVmaSetup(args));
            assertEquals(2, args.cpages());
            Page[] dpage = new Page[2];
            for (int i = 0; i < 2; i++) {
                dpage[i] = dev.allocDevicePage();
                dpage[i].copyFrom(sys[i]);
                dst[i] = MigratePfn.migratePfn(dpage[i].pfn());
            }
            sys[0].get(); // a reference taken meanwhile (as a GUP of the page would)
            MigrateDevice.migrateVmaPages(args);
            assertEquals(0, src[0] & MIGRATE_PFN_MIGRATE, "folio_migrate_mapping refuses the referenced page");
            assertNotEquals(0, src[1] & MIGRATE_PFN_MIGRATE);
            Page d1 = dpage[1];
            assertTrue(d1.isAnon() && d1.isDirty(), "folio_migrate_flags: anon, dirty (the PTE was dirty): " + d1);
            assertEquals(sys[1].isSwapBacked(), d1.isSwapBacked(), "and the source's swap-backed state");
            assertFalse(dpage[0].isAnon(), "the refused destination took nothing");
            MigrateDevice.migrateVmaFinalize(args);
            mm.mmapReadUnlock();
            assertFalse(dpage[0].isLocked(), "finalize unlocks the destination it gives back");
            assertEquals(0, dpage[0].refcount(), "and drops its reference: page_free ran");
            assertEquals(1, dev.pagesFreed());
            assertSame(sys[0], pageAt(k, mm, a), "the referenced page is mapped again");
            assertTrue(Pte.isPresent(pte(mm, a)));
            assertTrue(Pte.isDevicePrivate(pte(mm, a + PAGE)));
            sys[0].put();
            check(k, a, 1, 3);
            assertEquals(1, dev.migrateToSystem(mm, a + PAGE, 1));
            check(k, a, 2, 3);
        }, finished);
        assertClean(r);
        assertTrue(finished.get());
        assertTrue(r.hit(MigrateVma.PAGES_REFCOUNT_SKIP), r.marks()::toString);
    }

    @Test
    void anEviction_givesTheSystemPageTheDevicePagesFlags() {
        AtomicBoolean finished = new AtomicBoolean();
        RunResult r = run(2, 4, (k, self, mm, dev, rec) -> {
            long a = mapAnon(mm, 2, RW);
            fill(k, a, 1, 4);
            // Page 0 written by the CPU (dirty), page 1 a hole the migration fills (anon, swap-backed).
            assertEquals(2, dev.migrateToDevice(mm, a, 2, null));
            Page d0 = pageAt(k, mm, a);
            Page d1 = pageAt(k, mm, a + PAGE);
            assertTrue(d0.isAnon() && d0.isDirty(), d0::toString);
            assertTrue(d1.isAnon() && d1.isSwapBacked(), "migrate_vma_insert_page: a new anonymous page: " + d1);
            boolean[] swapBacked = {d0.isSwapBacked(), d1.isSwapBacked()};
            boolean[] dirty = {d0.isDirty(), d1.isDirty()};
            assertEquals(2, dev.evictAll());
            for (int i = 0; i < 2; i++) {
                Page s = pageAt(k, mm, a + i * PAGE);
                assertTrue(Pte.isPresent(pte(mm, a + i * PAGE)));
                assertTrue(s.isAnon(), "migrate_device_pages moved the flags: " + s);
                assertEquals(swapBacked[i], s.isSwapBacked(), "swap-backed as the device page: " + s);
                assertEquals(dirty[i], s.isDirty(), "dirty as the device page: " + s);
            }
            assertEquals(2, dev.pagesFreed());
            check(k, a, 1, 4);
        }, finished);
        assertClean(r);
        assertTrue(finished.get());
    }

    @Test
    void anEntryNotCollected_withADestinationFromTheDriver_isSkippedWithoutAnInvalidation() {
        AtomicBoolean finished = new AtomicBoolean();
        RunResult r = run(3, 4, (k, self, mm, dev, rec) -> {
            // A hole of a shared mapping is not collected (only anonymous memory is populated).
            long s = Mmap.mmap(mm, 0, PAGE, RW, Mmap.MAP_SHARED | Mmap.MAP_ANONYMOUS, null, 0);
            mm.mmapReadLock();
            long[] src = {-1};
            long[] dst = {0};
            MigrateVma args = new MigrateVma(mm, mm.vmaLookup(s), s, s + PAGE, src, dst, GPU,
                    MIGRATE_VMA_SELECT_SYSTEM);
            assertEquals(0, MigrateDevice.migrateVmaSetup(args));
            assertEquals(0, src[0]);
            Page d = dev.allocDevicePage();
            dst[0] = MigratePfn.migratePfn(d.pfn());
            rec.clear();
            MigrateDevice.migrateVmaPages(args);
            assertEquals(List.of(), rec.events(), "nothing to insert: no MMU_NOTIFY_MIGRATE for the pages step");
            assertEquals(0, src[0]);
            MigrateDevice.migrateVmaFinalize(args);
            mm.mmapReadUnlock();
            assertFalse(d.isLocked());
            assertEquals(1, dev.pagesFreed(), "the destination went back to the driver");
            assertTrue(Pte.isNone(pte(mm, s)));
            assertEquals(0, Mmap.munmap(mm, s, PAGE));
        }, finished);
        assertClean(r);
        assertTrue(finished.get());
    }

    @Test
    void anEmptyRangeInsideTheVma_isEinval() {
        AtomicBoolean finished = new AtomicBoolean();
        RunResult r = run(4, 4, (k, self, mm, dev, rec) -> {
            long a = mapAnon(mm, 4, RW);
            mm.mmapReadLock();
            long[] src = {-1, -1};
            assertEquals(-Errno.EINVAL, MigrateDevice.migrateVmaSetup(new MigrateVma(mm, mm.vmaLookup(a), a + PAGE,
                    a + PAGE, src, new long[2], GPU, MIGRATE_VMA_SELECT_SYSTEM)));
            assertEquals(-Errno.EINVAL, MigrateDevice.migrateVmaSetup(new MigrateVma(mm, mm.vmaLookup(a), a + 2 * PAGE,
                    a + PAGE, src, new long[2], GPU, MIGRATE_VMA_SELECT_SYSTEM)), "end before start");
            assertEquals(-Errno.EINVAL, MigrateDevice.migrateVmaSetup(new MigrateVma(mm, mm.vmaLookup(a), a + PAGE - 8,
                    a + PAGE + 8, src, new long[2], GPU, MIGRATE_VMA_SELECT_SYSTEM)),
                    "16 bytes across a page boundary: no page, counted before the rounding (the kernel's nr_pages)");
            mm.mmapReadUnlock();
            assertEquals(-1, src[0], "untouched");
        }, finished);
        assertClean(r);
        assertTrue(finished.get());
    }

    @Test
    void setup_roundsAnUnalignedRangeToPages_beforeTheCollection() {
        AtomicBoolean finished = new AtomicBoolean();
        RunResult r = run(15, 4, (k, self, mm, dev, rec) -> {
            long a = mapAnon(mm, 4, RW);
            fill(k, a, 2, 2);
            mm.mmapReadLock();
            long[] src = new long[2];
            MigrateVma args = new MigrateVma(mm, mm.vmaLookup(a), a + 100, a + 2 * PAGE + 100, src, new long[2], GPU,
                    MIGRATE_VMA_SELECT_SYSTEM);
            rec.clear();
            assertEquals(0, MigrateDevice.migrateVmaSetup(args));
            assertEquals(a, args.start());
            assertEquals(a + 2 * PAGE, args.end());
            assertEquals(List.of(MigrateHarness.Recorder.line("MMU_NOTIFY_MIGRATE", a, a + 2 * PAGE, GPU)), rec.events(),
                    "the collection's invalidation covers whole pages");
            assertEquals(2, args.cpages());
            MigrateDevice.migrateVmaPages(args);
            MigrateDevice.migrateVmaFinalize(args);
            mm.mmapReadUnlock();
            check(k, a, 2, 2);
        }, finished);
        assertClean(r);
        assertTrue(finished.get());
    }

    // ---- migrate_device_pages entries it must refuse ----

    @Test
    void aDeviceRangeEntryNotCollected_withADestination_staysUnmigrated_andTheDestinationIsFreed() {
        AtomicBoolean finished = new AtomicBoolean();
        RunResult r = run(16, 4, (k, self, mm, dev, rec) -> {
            long[] src = new long[2];
            long[] dst = new long[2];
            MigrateDevice.migrateDeviceRange(k, src, dev.pgmap().startPfn(), 2);
            assertEquals(0, src[0], "a free device page");
            long used = PhysMem.of(k).usedPages();
            Page s = PhysMem.of(k).allocPage();
            s.lock();
            dst[0] = MigratePfn.migratePfn(s.pfn());
            MigrateDevice.migrateDevicePages(k, src, dst, 2);
            assertEquals(0, src[0], "nothing to migrate: no MIGRATE set");
            assertEquals(0, src[1]);
            MigrateDevice.migrateDeviceFinalize(k, src, dst, 2);
            assertFalse(s.isLocked());
            assertEquals(used, PhysMem.of(k).usedPages(), "the destination was freed");
        }, finished);
        assertClean(r);
        assertTrue(finished.get());
    }

    @Test
    void aBaseDevicePage_withACompoundDestination_isNotMigrated() {
        AtomicBoolean finished = new AtomicBoolean();
        RunResult r = run(17, 4, (k, self, mm, dev, rec) -> {
            long a = mapAnon(mm, 1, RW);
            fill(k, a, 1, 9);
            assertEquals(1, dev.migrateToDevice(mm, a, 1, null));
            Page d = pageAt(k, mm, a);
            PhysMem phys = PhysMem.of(k);
            long used = phys.usedPages();
            long[] src = new long[1];
            long[] dst = new long[1];
            MigrateDevice.migrateDeviceRange(k, src, d.pfn(), 1);
            assertNotEquals(0, src[0] & MIGRATE_PFN_MIGRATE);
            Page thp = phys.allocFolio(HugeMemory.HPAGE_PMD_ORDER);
            thp.lock();
            dst[0] = MigratePfn.migratePfn(thp.pfn()) | MigratePfn.MIGRATE_PFN_COMPOUND;
            MigrateDevice.migrateDevicePages(k, src, dst, 1);
            assertEquals(0, src[0] & MIGRATE_PFN_MIGRATE, "a large destination for a base page is refused");
            MigrateDevice.migrateDeviceFinalize(k, src, dst, 1);
            assertFalse(thp.isLocked());
            assertEquals(used, phys.usedPages(), "the large destination was freed whole");
            assertSame(d, pageAt(k, mm, a), "the device page is mapped again");
            assertTrue(Pte.isDevicePrivate(pte(mm, a)));
            check(k, a, 1, 9);
        }, finished);
        assertClean(r);
        assertTrue(finished.get());
    }

    // ---- the mmap lock of the three calls ----

    private static void assertMmapAssertion(RunResult r) {
        Failure f = r.firstFailure().orElseThrow(() -> new AssertionError("expected a report: " + describe(r)));
        assertTrue(f.toString().contains("mmap_assert_locked"), f::toString);
    }

    @Test
    void setupWithoutTheMmapLock_isReported() {
        RunResult r = run(5, 4, (k, self, mm, dev, rec) -> {
            long a = mapAnon(mm, 1, RW);
            mm.mmapReadLock();
            Vma vma = mm.vmaLookup(a);
            mm.mmapReadUnlock();
            MigrateVma args = new MigrateVma(mm, vma, a, a + PAGE, new long[1], new long[1], GPU,
                    MIGRATE_VMA_SELECT_SYSTEM);
            MigrateDevice.migrateVmaSetup(args);
        }, new AtomicBoolean());
        assertMmapAssertion(r);
    }

    @Test
    void pagesWithoutTheMmapLock_isReported() {
        RunResult r = run(6, 4, (k, self, mm, dev, rec) -> {
            long a = mapAnon(mm, 1, RW);
            mm.mmapReadLock();
            MigrateVma args = args(mm, a, 1, new long[1], new long[1]);
            assertEquals(0, MigrateDevice.migrateVmaSetup(args));
            mm.mmapReadUnlock();
            MigrateDevice.migrateVmaPages(args);
        }, new AtomicBoolean());
        assertMmapAssertion(r);
    }

    @Test
    void finalizeWithoutTheMmapLock_isReported() {
        RunResult r = run(7, 4, (k, self, mm, dev, rec) -> {
            long a = mapAnon(mm, 1, RW);
            mm.mmapReadLock();
            MigrateVma args = args(mm, a, 1, new long[1], new long[1]);
            assertEquals(0, MigrateDevice.migrateVmaSetup(args));
            MigrateDevice.migrateVmaPages(args);
            mm.mmapReadUnlock();
            MigrateDevice.migrateVmaFinalize(args);
        }, new AtomicBoolean());
        assertMmapAssertion(r);
    }

    // ---- migrations never finalized ----

    private static void assertNeverFinalized(RunResult r, String what) {
        Failure f = r.firstFailure().orElseThrow(() -> new AssertionError("expected a report: " + describe(r)));
        Failure.InvariantViolation v = assertInstanceOf(Failure.InvariantViolation.class, f, f::toString);
        assertSame(KernelRules.MIGRATE_FINALIZED, v.rule(), f::toString);
        assertTrue(v.detail().contains(what), v::detail);
    }

    @Test
    void aMigrateVmaOfHolesNeverFinalized_isReportedAtTheEnd() {
        AtomicBoolean finished = new AtomicBoolean();
        RunResult r = run(8, 4, (k, self, mm, dev, rec) -> {
            long a = mapAnon(mm, 2, RW);
            mm.mmapReadLock();
            MigrateVma args = args(mm, a, 2, new long[2], new long[2]);
            assertEquals(0, MigrateDevice.migrateVmaSetup(args));
            mm.mmapReadUnlock();
            assertEquals(2, args.cpages(), "two holes, nothing locked or unmapped");
        }, finished);
        assertTrue(finished.get());
        assertNeverFinalized(r, "migrate_vma of");
    }

    @Test
    void aDeviceRangeNeverFinalized_isReportedAtTheEnd() {
        AtomicBoolean finished = new AtomicBoolean();
        RunResult r = run(9, 4, (k, self, mm, dev, rec) -> {
            long[] src = new long[4];
            MigrateDevice.migrateDeviceRange(k, src, dev.pgmap().startPfn(), 4);
            assertEquals(0, src[0], "a free device page is not collected");
        }, finished);
        assertTrue(finished.get());
        assertNeverFinalized(r, "migrate_device_pfns of 4 pages");
    }

    // ---- might_sleep ----

    private static void assertSleepInAtomic(RunResult r, String operation) {
        Failure f = r.firstFailure().orElseThrow(() -> new AssertionError("expected a report: " + describe(r)));
        Failure.SleepInAtomic s = assertInstanceOf(Failure.SleepInAtomic.class, f, f::toString);
        assertEquals(operation, s.operation(), f::toString);
    }

    @Test
    void migrateDeviceRange_underASpinlock_isReported_evenWithNothingToCollect() {
        RunResult r = run(10, 4, (k, self, mm, dev, rec) -> {
            SpinLock l = new SpinLock(k, "test-lock", "test->lock");
            long[] src = new long[4];
            long[] dst = new long[4];
            l.lock();
            MigrateDevice.migrateDeviceRange(k, src, dev.pgmap().startPfn(), 4);
            l.unlock();
            MigrateDevice.migrateDevicePages(k, src, dst, 4);
            MigrateDevice.migrateDeviceFinalize(k, src, dst, 4);
        }, new AtomicBoolean());
        assertSleepInAtomic(r, "migrate_device_pfns");
    }

    // ---- migrate_device_coherent_folio ----

    /** Runs {@code body} with a coherent device of 4 pages on a kernel of {@code systemPages} pages. */
    private static RunResult coherent(long seed, long systemPages, CoherentBody body) {
        Kernel k = checkedKernel(seed);
        k.component(PhysMem.class, () -> new PhysMem(k, systemPages));
        TestDevice dev = new TestDevice(k, GPU, "cgpu0", 4, DevPagemap.Type.MEMORY_DEVICE_COHERENT);
        AtomicBoolean finished = new AtomicBoolean();
        Process.spawn(k, "proc", self -> {
            MmStruct mm = MmStruct.of(self);
            long a = mapAnon(mm, 1, RW);
            fill(k, a, 1, 6);
            mm.mmapReadLock();
            try {
                assertEquals(1, dev.migrateLocked(mm, a, 1, MIGRATE_VMA_SELECT_SYSTEM, null));
            } finally {
                mm.mmapReadUnlock();
            }
            Page c = pageAt(k, mm, a);
            assertTrue(ZoneDevice.isDeviceCoherentPage(c));
            body.run(k, mm, dev, a, c);
            assertEquals(0, Mmap.munmap(mm, a, PAGE));
            finished.set(true);
        });
        RunResult r = k.run();
        if (r.clean()) {
            assertTrue(finished.get());
            assertEquals(0, PhysMem.of(k).usedPages(), "no ordinary page left in use");
            assertEquals(0, dev.pgmap().pagesInUse(), "every coherent page went back to the driver");
        }
        return r;
    }

    private interface CoherentBody {
        void run(Kernel k, MmStruct mm, TestDevice dev, long a, Page coherentPage);
    }

    @Test
    void coherentFolio_migratesToAnAnonymousSystemPage() {
        assertClean(coherent(11, 64, (k, mm, dev, a, c) -> {
            c.get(); // the caller's reference, which the call consumes
            boolean swapBacked = c.isSwapBacked();
            assertEquals(0, MigrateDevice.migrateDeviceCoherentFolio(k, c));
            Page s = pageAt(k, mm, a);
            assertFalse(ZoneDevice.isZoneDevicePage(s), s::toString);
            assertTrue(Pte.isPresent(pte(mm, a)) && Pte.isWrite(pte(mm, a)));
            assertTrue(s.isAnon() && s.isDirty(), "the coherent page's flags moved: " + s);
            assertEquals(swapBacked, s.isSwapBacked(), s::toString);
            assertFalse(s.isLocked());
            assertEquals(1, s.refcount());
            assertEquals(1, dev.pagesFreed(), "the coherent page went back to its driver");
            check(k, a, 1, 6);
        }));
    }

    @Test
    void coherentFolio_withAnotherReference_isEbusy_andStaysMapped() {
        assertClean(coherent(12, 64, (k, mm, dev, a, c) -> {
            c.get(); // an extra reference (a short-term GUP)
            c.get(); // the caller's
            assertEquals(-Errno.EBUSY, MigrateDevice.migrateDeviceCoherentFolio(k, c));
            assertSame(c, pageAt(k, mm, a), "restored");
            assertFalse(c.isLocked());
            assertEquals(2, c.refcount(), "the mapping's and the extra one: the caller's was consumed");
            c.put();
            check(k, a, 1, 6);
        }));
    }

    @Test
    void coherentFolio_withTwoOtherReferences_isEbusyAtTheUnmap_beforeAnyAllocation() {
        assertClean(coherent(18, 64, (k, mm, dev, a, c) -> {
            c.get();
            c.get(); // two extra references: migrate_vma_check_page refuses the page at the unmap
            c.get(); // the caller's
            long used = PhysMem.of(k).usedPages();
            assertEquals(-Errno.EBUSY, MigrateDevice.migrateDeviceCoherentFolio(k, c));
            assertEquals(used, PhysMem.of(k).usedPages());
            assertSame(c, pageAt(k, mm, a), "restored");
            assertFalse(c.isLocked());
            assertEquals(3, c.refcount());
            c.put();
            c.put();
            check(k, a, 1, 6);
        }));
    }

    @Test
    void coherentFolio_withNoSystemPageFree_isEbusy_andStaysMapped() {
        assertClean(coherent(13, 16, (k, mm, dev, a, c) -> {
            PhysMem phys = PhysMem.of(k);
            List<Page> hog = new ArrayList<>();
            for (Page p; (p = phys.allocPage()) != null; ) {
                hog.add(p);
            }
            c.get();
            assertEquals(-Errno.EBUSY, MigrateDevice.migrateDeviceCoherentFolio(k, c));
            assertSame(c, pageAt(k, mm, a), "restored");
            assertFalse(c.isLocked());
            assertEquals(1, c.refcount());
            hog.forEach(Page::put);
            check(k, a, 1, 6);
        }));
    }

    @Test
    void coherentFolio_underASpinlock_isReportedByItsOwnMightSleep() {
        RunResult r = coherent(14, 64, (k, mm, dev, a, c) -> {
            SpinLock l = new SpinLock(k, "test-lock", "test->lock");
            c.get();
            l.lock();
            MigrateDevice.migrateDeviceCoherentFolio(k, c);
            l.unlock();
        });
        assertSleepInAtomic(r, "migrate_device_coherent_folio");
    }
    @Test
    void coherentHoles_areMappedPresent_writableAndDirtyOnlyInAWritableVma() {
        assertClean(coherent(19, 64, (k, mm, dev, a, c) -> {
            long rw = mapAnon(mm, 1, RW);
            long ro = mapAnon(mm, 1, Mmap.PROT_READ);
            mm.mmapReadLock();
            try {
                assertEquals(1, dev.migrateLocked(mm, rw, 1, MIGRATE_VMA_SELECT_SYSTEM, null));
                assertEquals(1, dev.migrateLocked(mm, ro, 1, MIGRATE_VMA_SELECT_SYSTEM, null));
            } finally {
                mm.mmapReadUnlock();
            }
            long e = pte(mm, rw);
            assertTrue(Pte.isPresent(e) && Pte.isWrite(e) && Pte.isDirty(e), Pte.toString(e));
            assertTrue(ZoneDevice.isDeviceCoherentPage(pageAt(k, mm, rw)));
            long f = pte(mm, ro);
            assertTrue(Pte.isPresent(f) && !Pte.isWrite(f), Pte.toString(f));
            assertEquals(0, Mmap.munmap(mm, rw, PAGE));
            assertEquals(0, Mmap.munmap(mm, ro, PAGE));
        }));
    }
}
