package hmm4j.kernel.lib;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.ConcurrentModificationException;
import java.util.Iterator;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

class IntervalTreeTest {

    private static final long ULONG_MAX = -1L;

    /** A subscription-like node: the tree is embedded, the id names it in failures. */
    static final class Sub extends IntervalTree.Node {
        final int id;

        Sub(int id, long start, long last) {
            super(start, last);
            this.id = id;
        }

        @Override
        public String toString() {
            return "#" + id + super.toString();
        }
    }

    private final IntervalTree<Sub> tree = new IntervalTree<>();
    private int nextId;

    private Sub add(long start, long last) {
        Sub s = new Sub(nextId++, start, last);
        tree.insert(s);
        checkStructure(tree);
        return s;
    }

    /** Every result of iterFirst/iterNext for [start, last], in order. */
    private static List<Sub> query(IntervalTree<Sub> t, long start, long last) {
        List<Sub> out = new ArrayList<>();
        for (Sub s = t.iterFirst(start, last); s != null; s = t.iterNext(s, start, last)) {
            out.add(s);
        }
        return out;
    }

    private List<Sub> query(long start, long last) {
        return query(tree, start, last);
    }

    // ---- unit cases ----

    @Test
    void emptyTree_findsNothing() {
        assertTrue(tree.isEmpty());
        assertEquals(0, tree.size());
        assertNull(tree.iterFirst(0, ULONG_MAX));
        assertFalse(tree.iterator().hasNext());
        checkStructure(tree);
    }

    @Test
    void singleNode_overlapIsClosedAtBothEnds() {
        Sub s = add(10, 20);
        assertEquals(List.of(s), query(0, ULONG_MAX));
        assertEquals(List.of(s), query(15, 15));
        assertEquals(List.of(s), query(20, 30), "touching at last: closed interval overlaps");
        assertEquals(List.of(s), query(0, 10), "touching at start: closed interval overlaps");
        assertEquals(List.of(s), query(5, 25), "query containing the node");
        assertEquals(List.of(), query(21, 30));
        assertEquals(List.of(), query(0, 9));
        assertEquals(1, tree.size());
        assertTrue(s.isInTree());
    }

    @Test
    void nestedIntervals_comeInStartOrder() {
        Sub inner = add(15, 15);
        Sub outer = add(0, 100);
        Sub middle = add(10, 20);
        assertEquals(List.of(outer, middle, inner), query(15, 15));
        assertEquals(List.of(outer, middle), query(16, 50));
        assertEquals(List.of(outer), query(21, 100));
        assertEquals(List.of(), query(101, 200));
    }

    @Test
    void duplicates_allReported_inInsertionOrder() {
        List<Sub> dups = new ArrayList<>();
        for (int i = 0; i < 50; i++) {
            dups.add(add(10, 20));
        }
        add(0, 5);
        add(30, 40);
        assertEquals(dups, query(12, 13));
        tree.remove(dups.get(7));
        checkStructure(tree);
        Sub moved = dups.remove(7);
        tree.insert(moved);
        dups.add(moved);
        assertEquals(dups, query(20, 20), "a re-inserted duplicate goes after its equals");
    }

    @Test
    void adjacentIntervals_touchingEndpointsOverlap() {
        Sub a = add(0, 9);
        Sub b = add(10, 19);
        Sub c = add(19, 29);
        assertEquals(List.of(a, b), query(9, 10));
        assertEquals(List.of(b, c), query(19, 19));
        assertEquals(List.of(c), query(20, 20));
    }

    @Test
    void topOfUnsignedSpace_ordersAndOverlapsUnsigned() {
        Sub whole = add(0, ULONG_MAX - 1);              // [0, 0xFFFF_FFFF_FFFF_FFFE]
        Sub top = add(ULONG_MAX - 0xFFF, ULONG_MAX);    // last page, up to ULONG_MAX
        Sub high = add(0x8000_0000_0000_0000L, 0x8000_0000_0000_0FFFL);
        Sub belowSign = add(0x7FFF_FFFF_FFFF_F000L, 0x7FFF_FFFF_FFFF_FFFFL);
        Sub low = add(0x1000, 0x1FFF);
        assertEquals(List.of(whole, low, belowSign, high, top), query(0, ULONG_MAX));
        assertEquals(List.of(top), query(ULONG_MAX, ULONG_MAX), "only the top node reaches ULONG_MAX");
        assertEquals(List.of(whole, top), query(ULONG_MAX - 1, ULONG_MAX - 1));
        assertEquals(List.of(whole, belowSign, high),
                query(0x7FFF_FFFF_FFFF_FFFFL, 0x8000_0000_0000_0000L), "across the sign bit");
        assertEquals(List.of(whole, high), query(0x8000_0000_0000_0800L, 0x8000_0000_0000_0800L));
        assertSame(whole, tree.iterator().next());
        tree.remove(whole);
        checkStructure(tree);
        assertEquals(List.of(), query(0x2000, 0x7FFF_FFFF_FFFF_EFFFL));
        assertEquals(ULONG_MAX, tree.root().subtreeLast);
    }

