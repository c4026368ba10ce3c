package hmm4j.kernel.lib;

import java.util.ConcurrentModificationException;
import java.util.Iterator;
import java.util.NoSuchElementException;

/**
 * A set of closed intervals {@code [start, last]} over unsigned 64-bit addresses, answering
 * "which intervals overlap {@code [a, b]}" in ascending order of start (the kernel's
 * {@code struct rb_root_cached} used through {@code interval_tree_insert},
 * {@code interval_tree_remove}, {@code interval_tree_iter_first} and
 * {@code interval_tree_iter_next}). Duplicates and nested intervals are allowed.
 *
 * <p>Nodes are embedded: the caller's object <em>is</em> the tree node (it extends
 * {@link Node}), as the kernel embeds {@code struct interval_tree_node} in
 * {@code struct mmu_interval_notifier}. Inserting, removing and querying allocate nothing.
 *
 * <pre>{@code
 * final class Sub extends IntervalTree.Node { ... }
 * IntervalTree<Sub> itree = new IntervalTree<>();
 * for (Sub s = itree.iterFirst(a, b); s != null; s = itree.iterNext(s, a, b)) { ... }
 * }</pre>
 *
 * <p>Overview. A red-black tree ordered by unsigned {@code start} (equal starts keep insertion
 * order, later ones to the right). Each node also caches {@code subtreeLast}, the unsigned
 * maximum of {@code last} over its subtree. A subtree whose {@code subtreeLast} is below the
 * query's start holds no overlap and is skipped whole; and since starts only grow in key
 * order, the walk stops at the first node whose start is above the query's last. Every
 * comparison of addresses is {@link Long#compareUnsigned}, so intervals at the very top of the
 * address space, up to {@code [x, ULONG_MAX]}, are ordinary.
 *
 * <p>Algorithmic notes. Insertion descends by start, raising {@code subtreeLast} on the way
 * down, and links a red leaf; removal unlinks. The red-black rebalancing after either, with
 * {@code subtreeLast} kept right through rotations, is in {@link AugmentedRbTree}. Cost: insert
 * and remove O(log n); {@link #iterFirst} O(log n); a whole enumeration of k overlaps visits
 * O(log n + k) nodes when the overlaps are neighbours in key order (the usual case for address
 * ranges) and O(k log n) at worst, when they are scattered among many non-overlapping nodes.
 * A package-private counter of visited nodes lets tests check this without a clock.
 *
 * <p>Locking. Not thread-safe. For the interval notifier tree the caller holds
 * {@code mmu_notifier_subscriptions->lock} around {@link #insert} and {@link #remove}.
 * Queries may run without that lock only while the tree is known not to change (the kernel
 * walks it unlocked while {@code invalidate_seq} is odd, which defers every insert and remove).
 *
 * <p>Lifetime. A node is in at most one tree. {@link Node#isInTree()} mirrors the kernel's
 * {@code RB_EMPTY_NODE} test: false for a node never inserted and for one removed. Inserting a
 * node that is in a tree, or removing one that is not in this tree, raises
 * {@link IllegalStateException}, as does changing a node's interval while it is in a tree.
 *
 * <p>Differences from the kernel ({@code lib/interval_tree.c},
 * {@code include/linux/interval_tree_generic.h}, {@code lib/rbtree.c}): {@link #remove} clears
 * the node's linkage, where kernel callers do {@code RB_CLEAR_NODE} themselves; "empty" is a
 * null owner field rather than a parent pointing to itself, so the owner is known and misuse
 * raises
 * instead of corrupting the tree; the leftmost node is not cached (the kernel uses it only for
 * a quick reject in {@code iter_first}); {@link #size()} is kept, the kernel has no count.
 * A query with {@code start > last} is not rejected: like the kernel it reports the nodes with
 * {@code node.start <= last && node.last >= start}, here the nodes spanning {@code [last, start]}.
 *
 * @param <N> the node type; only nodes of this type are inserted, so queries return it
 */
public final class IntervalTree<N extends IntervalTree.Node> extends AugmentedRbTree implements Iterable<N> {

