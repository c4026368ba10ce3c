package hmm4j.kernel.mm;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import hmm4j.kernel.KernelRules;
import hmm4j.check.Checkers;
import hmm4j.sim.Kernel;
import hmm4j.sim.RunResult;
import hmm4j.sim.failure.Failure;
import hmm4j.sim.failure.Failure.RefcountProblem;
import hmm4j.sim.failure.Site;
import hmm4j.sim.sync.Completion;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.function.Consumer;
import org.junit.jupiter.api.Test;

/**
 * The error policy applied to pages: a driver-like task that misuses a page it no longer
 * owns gets a checker report at the misuse, with the page's allocation and free sites,
 * instead of an exception; a caller's misuse of the Java API still throws.
 */
class PageMisuseTest {

    /**
     * Runs the page's life on a checked controlled kernel: allocated in set-up code, freed
     * by task {@code owner}, then {@code misuse} by task {@code driver}, which holds a stale
     * pointer. Returns the run; {@code after} says whether the driver got past the misuse.
     */
    private static RunResult staleUse(long seed, Consumer<Page> misuse, AtomicBoolean after) {
        Kernel k = Kernel.controlled(seed);
        Checkers.install(k);
        Page page = PhysMem.of(k).allocPage();
        Completion freed = new Completion(k, "freed");
        k.spawnUser("owner", self -> {
            page.put();
            freed.complete();
        });
        k.spawnKthread("driver", self -> {
            freed.waitForCompletion();
            misuse.accept(page);
            after.set(true);
        });
        return k.run();
    }

    private static boolean mentionsThisTest(Site site) {
        return site.frames().stream().anyMatch(f -> f.startsWith("PageMisuseTest."));
    }

    private static void assertLifetimeSites(Failure.UseAfterFree uaf) {
        assertEquals("<main>", uaf.allocated().task());
        assertTrue(uaf.allocated().frames().get(0).startsWith("PhysMem.allocPage"), uaf.allocated().toString());
        assertTrue(mentionsThisTest(uaf.allocated()), uaf.allocated().toString());
        assertEquals("owner", uaf.freed().task());
        assertTrue(uaf.freed().frames().get(0).startsWith("Page.put"), uaf.freed().toString());
        assertTrue(mentionsThisTest(uaf.freed()), uaf.freed().toString());
        assertEquals("driver", uaf.site().task());
        assertTrue(mentionsThisTest(uaf.site()), uaf.site().toString());
        assertTrue(uaf.freed().step() <= uaf.site().step());
    }

    @Test
    void aDeviceReadOfAFreedPage_isAUseAfterFreeWithAllocationFreeAndAccessSites_reportedAtTheRead() {
        AtomicBoolean after = new AtomicBoolean();
        RunResult r = staleUse(3, p -> p.readInt(64), after);
        assertEquals(1, r.failures().size(), r.failures().toString());
        Failure.UseAfterFree uaf = assertInstanceOf(Failure.UseAfterFree.class, r.failures().get(0));
        assertEquals("read of the contents", uaf.access());
        assertTrue(uaf.object().startsWith("page pfn=0x"), uaf.object());
        assertLifetimeSites(uaf);
        assertFalse(after.get(), "reported at the read: the driver does not go on");
    }

    @Test
    void aWriteIntoAFreedPage_isAUseAfterFreeWithItsSites() {
        AtomicBoolean after = new AtomicBoolean();
        RunResult r = staleUse(4, p -> p.writeBytes(0, new byte[] {1, 2, 3}, 0, 3), after);
        assertEquals(1, r.failures().size(), r.failures().toString());
        Failure.UseAfterFree uaf = assertInstanceOf(Failure.UseAfterFree.class, r.failures().get(0));
        assertEquals("write of the contents", uaf.access());
        assertLifetimeSites(uaf);
        assertFalse(after.get());
    }

