package hmm4j.kernel.lib;

import hmm4j.kernel.lib.IntervalTree.Node;

/**
 * The red-black rebalancing under {@link IntervalTree}, keeping each node's
 * {@code subtreeLast} right through every relinking (the kernel's {@code lib/rbtree.c} with the
 * augment callbacks of {@code include/linux/rbtree_augmented.h}, specialised to one augmented
 * value). Package-private: the interval-specific descent and queries live in the subclass.
 *
 * <p>Overview. Rules kept: every node red or black, the root black, no red node with a red
 * child, the same number of black nodes on every path from a node down to a missing child;
 * hence a height of at most {@code 2 log2(n + 1)}. Missing children are null (no sentinel
 * node), so {@link #eraseColor} tracks the parent of a possibly-null position. Augmentation:
 * {@link #erase} recomputes {@code subtreeLast} from the lowest relinked node to the root
 * before rebalancing, and each rotation recomputes the two nodes whose subtrees it changes.
 *
 * <p>Locking. None; see {@link IntervalTree}.
 */
abstract class AugmentedRbTree {

    Node root;

    /** The root, for structural checks in tests. */
    final Node root() {
        return root;
    }

    /**
     * {@code rb_erase_augmented}: unlinks {@code node}, which is in this tree, leaving its own
     * fields stale (the caller clears them).
     */
    final void erase(Node node) {
        Node child;          // the node taking the removed black's place, may be null
        Node childParent;    // its parent after the unlink (needed when child is null)
        boolean removedBlack;
        if (node.left == null || node.right == null) {
            child = node.left != null ? node.left : node.right;
            childParent = node.parent;
            removedBlack = !node.red;
            replaceInParent(node, child);
        } else {
            // Two children: the in-order successor takes the node's place and colour, and the
            // successor's old position is the one that loses a node.
            Node successor = node.right;
            while (successor.left != null) {
                successor = successor.left;
            }
            removedBlack = !successor.red;
            child = successor.right;
            if (successor.parent == node) {
                childParent = successor;
            } else {
                childParent = successor.parent;
                replaceInParent(successor, child);
                successor.right = node.right;
                successor.right.parent = successor;
            }
            replaceInParent(node, successor);
            successor.left = node.left;
            successor.left.parent = successor;
            successor.red = node.red;
        }
        for (Node n = childParent; n != null; n = n.parent) {
            n.subtreeLast = computeSubtreeLast(n);
        }
        if (removedBlack) {
            eraseColor(child, childParent);
        }
    }

    /**
     * {@code rb_insert_augmented}: rebalances after {@code n} was linked as a red leaf, with
     * the {@code subtreeLast} of its ancestors already raised to cover it.
     */
    final void insertColor(Node n) {
        while (true) {
            Node parent = n.parent;
            if (parent == null) {
                n.red = false;      // n is the root
                return;
            }
            if (!parent.red) {
                return;
            }
            Node grand = parent.parent;     // exists: a red node is never the root
            boolean parentIsLeft = parent == grand.left;
            Node uncle = parentIsLeft ? grand.right : grand.left;
            if (uncle != null && uncle.red) {
                // Push the grandparent's blackness down one level; the grandparent may now clash.
                parent.red = false;
                uncle.red = false;
                grand.red = true;
                n = grand;
                continue;
            }
            if (parentIsLeft) {
                if (n == parent.right) {
                    rotateLeft(parent);     // straighten the zig-zag; roles of n and parent swap
                    parent = n;
                }
                rotateRight(grand);
            } else {
                if (n == parent.left) {
                    rotateRight(parent);
                    parent = n;
                }
                rotateLeft(grand);
            }
            parent.red = false;
            grand.red = true;
            return;
        }
    }

    /**
     * Restores the black height after a black node was unlinked from the paths through
     * {@code n}'s position: {@code n} (possibly null) carries an extra black under
     * {@code parent}.
     */
    private void eraseColor(Node n, Node parent) {
        while (n != root && (n == null || !n.red)) {
            // n's sibling exists: it is on paths with one more black than n's.
            if (n == parent.left) {
                Node sibling = parent.right;
                if (sibling.red) {
                    sibling.red = false;
                    parent.red = true;
                    rotateLeft(parent);
                    sibling = parent.right;
                }
                if (isBlack(sibling.left) && isBlack(sibling.right)) {
                    sibling.red = true;     // both sides one black short: move the debt up
                    n = parent;
                    parent = n.parent;
                    continue;
                }
                if (isBlack(sibling.right)) {
                    sibling.left.red = false;
                    sibling.red = true;
                    rotateRight(sibling);
                    sibling = parent.right;
                }
                sibling.red = parent.red;
                parent.red = false;
                sibling.right.red = false;
                rotateLeft(parent);
            } else {
                Node sibling = parent.left;
                if (sibling.red) {
                    sibling.red = false;
                    parent.red = true;
                    rotateRight(parent);
                    sibling = parent.left;
                }
                if (isBlack(sibling.left) && isBlack(sibling.right)) {
                    sibling.red = true;
                    n = parent;
                    parent = n.parent;
                    continue;
                }
                if (isBlack(sibling.left)) {
                    sibling.right.red = false;
                    sibling.red = true;
                    rotateLeft(sibling);
                    sibling = parent.left;
                }
                sibling.red = parent.red;
                parent.red = false;
                sibling.left.red = false;
                rotateRight(parent);
            }
            return;
        }
        if (n != null) {
            n.red = false;
        }
    }

    private static boolean isBlack(Node n) {
        return n == null || !n.red;
    }

    /** Left rotation at {@code x}: its right child {@code y} moves up, keeping subtreeLast right. */
    private void rotateLeft(Node x) {
        Node y = x.right;
        x.right = y.left;
        if (y.left != null) {
            y.left.parent = x;
        }
        replaceInParent(x, y);
        y.left = x;
        x.parent = y;
        y.subtreeLast = x.subtreeLast;      // y now spans exactly what x spanned
        x.subtreeLast = computeSubtreeLast(x);
    }

    /** Right rotation at {@code x}: its left child {@code y} moves up, keeping subtreeLast right. */
    private void rotateRight(Node x) {
        Node y = x.left;
        x.left = y.right;
        if (y.right != null) {
            y.right.parent = x;
        }
        replaceInParent(x, y);
        y.right = x;
        x.parent = y;
        y.subtreeLast = x.subtreeLast;
        x.subtreeLast = computeSubtreeLast(x);
    }

    /** Puts {@code replacement} (may be null) where {@code old} hangs from its parent or the root. */
    private void replaceInParent(Node old, Node replacement) {
        Node parent = old.parent;
        if (parent == null) {
            root = replacement;
        } else if (parent.left == old) {
            parent.left = replacement;
        } else {
            parent.right = replacement;
        }
        if (replacement != null) {
            replacement.parent = parent;
        }
    }

    private static long computeSubtreeLast(Node n) {
        long max = n.last;
        if (n.left != null && Long.compareUnsigned(n.left.subtreeLast, max) > 0) {
            max = n.left.subtreeLast;
        }
        if (n.right != null && Long.compareUnsigned(n.right.subtreeLast, max) > 0) {
            max = n.right.subtreeLast;
        }
        return max;
    }
}