    /**
     * The tree linkage and interval embedded in an object that lives in an {@link IntervalTree}
     * (the kernel's {@code struct interval_tree_node}). Extend it; subclasses see only
     * {@link #start()}, {@link #last()}, {@link #setInterval} and {@link #isInTree()}, the
     * linkage is private to the tree.
     *
     * <p>Why a superclass rather than a {@code Node<T>} holding an owner: the subscription is
     * its own node, so there is one object per subscription instead of two, no owner pointer
     * to keep consistent, and queries hand back the subscription itself (the kernel's
     * {@code container_of}). A node takes about 56 bytes on a 64-bit JVM with compressed oops (three longs, four
     * references, a boolean), so a million fit in about 56 MB.
     */
    public static class Node {
        long start;
        long last;
        /** Unsigned max of {@code last} over this node's subtree (the augmented value). */
        long subtreeLast;
        Node left;
        Node right;
        Node parent;
        boolean red;
        /** The tree holding this node, or null: our {@code RB_EMPTY_NODE}. */
        IntervalTree<?> tree;

        /** A node for the one-byte interval {@code [0, 0]}; set the real one before inserting. */
        public Node() {
        }

        /** A node for the closed interval {@code [start, last]}, unsigned, {@code start <= last}. */
        public Node(long start, long last) {
            setInterval(start, last);
        }

        /** First address of the interval (unsigned). */
        public final long start() {
            return start;
        }

        /** Last address of the interval, inclusive (unsigned). */
        public final long last() {
            return last;
        }

        /**
         * Sets the closed interval {@code [start, last]}. Only while not in a tree.
         *
         * @throws IllegalArgumentException if {@code start > last} (unsigned)
         * @throws IllegalStateException if the node is in a tree
         */
        public final void setInterval(long start, long last) {
            if (tree != null) {
                throw new IllegalStateException("interval of a node in a tree cannot change: " + this);
            }
            if (Long.compareUnsigned(start, last) > 0) {
                throw new IllegalArgumentException("empty interval [0x" + Long.toHexString(start)
                        + ", 0x" + Long.toHexString(last) + "]");
            }
            this.start = start;
            this.last = last;
        }

        /** Whether the node is linked in a tree: the negation of the kernel's {@code RB_EMPTY_NODE}. */
        public final boolean isInTree() {
            return tree != null;
        }

        /** Whether the node overlaps the closed interval {@code [start, last]} (unsigned). */
        public final boolean overlaps(long start, long last) {
            return Long.compareUnsigned(this.start, last) <= 0 && Long.compareUnsigned(this.last, start) >= 0;
        }

        @Override
        public String toString() {
            return "[0x" + Long.toHexString(start) + ", 0x" + Long.toHexString(last) + "]";
        }
    }

    private int size;
    private int modCount;
    /** Nodes entered by queries since the last {@link #resetVisitedNodes()}; for complexity tests. */
    private long visitedNodes;

    /** An empty tree. */
    public IntervalTree() {
    }

    /** Number of nodes in the tree. */
    public int size() {
        return size;
    }

    /** Whether the tree holds no node (the kernel's {@code RB_EMPTY_ROOT}). */
    public boolean isEmpty() {
        return root == null;
    }

    /** Whether {@code node} is linked in this tree (rather than in none or in another one). */
    public boolean contains(Node node) {
        return node.tree == this;
    }

    // ---- updates ----

    /**
     * {@code interval_tree_insert}: links {@code node} with its current interval. O(log n), no
     * allocation. Caller holds the tree's lock (for subscriptions,
     * {@code mmu_notifier_subscriptions->lock}).
     *
     * @throws IllegalStateException if {@code node} is already in a tree (this or another)
     */
    public void insert(N node) {
        if (node.tree != null) {
            throw new IllegalStateException(node.tree == this
                    ? "node already in this tree: " + node
                    : "node is in another tree: " + node);
        }
        long start = node.start;
        long last = node.last;
        Node parent = null;
        boolean goLeft = false;
        for (Node cur = root; cur != null; cur = goLeft ? cur.left : cur.right) {
            if (Long.compareUnsigned(cur.subtreeLast, last) < 0) {
                cur.subtreeLast = last;
            }
            parent = cur;
            goLeft = Long.compareUnsigned(start, cur.start) < 0;
        }
        node.parent = parent;
        node.left = null;
        node.right = null;
        node.red = true;
        node.subtreeLast = last;
        node.tree = this;
        if (parent == null) {
            root = node;
        } else if (goLeft) {
            parent.left = node;
        } else {
            parent.right = node;
        }
        size++;
        modCount++;
        insertColor(node);
    }

