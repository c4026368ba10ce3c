package hmm4j.kernel.mm;

import static hmm4j.kernel.mm.Pte.PAGE_SIZE;
import static hmm4j.kernel.mm.Pte.TASK_SIZE;
import static hmm4j.kernel.mm.VmFlags.VM_IO;
import static hmm4j.kernel.mm.VmFlags.VM_MAYREAD;
import static hmm4j.kernel.mm.VmFlags.VM_MAYWRITE;
import static hmm4j.kernel.mm.VmFlags.VM_READ;
import static hmm4j.kernel.mm.VmFlags.VM_SHARED;
import static hmm4j.kernel.mm.VmFlags.VM_WRITE;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import hmm4j.sim.Kernel;
import java.util.ConcurrentModificationException;
import java.util.Iterator;
import java.util.List;
import org.junit.jupiter.api.Test;

class VmaTreeTest {

    private static final long RW = VM_READ | VM_WRITE | VM_MAYREAD | VM_MAYWRITE;
    private static final long RO = VM_READ | VM_MAYREAD | VM_MAYWRITE;

    private final VmaTree tree = new VmaTree();
    private final ShmemFile file = PageCache.of(Kernel.controlled(0)).createFile("f", 1 << 20);

    /** Page number n as an address. */
    private static long p(long n) {
        return n * PAGE_SIZE;
    }

    private Vma anon(long startPage, long endPage, long flags) {
        Vma v = Vma.anonymous(p(startPage), p(endPage), flags);
        tree.insert(v);
        return v;
    }

    private Vma fileVma(long startPage, long endPage, long flags, long pgoff) {
        Vma v = new Vma(p(startPage), p(endPage), flags, file, pgoff);
        tree.insert(v);
        return v;
    }

    /** The tree as "startPage-endPage flags pgoff" strings, after checking its invariants. */
    private List<String> shape() {
        tree.validate();
        return tree.stream()
                .map(v -> (v.vmStart() / PAGE_SIZE) + "-" + (v.vmEnd() / PAGE_SIZE)
                        + (v.flags() == RW ? " rw" : v.flags() == RO ? " ro" : " 0x" + Long.toHexString(v.flags()))
                        + " @" + v.pgoff())
                .toList();
    }

    @Test
    void insert_keepsOrder_andRejectsOverlap() {
        anon(30, 40, RW);
        anon(10, 20, RW);
        anon(20, 25, RO);
        assertEquals(List.of("10-20 rw @10", "20-25 ro @20", "30-40 rw @30"), shape());
        assertEquals(3, tree.count());
        for (long[] r : new long[][] {{15, 16}, {5, 11}, {39, 45}, {24, 31}, {0, 100}}) {
            Vma bad = Vma.anonymous(p(r[0]), p(r[1]), RW);
            assertThrows(IllegalArgumentException.class, () -> tree.insert(bad));
            assertEquals(Vma.State.DETACHED, bad.state());
        }
        assertEquals(3, tree.count());
        Vma linked = tree.findVma(0);
        assertThrows(IllegalArgumentException.class, () -> tree.insert(linked), "already linked");
    }

    @Test
    void findVma_returnsTheFirstVmaEndingAboveAddr() {
        Vma a = anon(10, 20, RW);
        Vma b = anon(30, 40, RW);
        assertSame(a, tree.findVma(0));
        assertSame(a, tree.findVma(p(10)));
        assertSame(a, tree.findVma(p(20) - 1));
        assertSame(b, tree.findVma(p(20)), "in the gap: the next VMA");
        assertSame(b, tree.findVma(p(40) - 1));
        assertNull(tree.findVma(p(40)));
        assertNull(new VmaTree().findVma(0));
    }

    @Test
    void vmaLookup_returnsOnlyAContainingVma() {
        Vma a = anon(10, 20, RW);
        anon(30, 40, RW);
        assertSame(a, tree.vmaLookup(p(15) + 7));
        assertNull(tree.vmaLookup(p(25)));
        assertNull(tree.vmaLookup(p(9)));
        assertNull(tree.vmaLookup(p(40)));
    }

    @Test
    void prevNextAndIntersecting() {
        Vma a = anon(10, 20, RW);
        Vma b = anon(30, 40, RW);
        Vma c = anon(40, 50, RO);
        assertNull(tree.prev(a));
        assertSame(a, tree.prev(b));
        assertSame(c, tree.next(b));
        assertNull(tree.next(c));
        assertEquals(List.of(a, b), tree.intersecting(p(19), p(31)));
        assertEquals(List.of(), tree.intersecting(p(20), p(30)));
        assertThrows(IllegalArgumentException.class, () -> tree.next(Vma.anonymous(p(1), p(2), RW)));
    }

