package hmm4j.kernel.mm.hmm;

import static hmm4j.kernel.mm.hmm.HmmBed.BASE;
import static hmm4j.kernel.mm.hmm.HmmBed.EBUSY;
import static hmm4j.kernel.mm.hmm.HmmBed.PAGE;
import static hmm4j.kernel.mm.hmm.HmmBed.REQ_FAULT;
import static hmm4j.kernel.mm.hmm.HmmBed.REQ_WRITE;
import static hmm4j.kernel.mm.hmm.HmmBed.RW;
import static hmm4j.kernel.mm.hmm.HmmBed.VALID;
import static hmm4j.kernel.mm.hmm.HmmBed.WRITE;
import static hmm4j.kernel.mm.hmm.HmmBed.output;
import static hmm4j.kernel.mm.hmm.HmmBed.runClean;
import static hmm4j.kernel.mm.hmm.HmmPfn.HMM_PFN_DMA_MAPPED;
import static hmm4j.kernel.mm.lifetime.Runs.assertClean;
import static hmm4j.kernel.mm.lifetime.Runs.assertSingleFailure;
import static hmm4j.kernel.mm.lifetime.Runs.checkedKernel;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import hmm4j.kernel.mm.MigrationEntryWait;
import hmm4j.kernel.mm.Page;
import hmm4j.kernel.mm.Pte;
import hmm4j.sim.RunResult;
import hmm4j.sim.Task;
import hmm4j.sim.failure.Failure;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * kernel-spec §4.4, the rows of non-present entries: swap, device-private (owned by the
 * caller or not), device-exclusive and migration entries — each without and with a fault
 * request. Device-private entries are put in place by migrating pages to test devices
 * ({@link hmm4j.kernel.mm.migrate.TestDevice}), one per owner.
 */
class HmmSwapDeviceMigrationRowsTest {

    private static final Object GPU = new Object();
    private static final Object OTHER_GPU = new Object();

    @Test
    void swap_noFaultRequested_isZeroAndStaysSwapped() {
        runClean(40, bed -> {
            bed.vma(BASE, 1, RW);
            bed.swapEntry(BASE, (byte) 0x5a);
            HmmRange r = bed.range(BASE, 1, 0, 0, null, HMM_PFN_DMA_MAPPED);
            assertEquals(0, bed.fault(r));
            assertEquals(HMM_PFN_DMA_MAPPED, r.hmmPfns()[0]);
            assertTrue(Pte.isSwap(bed.pte(BASE)));
        });
    }

    @Test
    void swap_faultRequested_swapsTheContentsIn() {
        runClean(41, bed -> {
            bed.vma(BASE, 1, RW);
            bed.swapEntry(BASE, (byte) 0x5a);
            HmmRange r = bed.range(BASE, 1, REQ_FAULT, 0, null);
            assertEquals(0, bed.fault(r));
            long pte = bed.pte(BASE);
            assertTrue(Pte.isPresent(pte), Pte.toString(pte));
            assertEquals(output(pte), r.hmmPfns()[0]);
            assertEquals((byte) 0x5a, HmmPfn.hmmPfnToPage(bed.phys, r.hmmPfns()[0]).readByte(0));
        });
    }

    @ParameterizedTest
    @ValueSource(longs = {0, REQ_FAULT, REQ_FAULT | REQ_WRITE})
    void devicePrivateOwned_anyRequest_isReportedAsItIsAndNeverFaulted(long request) {
        runClean(42, bed -> {
            bed.vma(BASE, 2, RW);
            Page readOnly = bed.devicePrivate(BASE, GPU, false);
            Page writable = bed.devicePrivate(BASE + PAGE, GPU, true);
            long roPte = bed.pte(BASE);
            long rwPte = bed.pte(BASE + PAGE);
            assertEquals(Pte.mkDevicePrivate(readOnly.pfn(), false), roPte);
            assertEquals(Pte.mkDevicePrivate(writable.pfn(), true), rwPte);
            int invalidations = bed.invalidations();
            HmmRange r = bed.range(BASE, 2, request, 0, GPU, HMM_PFN_DMA_MAPPED, 0);
            assertEquals(0, bed.fault(r));
            assertEquals(HMM_PFN_DMA_MAPPED | readOnly.pfn() | VALID, r.hmmPfns()[0], "no WRITE, even if requested");
            assertEquals(writable.pfn() | VALID | WRITE, r.hmmPfns()[1]);
            assertEquals(roPte, bed.pte(BASE), "never migrated (I-24)");
            assertEquals(rwPte, bed.pte(BASE + PAGE));
            assertEquals(invalidations, bed.invalidations());
            assertEquals(0, bed.device(GPU).faultsToRam());
        });
    }

