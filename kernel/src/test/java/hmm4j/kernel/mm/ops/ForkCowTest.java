package hmm4j.kernel.mm.ops;

import static hmm4j.kernel.mm.lifetime.RecordingNotifierOps.end;
import static hmm4j.kernel.mm.lifetime.RecordingNotifierOps.start;
import static hmm4j.kernel.mm.ops.MmHarness.PAGE;
import static hmm4j.kernel.mm.ops.MmHarness.RW;
import static hmm4j.kernel.mm.ops.MmHarness.assertNothingAllocated;
import static hmm4j.kernel.mm.ops.MmHarness.inProcess;
import static hmm4j.kernel.mm.ops.MmHarness.insertVma;
import static hmm4j.kernel.mm.ops.MmHarness.mapAnon;
import static hmm4j.kernel.mm.ops.MmHarness.pattern;
import static hmm4j.kernel.mm.ops.MmHarness.pte;
import static hmm4j.kernel.mm.ops.MmHarness.read;
import static hmm4j.kernel.mm.ops.MmHarness.setPte;
import static hmm4j.kernel.mm.ops.MmHarness.vmaAt;
import static hmm4j.kernel.mm.ops.MmHarness.vmas;
import static hmm4j.kernel.mm.ops.MmHarness.write;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import hmm4j.kernel.mm.Mmap;
import hmm4j.kernel.mm.MmStruct;
import hmm4j.kernel.mm.Page;
import hmm4j.kernel.mm.PhysMem;
import hmm4j.kernel.mm.Pte;
import hmm4j.kernel.mm.SwapSpace;
import hmm4j.kernel.mm.Vma;
import hmm4j.kernel.mm.VmFlags;
import hmm4j.kernel.mm.Vmscan;
import hmm4j.kernel.mm.notifier.MmuNotifier;
import hmm4j.kernel.mm.notifier.MmuNotifierOps;
import hmm4j.kernel.mm.notifier.MmuNotifierRange;
import hmm4j.kernel.sched.Process;
import hmm4j.sim.Kernel;
import hmm4j.sim.Task;
import hmm4j.sim.sync.Completion;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicBoolean;
import org.junit.jupiter.api.Test;

/**
 * Fork with copy on write ({@code dup_mm}, {@code copy_page_range}): which entries the child
 * gets, the write protection on both sides, page and swap accounting, the
 * {@code MMU_NOTIFY_PROTECTION_PAGE} invalidations in the parent, and the copy or reuse on the
 * first write of either side. Parent and child are ordered with completions, never sleeps.
 */
class ForkCowTest {

    private static final String PROT_PAGE = "MMU_NOTIFY_PROTECTION_PAGE";
    private static final String CLEAR = "MMU_NOTIFY_CLEAR";

    private static Page page(Kernel k, long pte) {
        return PhysMem.of(k).pfnToPage(Pte.pfn(pte));
    }

    /** Forks {@code child} from {@code self} and records that its body ran to its end. */
    private static Task fork(Task self, AtomicBoolean childDone, ChildBody child) {
        return Process.fork(self, "child", c -> {
            child.run(MmStruct.of(c));
            childDone.set(true);
        });
    }

    private interface ChildBody {
        void run(MmStruct mm) throws Exception;
    }

