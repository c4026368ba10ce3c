package hmm4j.kernel.mm.migrate;

import static hmm4j.kernel.mm.lifetime.Runs.assertSingleFailure;
import static hmm4j.kernel.mm.lifetime.Runs.checkedKernel;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertTrue;

import hmm4j.kernel.KernelRules;
import hmm4j.kernel.mm.Page;
import hmm4j.kernel.sched.Process;
import hmm4j.sim.Kernel;
import hmm4j.sim.RunResult;
import hmm4j.sim.failure.Failure;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.function.Consumer;
import org.junit.jupiter.api.Test;

/**
 * {@code zone_device_folio_init}: a large folio handed out whole (a reference on each page,
 * the head locked, {@code folio_order}/{@code page_folio} answering for it), order 0 as
 * {@code zone_device_page_init}, and its misuse (a head not aligned to the order, a folio
 * beyond the pgmap, a page already handed out) reported at the call, in the driver's task.
 * Written to kill PIT's surviving mutants of {@link DevPagemap}.
 */
class DeviceFolioInitTest {

    /** Runs {@code body} in process "proc" with one 512-page, 512-aligned device pgmap. */
    private static RunResult inProcess(Consumer<DevPagemap> body, AtomicBoolean after) {
        Kernel k = checkedKernel(1);
        HugeTestDevice dev = new HugeTestDevice(k, new Object(), "gpu0", 1);
        Process.spawn(k, "proc", self -> {
            body.accept(dev.pgmap());
            after.set(true);
        });
        return k.run();
    }

    @Test
    void aFolioOfOrder2_isHandedOutWhole_andPageFolioFindsItsHead() {
        AtomicBoolean after = new AtomicBoolean();
        RunResult r = inProcess(pgmap -> {
            Page head = pgmap.page(4);
            DevPagemap.zoneDeviceFolioInit(head, 2);
            assertEquals(2, pgmap.folioOrder(head));
            for (int i = 0; i < 4; i++) {
                Page p = pgmap.page(4 + i);
                assertEquals(1, p.refcount(), "page " + i + " has its reference");
                assertSame(head, pgmap.folioHead(p), "page_folio of page " + i);
                assertEquals(i == 0, p.isLocked(), "only the head is locked: page " + i);
            }
            assertSame(pgmap.page(8), pgmap.folioHead(pgmap.page(8)), "the page after the folio heads itself");
            assertSame(pgmap.page(3), pgmap.folioHead(pgmap.page(3)), "and the one before it");
            assertEquals(Page.State.DEVICE_IDLE, pgmap.page(8).state());
            assertEquals(4, pgmap.pagesInUse());
            head.unlock();
            for (int i = 3; i >= 0; i--) {
                pgmap.page(4 + i).put();
            }
            assertEquals(0, pgmap.pagesInUse());
        }, after);
        assertTrue(r.failures().isEmpty(), r.failures().toString());
        assertTrue(after.get());
    }

    @Test
    void aFolioOfOrder0_isOnePage() {
        AtomicBoolean after = new AtomicBoolean();
        RunResult r = inProcess(pgmap -> {
            Page p = pgmap.page(5);
            DevPagemap.zoneDeviceFolioInit(p, 0);
            assertEquals(1, p.refcount());
            assertTrue(p.isLocked());
            assertEquals(0, pgmap.folioOrder(p));
            assertEquals(1, pgmap.pagesInUse());
            p.unlock();
            p.put();
        }, after);
        assertTrue(r.failures().isEmpty(), r.failures().toString());
        assertTrue(after.get());
    }

    @Test
    void aHeadNotAlignedToTheOrder_isReported() {
        AtomicBoolean after = new AtomicBoolean();
        RunResult r = inProcess(pgmap -> DevPagemap.zoneDeviceFolioInit(pgmap.page(2), 2), after);
        Failure.InvariantViolation v = assertSingleFailure(r, Failure.InvariantViolation.class);
        assertEquals(KernelRules.PAGE_INIT_LIVE_PGMAP, v.rule());
        assertTrue(v.detail().contains("order 2") && v.detail().contains(" of dev_pagemap gpu0"), v.detail());
        assertEquals("proc", v.site().task());
        assertFalse(after.get());
    }