    /**
     * {@code interval_tree_remove}: unlinks {@code node}; on return {@link Node#isInTree()} is
     * false and its interval may be changed and the node inserted again. O(log n), no
     * allocation. Caller holds the tree's lock.
     *
     * @throws IllegalStateException if {@code node} is not in this tree
     */
    public void remove(N node) {
        if (node.tree != this) {
            throw new IllegalStateException(node.tree == null
                    ? "node is not in a tree: " + node
                    : "node is in another tree: " + node);
        }
        erase(node);
        node.left = null;
        node.right = null;
        node.parent = null;
        node.red = false;
        node.subtreeLast = node.last;
        node.tree = null;
        size--;
        modCount++;
    }

    // ---- queries ----

    /**
     * {@code interval_tree_iter_first}: the node overlapping the closed interval
     * {@code [start, last]} with the lowest start (among equal starts, the earliest inserted),
     * or null. O(log n), no allocation. Caller holds the tree's lock or knows the tree cannot
     * change.
     */
    public N iterFirst(long start, long last) {
        Node r = root;
        if (r == null || Long.compareUnsigned(r.subtreeLast, start) < 0) {
            return null;
        }
        return cast(firstInSubtree(r, start, last));
    }

    /**
     * {@code interval_tree_iter_next}: the next node after {@code node}, in ascending start
     * order, overlapping {@code [start, last]}, or null. {@code node} is the previous result of
     * {@link #iterFirst} or {@code iterNext} for the same query, and the tree has not changed
     * since. O(log n) worst case, no allocation.
     *
     * @throws IllegalStateException if {@code node} is not in this tree
     */
    public N iterNext(N node, long start, long last) {
        if (node.tree != this) {
            throw new IllegalStateException("iterNext from a node not in this tree: " + node);
        }
        Node n = node;
        Node right = n.right;
        while (true) {
            // Everything after n in key order is: n's right subtree, then the ancestor we reach
            // by climbing out of a left child, then that ancestor's right subtree, and so on.
            if (right != null && Long.compareUnsigned(right.subtreeLast, start) >= 0) {
                return cast(firstInSubtree(right, start, last));
            }
            Node from;
            do {
                from = n;
                n = n.parent;
                if (n == null) {
                    return null;
                }
                visitedNodes++;
            } while (from == n.right);
            if (Long.compareUnsigned(n.start, last) > 0) {
                return null;
            }
            if (Long.compareUnsigned(n.last, start) >= 0) {
                return cast(n);
            }
            right = n.right;
        }
    }

    /**
     * The first node in key order of the subtree at {@code n} overlapping {@code [start, last]},
     * or null. Precondition: {@code n.subtreeLast >= start}. The first node in key order whose
     * last reaches {@code start} is the only candidate: nodes before it end too early, nodes
     * after it start no lower, so if it starts above {@code last} they all do.
     */
    private Node firstInSubtree(Node n, long start, long last) {
        while (true) {
            visitedNodes++;
            Node left = n.left;
            if (left != null && Long.compareUnsigned(left.subtreeLast, start) >= 0) {
                n = left;
                continue;
            }
            if (Long.compareUnsigned(n.start, last) > 0) {
                return null;
            }
            if (Long.compareUnsigned(n.last, start) >= 0) {
                return n;
            }
            Node right = n.right;
            if (right == null || Long.compareUnsigned(right.subtreeLast, start) < 0) {
                return null;
            }
            n = right;
        }
    }

    /** Nodes entered by {@link #iterFirst} and {@link #iterNext} since the last reset. */
    long visitedNodes() {
        return visitedNodes;
    }

    void resetVisitedNodes() {
        visitedNodes = 0;
    }