    @Test
    void isRangeMapped_detectsHoles() {
        anon(10, 20, RW);
        anon(20, 30, RO);
        anon(31, 40, RW);
        assertTrue(tree.isRangeMapped(p(10), p(30)));
        assertTrue(tree.isRangeMapped(p(12), p(13)));
        assertTrue(!tree.isRangeMapped(p(10), p(31)));
        assertTrue(!tree.isRangeMapped(p(9), p(12)));
        assertTrue(!tree.isRangeMapped(p(35), p(41)));
    }

    @Test
    void split_anonymous_keepsLowerObjectAndAdvancesPgoff() {
        Vma v = anon(10, 20, RW);
        Vma upper = tree.split(v, p(14));
        assertEquals(List.of("10-14 rw @10", "14-20 rw @14"), shape());
        assertSame(v, tree.findVma(p(10)));
        assertSame(upper, tree.findVma(p(14)));
        assertEquals(Vma.State.LINKED, upper.state());
    }

    @Test
    void split_fileVma_adjustsPgoffOfTheUpperPart() {
        Vma v = fileVma(100, 110, RO | VM_SHARED, 50);
        Vma upper = tree.split(v, p(103));
        assertEquals(50, v.pgoff());
        assertEquals(53, upper.pgoff());
        assertSame(file, upper.file());
        assertEquals(v.flags(), upper.flags());
        assertEquals(upper.linearPageIndex(p(105)), 55);
    }

    @Test
    void split_outsideOrAtTheEdges_isRejected() {
        Vma v = anon(10, 20, RW);
        assertThrows(IllegalArgumentException.class, () -> tree.split(v, p(10)));
        assertThrows(IllegalArgumentException.class, () -> tree.split(v, p(20)));
        assertThrows(IllegalArgumentException.class, () -> tree.split(v, p(15) + 1));
        assertThrows(IllegalArgumentException.class, () -> tree.split(Vma.anonymous(p(30), p(40), RW), p(35)));
        assertEquals(List.of("10-20 rw @10"), shape());
    }

    @Test
    void mergeAround_joinsCompatibleNeighboursOnBothSides() {
        Vma left = anon(10, 20, RW);
        Vma mid = anon(20, 30, RW);
        Vma right = anon(30, 40, RW);
        Vma merged = tree.mergeAround(mid);
        assertSame(left, merged, "the leftmost VMA survives");
        assertEquals(List.of("10-40 rw @10"), shape());
        assertEquals(Vma.State.REMOVED, mid.state());
        assertEquals(Vma.State.REMOVED, right.state());
    }

    @Test
    void mergeAround_withNextOnly() {
        anon(10, 20, RO);
        Vma mid = anon(20, 30, RW);
        anon(30, 40, RW);
        assertSame(mid, tree.mergeAround(mid));
        assertEquals(List.of("10-20 ro @10", "20-40 rw @20"), shape());
    }

    @Test
    void mergeAround_refusesIncompatibleNeighbours() {
        anon(10, 20, RO);                        // different flags
        Vma v = anon(20, 30, RW);
        anon(31, 40, RW);                        // not adjacent
        assertSame(v, tree.mergeAround(v));
        assertEquals(3, tree.count());

        fileVma(100, 110, RW, 0);
        Vma f2 = fileVma(110, 120, RW, 20);     // pgoff not contiguous
        Vma f3 = fileVma(120, 130, RW, 30);     // contiguous with f2
        Vma a = anon(130, 140, RW);              // anonymous next to a file VMA
        assertSame(f2, tree.mergeAround(f2));
        assertEquals("110-130 rw @20", shape().get(4));
        assertEquals(Vma.State.REMOVED, f3.state());
        assertSame(a, tree.mergeAround(a));

        Vma io1 = anon(200, 210, RW | VM_IO);
        anon(210, 220, RW | VM_IO);
        assertSame(io1, tree.mergeAround(io1), "VM_SPECIAL never merges");
        assertEquals(8, tree.count());
    }

    @Test
    void mergeAround_refusesAnonymousWithDiscontiguousPgoff() {
        anon(10, 20, RW);
        Vma moved = new Vma(p(20), p(30), RW, null, 500);
        tree.insert(moved);
        assertSame(moved, tree.mergeAround(moved));
        assertEquals(2, tree.count());
    }

