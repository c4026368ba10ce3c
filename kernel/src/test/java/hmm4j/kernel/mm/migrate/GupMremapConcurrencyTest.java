package hmm4j.kernel.mm.migrate;

import static hmm4j.kernel.mm.lifetime.Runs.assertClean;
import static hmm4j.kernel.mm.lifetime.Runs.checkedKernel;
import static hmm4j.kernel.mm.migrate.MigrateHarness.PAGE;
import static hmm4j.kernel.mm.migrate.MigrateHarness.RW;
import static hmm4j.kernel.mm.migrate.MigrateHarness.check;
import static hmm4j.kernel.mm.migrate.MigrateHarness.fill;
import static hmm4j.kernel.mm.migrate.MigrateHarness.mapAnon;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import hmm4j.kernel.mm.Errno;
import hmm4j.kernel.mm.Gup;
import hmm4j.kernel.mm.Mmap;
import hmm4j.kernel.mm.Mremap;
import hmm4j.kernel.mm.Page;
import hmm4j.kernel.mm.PhysMem;
import hmm4j.kernel.sched.Clone;
import hmm4j.sim.Kernel;
import hmm4j.sim.RunResult;
import hmm4j.sim.Task;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;

/**
 * A thread pins a range long-term while the main thread moves it back and forth with
 * {@code mremap(MREMAP_FIXED)} and migrates it to the device, on the controlled runtime over
 * fixed seeds. Every pin that succeeds holds the pages the range maps, with their contents, in
 * system memory; a pin at an address the range has left fails with {@code -EFAULT}; the runs
 * are clean (no reference, pin or page left, no stale device rmap place) and the contents
 * survive every move.
 */
class GupMremapConcurrencyTest {
    private static final int PAGES = 4;
    private static final int ROUNDS = 6;
    private static final int SEEDS = 12;

    @Test
    void longtermPins_racingMremapAndMigration_holdTheRightPages_orFailWithEfault() {
        int pinnedRounds = 0;
        int faultedRounds = 0;
        for (long seed = 1; seed <= SEEDS; seed++) {
            Kernel k = checkedKernel(seed);
            AtomicBoolean done = new AtomicBoolean();
            AtomicInteger pinned = new AtomicInteger();
            AtomicInteger efault = new AtomicInteger();
            TestDevice[] dev = new TestDevice[1];
            MigrateHarness.spawn(k, 2 * PAGES, dev, (kk, self, mm, d, rec) -> {
                long x = mapAnon(mm, 4 * PAGES, RW);
                long y = x + 2 * PAGES * PAGE;
                assertEquals(0, Mmap.munmap(mm, x + PAGES * PAGE, 3 * PAGES * PAGE));
                fill(kk, x, PAGES, 3);
                Task dma = Clone.cloneVm(kk, "dma", t -> {
                    Page[] pages = new Page[PAGES];
                    for (int r = 0; r < ROUNDS; r++) {
                        mm.mmapReadLock();
                        int n;
                        try {
                            n = Gup.pinUserPages(mm, x, PAGES, Gup.FOLL_WRITE | Gup.FOLL_LONGTERM, pages);
                        } finally {
                            mm.mmapReadUnlock();
                        }
                        if (n == -Errno.EFAULT) {
                            efault.incrementAndGet();
                            continue;
                        }
                        assertEquals(PAGES, n, "all or nothing: the range moves as a whole");
                        for (int i = 0; i < PAGES; i++) {
                            assertFalse(pages[i].isDevicePrivate(), "a pin never holds a device-private page");
                            assertEquals(3000 + i, pages[i].readInt(0), "page " + i + " holds its contents");
                        }
                        pinned.incrementAndGet();
                        Gup.unpinUserPages(mm, pages, PAGES);
                    }
                });
                long at = x;
                for (int r = 0; r < ROUNDS; r++) {
                    long to = at == x ? y : x;
                    assertEquals(to, Mremap.mremap(mm, at, PAGES * PAGE, PAGES * PAGE,
                            Mremap.MREMAP_MAYMOVE | Mremap.MREMAP_FIXED, to));
                    at = to;
                    int moved = d.migrateToDevice(mm, at, PAGES, null);
                    assertTrue(moved >= 0 && moved <= PAGES, "migrated " + moved);
                }
                dma.join();
                check(kk, at, PAGES, 3);
                assertEquals(0, Mmap.munmap(mm, at, PAGES * PAGE));
                done.set(true);
            });
            RunResult result = k.run();
            assertClean(result);
            assertTrue(done.get(), "seed " + seed);
            assertEquals(0, PhysMem.of(k).usedPages(), "seed " + seed);
            assertEquals(0, dev[0].pgmap().pagesInUse(), "seed " + seed);
            pinnedRounds += pinned.get();
            faultedRounds += efault.get();
        }
        assertTrue(pinnedRounds > 0, "no seed had a pin succeed");
        assertTrue(faultedRounds > 0, "no seed had a pin meet the range moved away");
    }
}