    @Test
    void devicePrivateOfAnotherOwner_noFaultRequested_isZero() {
        runClean(43, bed -> {
            bed.vma(BASE, 2, RW);
            bed.devicePrivate(BASE, OTHER_GPU, true);
            bed.devicePrivate(BASE + PAGE, GPU, true);
            long other = bed.pte(BASE);
            HmmRange r = bed.range(BASE, 2, 0, 0, GPU);
            assertEquals(0, bed.fault(r));
            assertEquals(0, r.hmmPfns()[0]);
            assertEquals(VALID | WRITE, r.hmmPfns()[1] & (VALID | WRITE), "the owned one is reported");
            HmmRange noOwner = bed.range(BASE, 2, 0, 0, null);
            assertEquals(0, bed.fault(noOwner));
            assertEquals(0, noOwner.hmmPfns()[1], "a range without owner owns nothing");
            assertEquals(other, bed.pte(BASE), "not faulted");
        });
    }

    /**
     * A request on another device's page goes to the fault handler, whose
     * {@code migrate_to_ram} moves it back to system memory. That migration's MIGRATE
     * invalidation (owned by the other device) collides with the caller's sequence, so the
     * first call answers {@code -EBUSY}; the retry reports the new system page, with the data.
     */
    @Test
    void devicePrivateOfAnotherOwner_faultRequested_migratesItBackToSystemMemory() {
        runClean(44, bed -> {
            bed.vma(BASE, 1, RW);
            Page device = bed.devicePrivate(BASE, OTHER_GPU, true, (byte) 0x3c);
            HmmRange r = bed.range(BASE, 1, REQ_FAULT, 0, GPU, HMM_PFN_DMA_MAPPED);
            assertEquals(EBUSY, bed.fault(r), "the migration invalidated the range");
            assertEquals(1, bed.device(OTHER_GPU).faultsToRam());
            long pte = bed.pte(BASE);
            assertTrue(Pte.isPresent(pte) && Pte.isWrite(pte), Pte.toString(pte));
            assertEquals(0, bed.faultUntilNotBusy(r, HMM_PFN_DMA_MAPPED));
            assertEquals(HMM_PFN_DMA_MAPPED | output(pte), r.hmmPfns()[0]);
            assertEquals((byte) 0x3c, HmmPfn.hmmPfnToPage(bed.phys, r.hmmPfns()[0]).readByte(0));
            assertEquals(Page.State.DEVICE_IDLE, device.state(), "the device page went back to its driver");
            assertEquals(1, bed.device(OTHER_GPU).pagesFreed());
        });
    }

    @Test
    void deviceExclusive_noFaultRequested_isZero() {
        runClean(45, bed -> {
            bed.vma(BASE, 1, RW);
            bed.set(BASE, Pte.mkDeviceExclusive(bed.anonPage(BASE, true), true));
            HmmRange r = bed.range(BASE, 1, 0, 0, GPU, HMM_PFN_DMA_MAPPED | VALID);
            assertEquals(0, bed.fault(r));
            assertEquals(HMM_PFN_DMA_MAPPED, r.hmmPfns()[0]);
        });
    }

