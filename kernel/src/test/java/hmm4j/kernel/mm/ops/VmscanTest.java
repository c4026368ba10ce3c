package hmm4j.kernel.mm.ops;

import static hmm4j.kernel.mm.lifetime.RecordingNotifierOps.end;
import static hmm4j.kernel.mm.lifetime.RecordingNotifierOps.start;
import static hmm4j.kernel.mm.lifetime.Runs.assertClean;
import static hmm4j.kernel.mm.lifetime.Runs.assertSingleFailure;
import static hmm4j.kernel.mm.lifetime.Runs.checkedKernel;
import static hmm4j.kernel.mm.ops.MmHarness.PAGE;
import static hmm4j.kernel.mm.ops.MmHarness.RW;
import static hmm4j.kernel.mm.ops.MmHarness.assertNothingAllocated;
import static hmm4j.kernel.mm.ops.MmHarness.inProcess;
import static hmm4j.kernel.mm.ops.MmHarness.mapAnon;
import static hmm4j.kernel.mm.ops.MmHarness.pattern;
import static hmm4j.kernel.mm.ops.MmHarness.pte;
import static hmm4j.kernel.mm.ops.MmHarness.read;
import static hmm4j.kernel.mm.ops.MmHarness.runIn;
import static hmm4j.kernel.mm.ops.MmHarness.write;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import hmm4j.check.lifetime.RefHandle;
import hmm4j.kernel.mm.Mmap;
import hmm4j.kernel.mm.MmStruct;
import hmm4j.kernel.mm.PhysMem;
import hmm4j.kernel.mm.Pte;
import hmm4j.kernel.mm.SwapSpace;
import hmm4j.kernel.mm.Vmscan;
import hmm4j.kernel.sched.Process;
import hmm4j.sim.Kernel;
import hmm4j.sim.failure.Failure;
import hmm4j.sim.sync.Completion;
import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.Test;

/**
 * Reclaim of anonymous pages to swap: which pages go, the {@code MMU_NOTIFY_CLEAR}
 * invalidation of each page, swap and page accounting, swap-in with the same contents, a full
 * swap device, pages shared after fork, and the pin a reclaiming kernel thread needs.
 */
class VmscanTest {

    private static final String CLEAR = "MMU_NOTIFY_CLEAR";

    @Test
    void reclaim_swapsOutExclusiveAnonymousPages_withOneClearPerPage_andSwapInRestoresThem() {
        Kernel k = inProcess(61, (kk, self, mm, ops) -> {
            long a = mapAnon(mm, 4, RW);
            write(kk, a, pattern((int) PAGE, 1));
            read(kk, a + PAGE, 1);
            write(kk, a + 2 * PAGE, pattern((int) PAGE, 2));
            long used = PhysMem.of(kk).usedPages();
            ops.clear();

            assertEquals(2, Vmscan.reclaimAnon(mm, a, a + 4 * PAGE));

            assertEquals(List.of(start(CLEAR, a, a + PAGE, true), end(CLEAR, a, a + PAGE),
                    start(CLEAR, a + 2 * PAGE, a + 3 * PAGE, true), end(CLEAR, a + 2 * PAGE, a + 3 * PAGE)),
                    ops.events());
            assertTrue(Pte.isSwap(pte(mm, a)) && Pte.isSwap(pte(mm, a + 2 * PAGE)));
            assertTrue(Pte.isZero(pte(mm, a + PAGE)), "the zero page is not reclaimed");
            assertTrue(Pte.isNone(pte(mm, a + 3 * PAGE)));
            assertEquals(used - 2, PhysMem.of(kk).usedPages(), "both pages freed");
            assertEquals(2, SwapSpace.of(kk).usedSlots());

            ops.clear();
            assertArrayEquals(pattern((int) PAGE, 2), read(kk, a + 2 * PAGE, (int) PAGE), "same contents");
            assertEquals(List.of(), ops.events(), "swap-in changes no mapping a subscriber could hold");
            assertTrue(Pte.isPresent(pte(mm, a + 2 * PAGE)));
            assertEquals(1, SwapSpace.of(kk).usedSlots(), "its slot was freed by the swap-in");
            write(kk, a + 2 * PAGE, new byte[] {42});
            assertEquals(0, Mmap.munmap(mm, a, 4 * PAGE));
            assertEquals(0, SwapSpace.of(kk).usedSlots(), "munmap freed the other slot");
        });
        assertNothingAllocated(k);
    }

    @Test
    void reclaim_onlyLooksAtTheRange_andSkipsSharedMappings() {
        inProcess(62, (kk, self, mm, ops) -> {
            long a = mapAnon(mm, 3, RW);
            write(kk, a, pattern((int) (3 * PAGE), 3));
            long s = Mmap.mmap(mm, 0, PAGE, RW, Mmap.MAP_SHARED | Mmap.MAP_ANONYMOUS, null, 0);
            write(kk, s, pattern(8, 4));
            ops.clear();
            assertEquals(1, Vmscan.reclaimAnon(mm, a + PAGE, a + 2 * PAGE));
            assertTrue(Pte.isPresent(pte(mm, a)) && Pte.isSwap(pte(mm, a + PAGE))
                    && Pte.isPresent(pte(mm, a + 2 * PAGE)));
            assertEquals(0, Vmscan.reclaimAnon(mm, s, s + PAGE), "shared pages are not anonymous");
            assertTrue(Pte.isPresent(pte(mm, s)));
            assertEquals(List.of(start(CLEAR, a + PAGE, a + 2 * PAGE, true), end(CLEAR, a + PAGE, a + 2 * PAGE)),
                    ops.events());
            assertThrows(IllegalArgumentException.class, () -> Vmscan.reclaimAnon(mm, a + 1, a + PAGE));
        });
    }