    @Test
    void removeRange_exactVma() {
        anon(10, 20, RW);
        Vma b = anon(30, 40, RW);
        List<Vma> removed = tree.removeRange(p(30), p(40));
        assertEquals(List.of(b), removed);
        assertEquals(Vma.State.REMOVED, b.state());
        assertEquals(List.of("10-20 rw @10"), shape());
    }

    @Test
    void removeRange_partialOverlapAtBothEnds() {
        anon(10, 20, RW);
        anon(20, 30, RO);
        fileVma(30, 40, RW, 100);
        List<Vma> removed = tree.removeRange(p(15), p(35));
        assertEquals(List.of("15-20", "20-30", "30-35"),
                removed.stream().map(v -> v.vmStart() / PAGE_SIZE + "-" + v.vmEnd() / PAGE_SIZE).toList());
        removed.forEach(v -> assertEquals(Vma.State.REMOVED, v.state()));
        assertEquals(List.of("10-15 rw @10", "35-40 rw @105"), shape());
    }

    @Test
    void removeRange_punchesAHoleInTheMiddle() {
        Vma v = fileVma(10, 20, RW, 0);
        List<Vma> removed = tree.removeRange(p(13), p(16));
        assertEquals(1, removed.size());
        assertEquals(p(13), removed.get(0).vmStart());
        assertEquals(3, removed.get(0).pgoff());
        assertEquals(List.of("10-13 rw @0", "16-20 rw @6"), shape());
        assertSame(v, tree.findVma(p(10)));
    }

    @Test
    void removeRange_overGapsAndNothing() {
        anon(10, 20, RW);
        anon(30, 40, RW);
        assertEquals(List.of(), tree.removeRange(p(20), p(30)));
        assertEquals(List.of(), tree.removeRange(p(100), p(200)));
        assertEquals(2, tree.removeRange(p(0), p(1000)).size());
        assertTrue(tree.isEmpty());
        assertThrows(IllegalArgumentException.class, () -> tree.removeRange(p(5), p(5)));
        assertThrows(IllegalArgumentException.class, () -> tree.removeRange(1, p(5)));
    }

    @Test
    void removeAll_unlinksEverything() {
        Vma a = anon(10, 20, RW);
        Vma b = anon(30, 40, RW);
        assertEquals(List.of(a, b), tree.removeAll());
        assertEquals(0, tree.count());
        assertEquals(Vma.State.REMOVED, a.state());
        assertThrows(IllegalArgumentException.class, () -> tree.insert(a), "never linked again");
    }

    @Test
    void applyFlags_inTheMiddle_splitsIntoThree() {
        anon(10, 20, RW);
        List<Vma> covering = tree.applyFlags(p(12), p(15), RO);
        assertEquals(List.of("10-12 rw @10", "12-15 ro @12", "15-20 rw @15"), shape());
        assertEquals(1, covering.size());
        assertEquals(RO, covering.get(0).flags());
    }

    @Test
    void applyFlags_back_mergesIntoOneVmaAgain() {
        Vma v = anon(10, 20, RW);
        tree.applyFlags(p(12), p(15), RO);
        List<Vma> covering = tree.applyFlags(p(12), p(15), RW);
        assertEquals(List.of("10-20 rw @10"), shape());
        assertEquals(List.of(v), covering);
    }

    @Test
    void applyFlags_partialOverlapsAtBothEnds_acrossVmas() {
        anon(10, 20, RW);
        fileVma(20, 30, RW, 7);
        tree.applyFlags(p(15), p(25), RO);
        assertEquals(List.of("10-15 rw @10", "15-20 ro @15", "20-25 ro @7", "25-30 rw @12"), shape());
    }

    @Test
    void applyFlags_mergesWithAnUnchangedNeighbour() {
        anon(10, 20, RO);
        anon(20, 30, RW);
        List<Vma> covering = tree.applyFlags(p(20), p(25), RO);
        assertEquals(List.of("10-25 ro @10", "25-30 rw @25"), shape());
        assertEquals(p(10), covering.get(0).vmStart(), "covering VMAs may extend beyond the range");
    }

    @Test
    void applyFlags_sameFlags_doesNotSplit() {
        Vma v = anon(10, 20, RW);
        assertEquals(List.of(v), tree.applyFlags(p(12), p(15), RW));
        assertEquals(List.of("10-20 rw @10"), shape());
    }