    /**
     * The fault restores the normal mapping of a device-exclusive entry under an
     * {@code MMU_NOTIFY_CLEAR} invalidation, which collides with the caller's sequence:
     * {@code -EBUSY} first, then the restored writable page.
     */
    @Test
    void deviceExclusive_faultRequested_restoresTheMapping() {
        runClean(46, bed -> {
            bed.vma(BASE, 1, RW);
            long pfn = bed.anonPage(BASE, true);
            bed.set(BASE, Pte.mkDeviceExclusive(pfn, true));
            int invalidations = bed.invalidations();
            HmmRange r = bed.range(BASE, 1, REQ_FAULT, 0, GPU);
            assertEquals(EBUSY, bed.fault(r));
            assertEquals(invalidations + 1, bed.invalidations());
            long pte = bed.pte(BASE);
            assertEquals(pfn, Pte.pfn(pte));
            assertTrue(Pte.isPresent(pte) && Pte.isWrite(pte), Pte.toString(pte));
            assertEquals(0, bed.faultUntilNotBusy(r));
            assertEquals(pfn | VALID | WRITE, r.hmmPfns()[0]);
        });
    }

    @Test
    void migration_noFaultRequested_isZeroWithoutWaiting() {
        runClean(47, bed -> {
            bed.vma(BASE, 2, RW);
            bed.set(BASE, Pte.mkMigration(bed.anonPage(BASE, true), true));
            long other = Pte.mkPresent(bed.anonPage(BASE + PAGE, true), true);
            HmmRange r = bed.range(BASE, 2, 0, 0, null, HMM_PFN_DMA_MAPPED);
            assertEquals(0, bed.fault(r), "nobody ends this migration: waiting would deadlock the run");
            assertEquals(HMM_PFN_DMA_MAPPED, r.hmmPfns()[0]);
            assertEquals(output(other), r.hmmPfns()[1]);
        });
    }

    /**
     * A requested page under migration: the walk waits (mmap lock held) until the migration
     * has put an entry back, then restarts at that page. The migrator runs before or during
     * the walk depending on the seed; the answer is the same, and some seeds do wait.
     */
    @Test
    void migration_faultRequested_waitsForTheMigrationThenReportsTheNewPage() {
        int waited = 0;
        for (long seed = 48; seed < 64; seed++) {
            RunResult r = HmmBed.run(checkedKernel(seed), bed -> {
                bed.vma(BASE, 2, RW);
                long first = Pte.mkPresent(bed.anonPage(BASE, true), true);
                long oldPfn = bed.anonPage(BASE + PAGE, true);
                bed.set(BASE + PAGE, Pte.mkMigration(oldPfn, true));
                Page target = bed.phys.allocPage();
                target.setFlag(Page.PG_ANON);
                target.incMapcount();
                long migrated = Pte.mkPresent(target.pfn(), true);
                Task migrator = bed.k.spawnKthread("migrator", self -> {
                    assertTrue(bed.mm.mmgetNotZero());
                    bed.set(BASE + PAGE, migrated);
                    MigrationEntryWait.wakeUpMigrationWaiters(bed.k);
                    bed.mm.mmput();
                });
                HmmRange range = bed.range(BASE, 2, REQ_FAULT, 0, null);
                assertEquals(0, bed.fault(range));
                migrator.join();
                assertEquals(output(first), range.hmmPfns()[0]);
                assertEquals(output(migrated), range.hmmPfns()[1]);
            });
            assertClean(r);
            boolean slept = r.trace().stream()
                    .anyMatch(e -> e.task().equals("proc") && e.op().equals("wait_event(migration_entry_wait)"));
            waited += slept ? 1 : 0;
        }
        assertTrue(waited > 0, "no seed made the walk wait");
    }

    @Test
    void migration_faultRequested_withoutAWakeUp_sleepsInMigrationEntryWait() {
        var k = checkedKernel(56);
        var r = HmmBed.run(k, bed -> {
            bed.vma(BASE, 1, RW);
            bed.set(BASE, Pte.mkMigration(bed.anonPage(BASE, true), true));
            bed.fault(bed.range(BASE, 1, REQ_FAULT, 0, null));
        });
        Failure.Deadlock d = assertSingleFailure(r, Failure.Deadlock.class);
        assertTrue(d.blocked().stream().anyMatch(b -> b.contains("proc") && b.contains("migration_entry_wait")),
                () -> String.join("; ", d.blocked()));
    }
}