    @Test
    void aFullSwapDevice_endsThePass_andTheRemainingPagesStayPresent() {
        Kernel k = checkedKernel(63);
        k.component(SwapSpace.class, () -> new SwapSpace(1));
        runIn(k, (kk, self, mm, ops) -> {
            long a = mapAnon(mm, 2, RW);
            write(kk, a, pattern((int) (2 * PAGE), 5));
            ops.clear();
            assertEquals(1, Vmscan.reclaimAnon(mm, a, a + 2 * PAGE));
            assertEquals(List.of(start(CLEAR, a, a + PAGE, true), end(CLEAR, a, a + PAGE)), ops.events(),
                    "no invalidation for the page that found no slot");
            assertTrue(Pte.isSwap(pte(mm, a)));
            assertTrue(Pte.isPresent(pte(mm, a + PAGE)) && Pte.isWrite(pte(mm, a + PAGE)));
            assertArrayEquals(pattern((int) (2 * PAGE), 5), read(kk, a, (int) (2 * PAGE)));
        });
        assertClean(k.run());
        assertNothingAllocated(k);
    }

    @Test
    void pagesMappedByTwoMmsAfterFork_areSkipped_untilTheChildHasGone() {
        AtomicInteger whileShared = new AtomicInteger(-1);
        Kernel k = inProcess(64, (kk, self, mm, ops) -> {
            long a = mapAnon(mm, 2, RW);
            write(kk, a, pattern((int) (2 * PAGE), 6));
            Completion checked = new Completion(kk, "parent reclaimed");
            Completion childGone = new Completion(kk, "child gone");
            Process.fork(self, "child", c -> {
                checked.waitForCompletion();
                assertArrayEquals(pattern((int) (2 * PAGE), 6), read(kk, a, (int) (2 * PAGE)));
                childGone.complete();
            });
            ops.clear();
            whileShared.set(Vmscan.reclaimAnon(mm, a, a + 2 * PAGE));
            assertEquals(List.of(), ops.events());
            checked.complete();
            childGone.waitForCompletion();
            // The child may not have run exit_mm yet; a write makes the page exclusive either
            // way (a COW copy, or reuse once the child's mapping is gone).
            write(kk, a, new byte[] {7});
            assertEquals(1, PhysMem.of(kk).pfnToPage(Pte.pfn(pte(mm, a))).mapcount(), "the COW copy is exclusive");
            int n = Vmscan.reclaimAnon(mm, a, a + PAGE);
            assertEquals(1, n);
            assertTrue(Pte.isSwap(pte(mm, a)));
            assertEquals(7, read(kk, a, 1)[0]);
        });
        assertEquals(0, whileShared.get(), "no page mapped by two mms is reclaimed");
        assertNothingAllocated(k);
    }

    @Test
    void aKernelThreadReclaimsWithAnMmgetPin_andIsReportedWithout() {
        for (boolean pinned : new boolean[] {true, false}) {
            Kernel k = checkedKernel(pinned ? 65 : 66);
            AtomicReference<MmStruct> shared = new AtomicReference<>();
            AtomicInteger reclaimed = new AtomicInteger(-1);
            Completion mapped = new Completion(k, "mapped");
            Completion done = new Completion(k, "reclaimed");
            RefHandle kswapdRef = new RefHandle("kswapd");
            Process.spawn(k, "proc", self -> {
                MmStruct mm = MmStruct.of(self);
                long a = mapAnon(mm, 2, RW);
                write(k, a, pattern((int) (2 * PAGE), 8));
                mm.mmgrabAs(kswapdRef);
                shared.set(mm);
                mapped.complete();
                done.waitForCompletion();
                assertArrayEquals(pattern((int) (2 * PAGE), 8), read(k, a, (int) (2 * PAGE)));
            });
            k.spawnKthread("kswapd", self -> {
                mapped.waitForCompletion();
                MmStruct mm = shared.get();
                if (pinned) {
                    assertTrue(mm.mmgetNotZero());
                    reclaimed.set(Vmscan.reclaimAnon(mm, 0, Pte.TASK_SIZE));
                    mm.mmput();
                } else {
                    reclaimed.set(Vmscan.reclaimAnon(mm, 0, Pte.TASK_SIZE));
                }
                done.complete();
                mm.mmdropAs(kswapdRef);
            });
            if (pinned) {
                assertClean(k.run());
                assertEquals(2, reclaimed.get());
                assertNothingAllocated(k);
            } else {
                Failure.UnpinnedAddressSpaceUse f = assertSingleFailure(k.run(), Failure.UnpinnedAddressSpaceUse.class);
                assertEquals("reclaim", f.operation());
            }
        }
    }
}