    @Test
    void removeThenReinsert_withNewInterval() {
        Sub a = add(100, 200);
        Sub b = add(150, 160);
        tree.remove(a);
        checkStructure(tree);
        assertFalse(a.isInTree());
        assertEquals(List.of(b), query(0, ULONG_MAX));
        a.setInterval(300, 400);
        tree.insert(a);
        checkStructure(tree);
        assertTrue(a.isInTree());
        assertEquals(List.of(a), query(350, 350));
        assertEquals(List.of(b, a), query(0, ULONG_MAX));
        tree.remove(b);
        tree.remove(a);
        checkStructure(tree);
        assertTrue(tree.isEmpty());
    }

    @Test
    void misuse_raises() {
        Sub a = add(1, 2);
        Sub loose = new Sub(99, 5, 6);
        IntervalTree<Sub> other = new IntervalTree<>();
        assertThrows(IllegalStateException.class, () -> tree.insert(a), "double insert");
        assertThrows(IllegalStateException.class, () -> other.insert(a), "insert while in another tree");
        assertThrows(IllegalStateException.class, () -> tree.remove(loose), "remove a node never inserted");
        assertThrows(IllegalStateException.class, () -> other.remove(a), "remove from the wrong tree");
        assertThrows(IllegalStateException.class, () -> a.setInterval(3, 4), "move a linked node");
        assertThrows(IllegalStateException.class, () -> tree.iterNext(loose, 0, 10));
        assertThrows(IllegalArgumentException.class, () -> loose.setInterval(7, 6));
        assertThrows(IllegalArgumentException.class, () -> new Sub(0, ULONG_MAX, 0));
        tree.remove(a);
        assertThrows(IllegalStateException.class, () -> tree.remove(a), "double remove");
        assertFalse(new Sub(1, 0, 0).isInTree(), "never inserted: RB_EMPTY_NODE");
        checkStructure(tree);
        checkStructure(other);
    }

    @Test
    void invertedQuery_reportsNodesSpanningTheGap_likeTheKernelPredicate() {
        Sub wide = add(0, 100);
        add(40, 45);
        Sub right = add(20, 60);
        // start 50 > last 30: the predicate node.start <= 30 && node.last >= 50.
        assertEquals(List.of(wide, right), query(50, 30));
    }

    @Test
    void iterator_isInOrder_failFast_andRemoves() {
        Sub c = add(30, 31);
        Sub a = add(10, 11);
        Sub b = add(20, 21);
        Iterator<Sub> it = tree.iterator();
        assertSame(a, it.next());
        assertThrows(IllegalStateException.class, () -> new IntervalTree<Sub>().iterator().remove());
        it.remove();
        checkStructure(tree);
        assertSame(b, it.next());
        assertSame(c, it.next());
        assertFalse(it.hasNext());
        assertEquals(List.of(b, c), query(0, ULONG_MAX));
        Iterator<Sub> stale = tree.iterator();
        add(0, 1);
        assertThrows(ConcurrentModificationException.class, stale::next);
    }

    @Test
    void validators_catchCorruptedAugmentation() {
        for (int i = 0; i < 20; i++) {
            add(i * 10, i * 10 + 5);
        }
        IntervalTree.Node r = tree.root();
        long saved = r.subtreeLast;
        r.subtreeLast = saved - 1;
        assertThrows(IllegalStateException.class, tree::validate);
        assertThrows(AssertionError.class, () -> checkStructure(tree));
        r.subtreeLast = saved;
        r.red = true;
        assertThrows(IllegalStateException.class, tree::validate);
        assertThrows(AssertionError.class, () -> checkStructure(tree));
        r.red = false;
        checkStructure(tree);
    }