    @Test
    void applyFlags_overAHole_isRefusedWithTheTreeUnchanged() {
        anon(10, 20, RW);
        anon(21, 30, RW);
        assertThrows(IllegalArgumentException.class, () -> tree.applyFlags(p(15), p(25), RO));
        assertEquals(List.of("10-20 rw @10", "21-30 rw @21"), shape());
    }

    @Test
    void findFreeRange_isTopDownBelowMmapBase() {
        long base = tree.mmapBase();
        assertEquals(TASK_SIZE - (128L << 20), base);
        long a = tree.findFreeRange(p(4), 0);
        assertEquals(base - p(4), a);
        tree.insert(Vma.anonymous(a, a + p(4), RW));
        long b = tree.findFreeRange(p(2), 0);
        assertEquals(a - p(2), b, "directly below the previous mapping");
        tree.insert(Vma.anonymous(b, b + p(2), RW));
        tree.removeRange(a, a + p(1));
        assertEquals(a, tree.findFreeRange(p(1), 0), "a freed page-sized hole is reused");
        assertEquals(b - p(3), tree.findFreeRange(p(3), 0), "a hole too small is skipped");
    }

    @Test
    void findFreeRange_honoursAFreeHint() {
        anon(100, 200, RW);
        assertEquals(p(50), tree.findFreeRange(p(10), p(50)));
        assertEquals(p(51), tree.findFreeRange(p(10), p(50) + 1), "hint rounded up to a page");
        assertEquals(p(90), tree.findFreeRange(p(10), p(90)));
        long fallback = tree.findFreeRange(p(10), p(95));
        assertEquals(tree.mmapBase() - p(10), fallback, "an overlapping hint is ignored");
        assertEquals(tree.mmapBase() - p(10), tree.findFreeRange(p(10), 0x1000), "below mmap_min_addr");
    }

    @Test
    void findFreeRange_fallsBackAboveMmapBase_thenGivesUp() {
        long min = VmaTree.MMAP_MIN_ADDR;
        VmaTree small = new VmaTree(min + p(8));
        assertEquals(min + p(4), small.findFreeRange(p(4), 0));
        small.insert(Vma.anonymous(min, min + p(8), RW));
        assertEquals(min + p(8), small.findFreeRange(p(4), 0), "bottom-up above mmap_base");
        small.insert(Vma.anonymous(min + p(8), TASK_SIZE, RW));
        assertEquals(-1, small.findFreeRange(p(1), 0));
        assertThrows(IllegalArgumentException.class, () -> small.findFreeRange(100, 0));
    }

    @Test
    void iterator_failsFastOnChange() {
        anon(10, 20, RW);
        anon(30, 40, RW);
        Iterator<Vma> it = tree.iterator();
        it.next();
        anon(50, 60, RW);
        assertThrows(ConcurrentModificationException.class, it::next);
    }

    @Test
    void manyVmas_stayOrderedThroughRandomSurgery() {
        java.util.SplittableRandom rnd = new java.util.SplittableRandom(7);
        boolean[] mapped = new boolean[2000];
        for (int round = 0; round < 500; round++) {
            int s = rnd.nextInt(1990);
            int e = s + 1 + rnd.nextInt(9);
            switch (rnd.nextInt(3)) {
                case 0 -> {
                    tree.removeRange(p(s), p(e));
                    Vma v = Vma.anonymous(p(s), p(e), round % 2 == 0 ? RW : RO);
                    tree.insert(v);
                    tree.mergeAround(v);
                    java.util.Arrays.fill(mapped, s, e, true);
                }
                case 1 -> {
                    tree.removeRange(p(s), p(e));
                    java.util.Arrays.fill(mapped, s, e, false);
                }
                default -> {
                    if (tree.isRangeMapped(p(s), p(e))) {
                        tree.applyFlags(p(s), p(e), rnd.nextBoolean() ? RW : RO);
                    }
                }
            }
            tree.validate();
        }
        for (int i = 0; i < mapped.length; i++) {
            assertEquals(mapped[i], tree.vmaLookup(p(i)) != null, "page " + i);
        }
        // Adjacent VMAs that could merge never both exist after mergeAround/applyFlags.
        Vma prev = null;
        for (Vma v : tree) {
            if (prev != null && prev.vmEnd() == v.vmStart()) {
                assertTrue(prev.flags() != v.flags() || prev.pgoff() + prev.pages() != v.pgoff(),
                        prev + " and " + v + " should have merged");
            }
            prev = v;
        }
    }
}