    @Test
    void fork_writeProtectsPrivatePagesInBothMms_withOneProtectionPageInvalidationPerCowVma() {
        AtomicBoolean childDone = new AtomicBoolean();
        List<String> lockState = new CopyOnWriteArrayList<>();
        Kernel k = inProcess(51, (kk, self, mm, ops) -> {
            long a = mapAnon(mm, 3, RW);
            long ro = mapAnon(mm, 1, Mmap.PROT_READ);
            long s = Mmap.mmap(mm, 0, PAGE, RW, Mmap.MAP_SHARED | Mmap.MAP_ANONYMOUS, null, 0);
            assertTrue(s < ro && ro < a, "mmap places top-down");
            write(kk, a, pattern((int) (2 * PAGE), 1));
            read(kk, a + 2 * PAGE, 1);
            read(kk, ro, 1);
            write(kk, s, pattern(16, 2));
            long pfn0 = Pte.pfn(pte(mm, a));
            long pfn1 = Pte.pfn(pte(mm, a + PAGE));
            List<Vma> parentVmas = vmas(mm);
            MmuNotifier lockProbe = new MmuNotifier("lock-probe", new MmuNotifierOps() {
                @Override
                public int invalidateRangeStart(MmuNotifier sub, MmuNotifierRange range) {
                    lockState.add(range.event() + " mmap write-locked="
                            + range.mm().mmapLock().heldForWriteByCurrent());
                    return 0;
                }
            });
            lockProbe.register(mm);
            Completion checked = new Completion(kk, "parent checked");
            long used = PhysMem.of(kk).usedPages();
            ops.clear();

            fork(self, childDone, child -> {
                checked.waitForCompletion();
                List<Vma> mine = vmas(child);
                assertEquals(parentVmas.size(), mine.size());
                for (int i = 0; i < mine.size(); i++) {
                    assertEquals(parentVmas.get(i).vmStart(), mine.get(i).vmStart());
                    assertEquals(parentVmas.get(i).vmEnd(), mine.get(i).vmEnd());
                    assertEquals(parentVmas.get(i).flags(), mine.get(i).flags());
                }
                long c0 = pte(child, a);
                assertEquals(pfn0, Pte.pfn(c0), "the same page");
                assertFalse(Pte.isWrite(c0), "write-protected in the child");
                assertEquals(pfn1, Pte.pfn(pte(child, a + PAGE)));
                assertTrue(Pte.isZero(pte(child, a + 2 * PAGE)), "zero page copied");
                assertTrue(Pte.isZero(pte(child, ro)));
                assertTrue(Pte.isNone(pte(child, s)), "shared mappings are refilled by faults, not copied");
                assertArrayEquals(pattern((int) (2 * PAGE), 1), read(kk, a, (int) (2 * PAGE)));
                assertArrayEquals(pattern(16, 2), read(kk, s, 16), "the shared page through the page cache");
            });

            assertEquals(List.of(start(PROT_PAGE, ro, ro + PAGE, true), end(PROT_PAGE, ro, ro + PAGE),
                    start(PROT_PAGE, a, a + 3 * PAGE, true), end(PROT_PAGE, a, a + 3 * PAGE)), ops.events(),
                    "one per COW VMA in address order (read-only private ones included); none for the shared one");
            assertEquals(List.of("MMU_NOTIFY_PROTECTION_PAGE mmap write-locked=true",
                    "MMU_NOTIFY_PROTECTION_PAGE mmap write-locked=true"), lockState);
            for (long p : new long[] {a, a + PAGE}) {
                long e = pte(mm, p);
                assertTrue(Pte.isPresent(e) && !Pte.isWrite(e), "write-protected in the parent: " + Pte.toString(e));
                assertEquals(2, page(kk, e).mapcount());
                assertEquals(2, page(kk, e).refcount());
            }
            assertTrue(Pte.isWrite(pte(mm, s)), "the shared entry is untouched");
            assertEquals(used, PhysMem.of(kk).usedPages(), "fork copies no page");
            checked.complete();
            lockProbe.unregister(mm);
        });
        assertTrue(childDone.get(), "the child ran to its end");
        assertEquals(1, PhysMem.of(k).usedPages(), "only the shared anonymous page, which its page cache keeps");
        assertEquals(0, SwapSpace.of(k).usedSlots());
    }

    @Test
    void childWritesFirst_copies_thenTheParentReusesTheOriginalPageInPlace() {
        AtomicBoolean childDone = new AtomicBoolean();
        Kernel k = inProcess(52, (kk, self, mm, ops) -> {
            long a = mapAnon(mm, 1, RW);
            write(kk, a, pattern(32, 3));
            long pfn0 = Pte.pfn(pte(mm, a));
            Completion go = new Completion(kk, "go");
            Completion childWrote = new Completion(kk, "child wrote");
            Completion parentWrote = new Completion(kk, "parent wrote");

            fork(self, childDone, child -> {
                go.waitForCompletion();
                assertArrayEquals(pattern(32, 3), read(kk, a, 32));
                write(kk, a, pattern(32, 4));
                long c = pte(child, a);
                assertNotEquals(pfn0, Pte.pfn(c), "the child got a copy");
                assertTrue(Pte.isWrite(c));
                childWrote.complete();
                parentWrote.waitForCompletion();
                assertArrayEquals(pattern(32, 4), read(kk, a, 32), "the parent's write is not seen");
            });

            ops.clear();
            go.complete();
            childWrote.waitForCompletion();
            Page original = page(kk, pte(mm, a));
            assertEquals(1, original.mapcount(), "mapped by the parent only again");
            assertEquals(1, original.refcount());
            assertArrayEquals(pattern(32, 3), read(kk, a, 32), "the child's write is not seen");
            write(kk, a, pattern(32, 5));
            assertEquals(List.of(), ops.events(), "reuse in place: no COW, no invalidation");
            assertEquals(pfn0, Pte.pfn(pte(mm, a)));
            assertTrue(Pte.isWrite(pte(mm, a)));
            parentWrote.complete();
        });
        assertTrue(childDone.get());
        assertNothingAllocated(k);
    }

    @Test
    void parentWritesFirst_copiesWithOneClearInvalidation_thenTheChildReusesTheOriginalPage() {
        AtomicBoolean childDone = new AtomicBoolean();
        Kernel k = inProcess(53, (kk, self, mm, ops) -> {
            long a = mapAnon(mm, 2, RW);
            write(kk, a, pattern((int) (2 * PAGE), 6));
            long pfn0 = Pte.pfn(pte(mm, a + PAGE));
            Completion parentWrote = new Completion(kk, "parent wrote");

            fork(self, childDone, child -> {
                parentWrote.waitForCompletion();
                assertEquals(1, page(kk, pte(child, a + PAGE)).mapcount());
                write(kk, a + PAGE, pattern(8, 7));
                long c = pte(child, a + PAGE);
                assertEquals(pfn0, Pte.pfn(c), "the child reuses the original page");
                assertTrue(Pte.isWrite(c));
            });

            ops.clear();
            write(kk, a + PAGE, pattern(8, 8));
            assertEquals(List.of(start(CLEAR, a + PAGE, a + 2 * PAGE, true), end(CLEAR, a + PAGE, a + 2 * PAGE)),
                    ops.events(), "the COW of exactly that page");
            assertNotEquals(pfn0, Pte.pfn(pte(mm, a + PAGE)));
            assertFalse(Pte.isWrite(pte(mm, a)), "the other page stays write-protected");
            parentWrote.complete();
        });
        assertTrue(childDone.get());
        assertNothingAllocated(k);
    }