    @Test
    void aFolioEndingAtThePgmapsEnd_fits_andOnePastIt_isReported() {
        AtomicBoolean after = new AtomicBoolean();
        RunResult fits = inProcess(pgmap -> {
            Page head = pgmap.page(256);
            DevPagemap.zoneDeviceFolioInit(head, 8);
            assertEquals(8, pgmap.folioOrder(head));
        }, after);
        assertTrue(fits.failures().stream().noneMatch(f -> f instanceof Failure.InvariantViolation),
                fits.failures().toString());
        assertTrue(after.get(), "the last 256 pages are one order-8 folio");
        AtomicBoolean after2 = new AtomicBoolean();
        RunResult beyond = inProcess(pgmap -> DevPagemap.zoneDeviceFolioInit(pgmap.page(0), 10), after2);
        Failure.InvariantViolation v = assertSingleFailure(beyond, Failure.InvariantViolation.class);
        assertEquals(KernelRules.PAGE_INIT_LIVE_PGMAP, v.rule());
        assertFalse(after2.get());
    }

    @Test
    void aFolioOverAPageAlreadyHandedOut_isReported_andNothingIsTaken() {
        AtomicBoolean after = new AtomicBoolean();
        Page[] seen = new Page[1];
        RunResult r = inProcess(pgmap -> {
            seen[0] = pgmap.page(0);
            DevPagemap.zoneDevicePageInit(pgmap.page(3));
            DevPagemap.zoneDeviceFolioInit(pgmap.page(0), 2);
        }, after);
        Failure.InvariantViolation v = assertSingleFailure(r, Failure.InvariantViolation.class);
        assertEquals(KernelRules.PAGE_INIT_FREE_PAGE, v.rule());
        assertTrue(v.detail().contains("zone_device_folio_init"), v.detail());
        assertEquals(Page.State.DEVICE_IDLE, seen[0].state(), "the head was not handed out");
        assertFalse(after.get());
    }

    @Test
    void memunmapPagesWaitingForALargeFolio_returnsWhenItsLastPageIsFreed() {
        Kernel k = checkedKernel(1);
        HugeTestDevice dev = new HugeTestDevice(k, new Object(), "gpu0", 1);
        DevPagemap pgmap = dev.pgmap();
        AtomicBoolean unmapped = new AtomicBoolean();
        AtomicBoolean freedFirst = new AtomicBoolean();
        Process.spawn(k, "driver", self -> {
            DevPagemap.zoneDeviceFolioInit(pgmap.page(0), 2);
            pgmap.page(0).unlock();
            Process.spawn(k, "remove", t -> {
                pgmap.memunmapPages();
                unmapped.set(true);
            });
            // Virtual time moves only once "remove" waits in memunmap_pages for the folio.
            k.runtime().sleep(1_000_000);
            freedFirst.set(!unmapped.get());
            for (int i = 3; i >= 0; i--) {
                pgmap.page(i).put();
            }
        });
        RunResult r = k.run();
        assertTrue(r.failures().isEmpty(), r.failures().toString());
        assertTrue(freedFirst.get(), "memunmap_pages waited for the folio");
        assertTrue(unmapped.get(), "and was woken by the folio's free");
        assertEquals(java.util.List.of("0x" + Long.toHexString(pgmap.page(0).pfn()) + " order 2"), dev.folioFrees);
    }

    @Test
    void anAlignedFolioRunningPastThePgmapsLastPage_isReported() {
        Kernel k = checkedKernel(1);
        DevPagemapOps ops = new DevPagemapOps() {
            @Override
            public int migrateToRam(hmm4j.kernel.mm.Fault.VmFault vmf) {
                return 0;
            }

            @Override
            public void pageFree(Page page) {
            }
        };
        DevPagemap pgmap = new DevPagemap(k, "small", DevPagemap.Type.MEMORY_DEVICE_PRIVATE, new Object(), ops);
        assertEquals(0, pgmap.memremapPages(6, 4), "six pages from a multiple of four");
        AtomicBoolean after = new AtomicBoolean();
        Process.spawn(k, "proc", self -> {
            // Pages 4 and 5 are the pgmap's last: an order-2 folio at page 4 is aligned but runs past them.
            DevPagemap.zoneDeviceFolioInit(pgmap.page(4), 2);
            after.set(true);
        });
        Failure.InvariantViolation v = assertSingleFailure(k.run(), Failure.InvariantViolation.class);
        assertEquals(KernelRules.PAGE_INIT_LIVE_PGMAP, v.rule());
        assertFalse(after.get());
    }
}