    @Test
    void clearingAFreedPage_isAUseAfterFreeWrite() {
        AtomicBoolean after = new AtomicBoolean();
        RunResult r = staleUse(5, Page::clear, after);
        Failure.UseAfterFree uaf = assertInstanceOf(Failure.UseAfterFree.class, r.failures().get(0));
        assertEquals("write of the contents", uaf.access());
        assertLifetimeSites(uaf);
        assertFalse(after.get());
    }

    @Test
    void aStalePut_isARefcountUnderflowNamingThePageAndItsAllocationAndFreeSites() {
        AtomicBoolean after = new AtomicBoolean();
        RunResult r = staleUse(6, Page::put, after);
        assertEquals(1, r.failures().size(), r.failures().toString());
        Failure.RefcountError e = assertInstanceOf(Failure.RefcountError.class, r.failures().get(0));
        assertEquals(RefcountProblem.UNDERFLOW, e.problem());
        assertTrue(e.object().startsWith("page pfn=0x"), e.object());
        assertEquals("driver", e.site().task());
        assertTrue(mentionsThisTest(e.site()), e.site().toString());
        assertTrue(e.detail().contains("allocated by <main> @ step 0 at PhysMem.allocPage"), e.detail());
        assertTrue(e.detail().contains("freed by owner @ step"), e.detail());
        assertTrue(e.detail().contains("Page.put"), e.detail());
        assertFalse(after.get(), "reported at the put");
    }

    @Test
    void aStaleGet_isAnAdditionOnZeroWithTheSites() {
        AtomicBoolean after = new AtomicBoolean();
        RunResult r = staleUse(7, Page::get, after);
        Failure.RefcountError e = assertInstanceOf(Failure.RefcountError.class, r.failures().get(0));
        assertEquals(RefcountProblem.ADDITION_ON_ZERO, e.problem());
        assertTrue(e.detail().contains("get_page") && e.detail().contains("freed by owner"), e.detail());
        assertFalse(after.get());
    }

    @Test
    void aPutOfTheMappingsReference_isAPutWithoutGet_andThePageStays() {
        Kernel k = Kernel.controlled(8);
        Checkers.install(k);
        Page page = PhysMem.of(k).allocPage();
        page.incMapcount();
        k.spawnKthread("driver", self -> page.put());
        RunResult r = k.run();
        Failure.RefcountError e = assertInstanceOf(Failure.RefcountError.class, r.failures().get(0));
        assertEquals(RefcountProblem.PUT_WITHOUT_GET, e.problem());
        assertEquals("driver", e.site().task());
        assertEquals(1, page.refcount());
        assertEquals(Page.State.IN_USE, page.state());
    }

    @Test
    void unlockingAPageNotLocked_isReportedAtTheUnlock() {
        Kernel k = Kernel.controlled(9);
        Checkers.install(k);
        Page page = PhysMem.of(k).allocPage();
        AtomicBoolean after = new AtomicBoolean();
        k.spawnKthread("driver", self -> {
            page.unlock();
            after.set(true);
        });
        RunResult r = k.run();
        Failure.InvariantViolation v = assertInstanceOf(Failure.InvariantViolation.class, r.failures().get(0));
        assertEquals(KernelRules.UNLOCK_LOCKED_PAGE, v.rule());
        assertEquals("driver", v.site().task());
        assertFalse(after.get());
    }

    @Test
    void aWriteToTheZeroPage_isReported() {
        Kernel k = Kernel.controlled(10);
        Checkers.install(k);
        Page zero = PhysMem.of(k).zeroPage();
        k.spawnKthread("driver", self -> zero.writeLong(0, -1));
        RunResult r = k.run();
        Failure.InvariantViolation v = assertInstanceOf(Failure.InvariantViolation.class, r.failures().get(0));
        assertEquals(KernelRules.ZERO_PAGE_READ_ONLY, v.rule());
        assertEquals(0, zero.readLong(0));
    }