    /**
     * All nodes in ascending start order; for tests and debugging, it allocates. Fails fast
     * with {@link ConcurrentModificationException} if the tree changes other than through
     * {@link Iterator#remove()} of this iterator.
     */
    @Override
    public Iterator<N> iterator() {
        return new InOrder();
    }

    /**
     * Checks every invariant: parent links, a black root, no red node with a red child, the
     * same number of black nodes on every root-to-leaf path, unsigned start order, each
     * {@code subtreeLast} equal to the unsigned max of {@code last} in its subtree, every node
     * owned by this tree and {@link #size()} equal to the node count. Raises
     * {@link IllegalStateException} naming the first offender. O(n).
     */
    public void validate() {
        if (root != null && (root.parent != null || root.red)) {
            throw new IllegalStateException("root must be black with no parent: " + root);
        }
        int[] count = {0};
        validate(root, count);
        if (count[0] != size) {
            throw new IllegalStateException("size " + size + " but " + count[0] + " nodes linked");
        }
    }

    /** Black height of the subtree at {@code n} (leaves count 1) after checking it. */
    private int validate(Node n, int[] count) {
        if (n == null) {
            return 1;
        }
        count[0]++;
        if (n.tree != this) {
            throw new IllegalStateException("node not owned by this tree: " + n);
        }
        long max = n.last;
        for (Node c : new Node[] {n.left, n.right}) {
            if (c == null) {
                continue;
            }
            if (c.parent != n) {
                throw new IllegalStateException("bad parent link under " + n + ": " + c);
            }
            if (n.red && c.red) {
                throw new IllegalStateException("red node " + n + " has red child " + c);
            }
            if (Long.compareUnsigned(c.subtreeLast, max) > 0) {
                max = c.subtreeLast;
            }
        }
        if (n.left != null && Long.compareUnsigned(n.left.start, n.start) > 0
                || n.right != null && Long.compareUnsigned(n.right.start, n.start) < 0) {
            throw new IllegalStateException("start order broken at " + n);
        }
        int leftHeight = validate(n.left, count);
        int rightHeight = validate(n.right, count);
        if (leftHeight != rightHeight) {
            throw new IllegalStateException("black heights " + leftHeight + " != " + rightHeight + " under " + n);
        }
        if (n.subtreeLast != max) {
            throw new IllegalStateException("subtreeLast 0x" + Long.toHexString(n.subtreeLast)
                    + " should be 0x" + Long.toHexString(max) + " at " + n);
        }
        return leftHeight + (n.red ? 0 : 1);
    }

    @Override
    public String toString() {
        StringBuilder sb = new StringBuilder("itree(").append(size).append(')');
        for (N n : this) {
            sb.append(' ').append(n);
        }
        return sb.toString();
    }

    /** Sound: only {@code N}s are inserted, and every returned node is in this tree. */
    @SuppressWarnings("unchecked")
    private N cast(Node n) {
        return (N) n;
    }

    private static Node successor(Node n) {
        if (n.right != null) {
            n = n.right;
            while (n.left != null) {
                n = n.left;
            }
            return n;
        }
        Node from;
        do {
            from = n;
            n = n.parent;
        } while (n != null && from == n.right);
        return n;
    }

    private final class InOrder implements Iterator<N> {
        private Node next;
        private Node lastReturned;
        private int expectedModCount = modCount;

        InOrder() {
            Node n = root;
            while (n != null && n.left != null) {
                n = n.left;
            }
            next = n;
        }

        @Override
        public boolean hasNext() {
            return next != null;
        }

        @Override
        public N next() {
            if (modCount != expectedModCount) {
                throw new ConcurrentModificationException();
            }
            if (next == null) {
                throw new NoSuchElementException();
            }
            lastReturned = next;
            next = successor(next);
            return cast(lastReturned);
        }

        @Override
        public void remove() {
            if (lastReturned == null) {
                throw new IllegalStateException("next() not called, or remove() already called");
            }
            if (modCount != expectedModCount) {
                throw new ConcurrentModificationException();
            }
            // The successor was computed before removal and the node identities do not move,
            // so it stays valid: removal relinks nodes, it never swaps their contents.
            IntervalTree.this.remove(cast(lastReturned));
            lastReturned = null;
            expectedModCount = modCount;
        }
    }
}