    // ---- randomized comparison against a brute-force list ----

    @ParameterizedTest
    @ValueSource(longs = {1, 2, 3, 42, 0xC0FFEE, 20240601})
    void randomOperations_matchBruteForce_andKeepInvariants(long seed) {
        Random rnd = new Random(seed);
        IntervalTree<Sub> t = new IntervalTree<>();
        List<Sub> linked = new ArrayList<>();      // in insertion order: the tie order among equal starts
        List<Sub> spare = new ArrayList<>();
        int queries = 0;
        for (int op = 0; op < 4000; op++) {
            int choice = rnd.nextInt(10);
            if (choice < 4 || linked.isEmpty()) {
                Sub s = spare.isEmpty() || rnd.nextBoolean() ? new Sub(nextId++, 0, 0) : spare.remove(rnd.nextInt(spare.size()));
                long[] iv = randomInterval(rnd);
                s.setInterval(iv[0], iv[1]);
                t.insert(s);
                linked.add(s);
            } else if (choice < 7) {
                Sub s = linked.remove(rnd.nextInt(linked.size()));
                t.remove(s);
                assertFalse(s.isInTree());
                spare.add(s);
            } else {
                long[] q = rnd.nextInt(20) == 0 ? new long[] {rnd.nextLong(), rnd.nextLong()} : randomInterval(rnd);
                assertEquals(bruteForce(linked, q[0], q[1]), query(t, q[0], q[1]),
                        () -> "seed " + seed + " query [0x" + Long.toHexString(q[0]) + ", 0x" + Long.toHexString(q[1]) + "]");
                queries++;
            }
            assertEquals(linked.size(), t.size());
            checkStructure(t);
        }
        assertTrue(queries > 1000, "queries " + queries);
        List<Sub> inOrder = new ArrayList<>();
        t.forEach(inOrder::add);
        assertEquals(bruteForce(linked, 0, ULONG_MAX), inOrder);
    }

    /** Mostly a crowded low range (many overlaps, duplicates), some top-of-space and anywhere. */
    private static long[] randomInterval(Random rnd) {
        long a;
        long b;
        switch (rnd.nextInt(4)) {
            case 0, 1 -> {
                a = rnd.nextInt(1000);
                b = a + (rnd.nextInt(4) == 0 ? 0 : rnd.nextInt(200));
            }
            case 2 -> {
                b = ULONG_MAX - rnd.nextInt(3);
                a = b - rnd.nextInt(500);
            }
            default -> {
                a = rnd.nextLong();
                b = rnd.nextLong();
                if (Long.compareUnsigned(a, b) > 0) {
                    long x = a;
                    a = b;
                    b = x;
                }
            }
        }
        return new long[] {a, b};
    }

    private static List<Sub> bruteForce(List<Sub> linked, long start, long last) {
        return linked.stream()
                .filter(s -> Long.compareUnsigned(s.start(), last) <= 0 && Long.compareUnsigned(s.last(), start) >= 0)
                .sorted(Comparator.comparing(Sub::start, Long::compareUnsigned))   // stable: ties keep insertion order
                .toList();
    }

    // ---- complexity without a clock ----

    private static final int MILLION = 1_000_000;

    /** One million disjoint 8-byte intervals [16i, 16i+7], inserted in a seeded random order. */
    private static IntervalTree<Sub> millionDisjoint() {
        Sub[] nodes = new Sub[MILLION];
        for (int i = 0; i < MILLION; i++) {
            nodes[i] = new Sub(i, 16L * i, 16L * i + 7);
        }
        Random rnd = new Random(7);
        for (int i = MILLION - 1; i > 0; i--) {
            int j = rnd.nextInt(i + 1);
            Sub x = nodes[i];
            nodes[i] = nodes[j];
            nodes[j] = x;
        }
        IntervalTree<Sub> t = new IntervalTree<>();
        for (Sub s : nodes) {
            t.insert(s);
        }
        return t;
    }

    private static double log2(int n) {
        return Math.log(n) / Math.log(2);
    }