    @Test
    void withoutTheCheckers_pagesRecordNoSites_andTheReportSaysSo() {
        Kernel k = Kernel.controlled(11);
        PhysMem mem = PhysMem.of(k);
        Page page = mem.allocPage();
        page.put();
        assertTrue(page.allocSiteForReport().task().startsWith("<not recorded"));
        assertTrue(page.freeSiteForReport().task().startsWith("<not recorded"));
        k.spawnKthread("driver", self -> page.readByte(0));
        RunResult r = k.run();
        Failure.UseAfterFree uaf = assertInstanceOf(Failure.UseAfterFree.class, r.failures().get(0));
        assertTrue(uaf.allocated().task().startsWith("<not recorded"), uaf.toString());
        assertEquals("driver", uaf.site().task());
    }

    @Test
    void aReallocatedPage_forgetsItsOldFreeSite() {
        Kernel k = Kernel.controlled(12);
        Checkers.install(k);
        PhysMem mem = PhysMem.of(k);
        Page page = mem.allocPage();
        page.put();
        assertEquals("<main>", page.freeSiteForReport().task());
        Page again = mem.allocPage();
        assertEquals(page, again, "the freed pfn is reused first");
        assertTrue(again.freeSiteForReport().task().startsWith("<not recorded"), "in use: no free site");
    }

    @Test
    void apiMisuseByTheCaller_throwsTheDocumentedException() {
        Kernel k = Kernel.controlled(13);
        Page page = PhysMem.of(k).allocPage();
        assertThrows(IndexOutOfBoundsException.class, () -> page.readInt(4093));
        assertThrows(IndexOutOfBoundsException.class, () -> page.writeBytes(0, new byte[2], 1, 2));
        assertThrows(IllegalArgumentException.class, () -> new PhysMem(k, 0));
        assertTrue(k.run().clean(), "an API misuse is the caller's exception, not a report");
    }

    /**
     * The last put of a locked ordinary page is the kernel's bad page ({@code free_pages_prepare}:
     * {@code PG_locked} is among {@code PAGE_FLAGS_CHECK_AT_FREE}), reported where it happens,
     * with where the page was locked; the page is not freed.
     */
    @Test
    void theLastPutOfALockedPage_isABadPage_reportedAtThePut_andThePageIsNotFreed() {
        Kernel k = Kernel.controlled(5);
        Checkers.install(k);
        PhysMem phys = PhysMem.of(k);
        Page page = phys.allocPage();
        long freeBefore = phys.freePages();
        AtomicBoolean after = new AtomicBoolean();
        k.spawnKthread("driver", self -> {
            assertTrue(page.trylock());
            page.put();
            after.set(true);
        });
        RunResult r = k.run();
        assertEquals(1, r.failures().size(), r.failures().toString());
        Failure.InvariantViolation v = assertInstanceOf(Failure.InvariantViolation.class, r.failures().get(0));
        assertEquals(KernelRules.FREE_UNLOCKED_PAGE, v.rule());
        assertTrue(v.detail().contains("Bad page state") && v.detail().contains("PAGE_FLAGS_CHECK_AT_FREE"),
                v.detail());
        assertEquals("driver", v.site().task());
        assertEquals(freeBefore, phys.freePages(), "the bad page is not given back");
        assertEquals(Page.State.IN_USE, page.state());
        assertFalse(after.get(), "reported at the put: the driver does not go on");
    }

    /** The same put after unlock_page frees the page, without a report. */
    @Test
    void theLastPutAfterUnlock_freesThePage() {
        Kernel k = Kernel.controlled(5);
        Checkers.install(k);
        PhysMem phys = PhysMem.of(k);
        Page page = phys.allocPage();
        long freeBefore = phys.freePages();
        k.spawnKthread("driver", self -> {
            assertTrue(page.trylock());
            page.unlock();
            page.put();
        });
        RunResult r = k.run();
        assertTrue(r.clean(), r.failures().toString());
        assertEquals(freeBefore + 1, phys.freePages());
    }
}