    @Test
    void swapEntries_areDuplicated_andEachSideSwapsInTheSameContents() {
        AtomicBoolean childDone = new AtomicBoolean();
        Kernel k = inProcess(54, (kk, self, mm, ops) -> {
            long a = mapAnon(mm, 2, RW);
            write(kk, a, pattern((int) (2 * PAGE), 9));
            assertEquals(2, Vmscan.reclaimAnon(mm, a, a + 2 * PAGE));
            long off0 = Pte.swapOffset(pte(mm, a));
            long off1 = Pte.swapOffset(pte(mm, a + PAGE));
            SwapSpace swap = SwapSpace.of(kk);
            Completion forked = new Completion(kk, "checked");

            fork(self, childDone, child -> {
                forked.waitForCompletion();
                assertEquals(off0, Pte.swapOffset(pte(child, a)));
                assertArrayEquals(pattern((int) (2 * PAGE), 9), read(kk, a, (int) (2 * PAGE)));
            });

            assertEquals(2, swap.count(off0), "one use per mm");
            assertEquals(2, swap.count(off1));
            assertEquals(2, swap.usedSlots());
            forked.complete();
            assertArrayEquals(pattern((int) PAGE, 9), read(kk, a, (int) PAGE));
            assertTrue(Pte.isPresent(pte(mm, a)));
        });
        assertTrue(childDone.get());
        assertNothingAllocated(k);
    }

    @Test
    void dontcopyVmasStayBehind_lockedOnesLoseVmLocked_migrationEntriesBecomeReadOnly() {
        AtomicBoolean childDone = new AtomicBoolean();
        Kernel k = inProcess(55, (kk, self, mm, ops) -> {
            long a = mapAnon(mm, 3, RW);
            assertEquals(0, Mmap.munmap(mm, a, 2 * PAGE));
            long rwFlags = VmFlags.VM_READ | VmFlags.VM_WRITE | VmFlags.VM_MAYREAD | VmFlags.VM_MAYWRITE;
            insertVma(mm, Vma.anonymous(a, a + PAGE, rwFlags | VmFlags.VM_DONTCOPY));
            insertVma(mm, Vma.anonymous(a + PAGE, a + 2 * PAGE, rwFlags | VmFlags.VM_LOCKED));
            Page target = PhysMem.of(kk).allocPage();
            long migration = Pte.mkMigration(target.pfn(), true);
            setPte(mm, a + 2 * PAGE, migration);

            fork(self, childDone, child -> {
                assertNull(vmaAt(child, a), "VM_DONTCOPY");
                Vma locked = vmaAt(child, a + PAGE);
                assertNotNull(locked);
                assertFalse(locked.hasAny(VmFlags.VM_LOCKED));
                long e = pte(child, a + 2 * PAGE);
                assertTrue(Pte.isMigration(e) && !Pte.isWrite(e), Pte.toString(e));
                setPte(child, a + 2 * PAGE, 0);
            });

            long e = pte(mm, a + 2 * PAGE);
            assertTrue(Pte.isMigration(e) && !Pte.isWrite(e), "read-only in the parent too: " + Pte.toString(e));
            assertEquals(1, target.refcount(), "a migration entry holds no reference");
            assertTrue(vmaAt(mm, a + PAGE).hasAny(VmFlags.VM_LOCKED), "the parent keeps VM_LOCKED");
            setPte(mm, a + 2 * PAGE, 0);
            target.put();
        });
        assertTrue(childDone.get());
        assertNothingAllocated(k);
    }

    @Test
    void theChildMm_isNew_withOneUserHeldByTheChild_andNoSubscriptions() {
        AtomicBoolean childDone = new AtomicBoolean();
        inProcess(56, (kk, self, mm, ops) -> {
            mapAnon(mm, 1, RW);
            Task child = fork(self, childDone, c -> {
                assertNotEquals(mm, c);
                assertEquals(1, c.mmUsersPeek());
                assertEquals(List.of(kk.current()), List.copyOf(c.usersLedger().outstanding().keySet()));
                assertEquals(List.of("child"), c.usersLedger().holderNames());
                assertFalse(c.hasNotifiers(), "subscriptions are not inherited");
            });
            assertFalse(child.isKthread());
            assertTrue(mm.hasNotifiers());
        });
        assertTrue(childDone.get());
    }
}