    @Test
    void query_visitsLogNPlusKNodes_amongAMillion() {
        IntervalTree<Sub> t = millionDisjoint();
        assertEquals(MILLION, t.size());
        t.validate();
        int k = 16;
        long first = 16L * 500_000;
        t.resetVisitedNodes();
        List<Sub> hits = query(t, first + 3, first + 16L * (k - 1) + 2);
        long visited = t.visitedNodes();
        assertEquals(k, hits.size());
        for (int i = 0; i < k; i++) {
            assertEquals(500_000 + i, hits.get(i).id);
        }
        double bound = 20 * (log2(MILLION) + k);
        System.out.printf("IntervalTree: clustered k=%d of n=%d visited %d nodes (bound %.0f)%n", k, MILLION, visited, bound);
        assertTrue(visited <= bound, "visited " + visited + " > " + bound);

        t.resetVisitedNodes();
        assertEquals(List.of(), query(t, first + 8, first + 15), "a gap between nodes");
        long missVisited = t.visitedNodes();
        System.out.printf("IntervalTree: miss among n=%d visited %d nodes%n", MILLION, missVisited);
        assertTrue(missVisited <= 3 * log2(MILLION), "visited " + missVisited);
    }

    /**
     * The worst case: k hits scattered in key order among a million misses. Each step between
     * hits may climb and descend the whole tree, so the bound is O(k log n): at most
     * {@code 2 * height} per hit plus the first descent, with the red-black height at most
     * {@code 2 log2(n + 1)}.
     */
    @Test
    void query_scatteredHits_visitAtMostKTimesTheHeight() {
        IntervalTree<Sub> t = millionDisjoint();
        int k = 16;
        List<Sub> longOnes = new ArrayList<>();
        for (int j = 0; j < k; j++) {
            Sub s = new Sub(MILLION + j, 16L * (j * (MILLION / k)) + 8, ULONG_MAX);
            t.insert(s);
            longOnes.add(s);
        }
        t.validate();
        long point = 16L * MILLION + 100;      // beyond every short interval: only the long ones reach it
        t.resetVisitedNodes();
        List<Sub> hits = query(t, point, point);
        long visited = t.visitedNodes();
        assertEquals(longOnes, hits);
        double height = 2 * log2(t.size() + 1);
        double bound = (k + 1) * 2 * height;
        System.out.printf("IntervalTree: scattered k=%d of n=%d visited %d nodes (bound %.0f)%n", k, t.size(), visited, bound);
        assertTrue(visited <= bound, "visited " + visited + " > " + bound);
    }

    // ---- an independent structural validator ----

    /**
     * Checks red-black rules, parent links, unsigned start order, every subtreeLast and the
     * size, without using {@link IntervalTree#validate()}; then runs that too, so each checks
     * the other.
     */
    static void checkStructure(IntervalTree<?> t) {
        IntervalTree.Node root = t.root();
        assertEquals(t.size() == 0, t.isEmpty());
        if (root != null) {
            assertNull(root.parent, "root has a parent");
            assertFalse(root.red, "root is red");
        }
        long[] prevStart = {0};
        int[] count = {0};
        blackHeight(t, root, prevStart, count);
        assertEquals(t.size(), count[0], "size");
        t.validate();
    }

    /** Black height of the subtree, checking it in key order. */
    private static int blackHeight(IntervalTree<?> t, IntervalTree.Node n, long[] prevStart, int[] count) {
        if (n == null) {
            return 0;
        }
        assertTrue(t.contains(n) && n.isInTree(), "node not owned by the tree: " + n);
        if (n.left != null) {
            assertSame(n, n.left.parent, "left child's parent");
            assertFalse(n.red && n.left.red, "red-red at " + n);
        }
        if (n.right != null) {
            assertSame(n, n.right.parent, "right child's parent");
            assertFalse(n.red && n.right.red, "red-red at " + n);
        }
        int lh = blackHeight(t, n.left, prevStart, count);
        assertTrue(count[0] == 0 || Long.compareUnsigned(prevStart[0], n.start()) <= 0, "start order at " + n);
        prevStart[0] = n.start();
        count[0]++;
        int rh = blackHeight(t, n.right, prevStart, count);
        assertEquals(lh, rh, "black height under " + n);
        long max = n.last();
        if (n.left != null) {
            max = unsignedMax(max, n.left.subtreeLast);
        }
        if (n.right != null) {
            max = unsignedMax(max, n.right.subtreeLast);
        }
        assertEquals(max, n.subtreeLast, "subtreeLast at " + n);
        return lh + (n.red ? 0 : 1);
    }

    private static long unsignedMax(long a, long b) {
        return Long.compareUnsigned(a, b) >= 0 ? a : b;
    }
}
