/**
 * Generic kernel library data structures the model needs, written from their documented
 * behaviour: {@link hmm4j.kernel.lib.IntervalTree}, the augmented red-black interval tree of
 * {@code lib/interval_tree.c} and {@code include/linux/interval_tree_generic.h} (Linux 6.x;
 * the behaviour has been stable since v3.x), in which {@code mmu_interval_notifier}
 * subscriptions live, over the rebalancing of {@code lib/rbtree.c} and
 * {@code include/linux/rbtree_augmented.h}.
 *
 * <p>The structures here are passive: they take no model locks, have no scheduling points and
 * are not thread-safe. Each class says in its overview which lock its callers hold. Hot paths
 * (insert, remove, overlap queries) allocate nothing.
 */
@hmm4j.sim.ModelCode
package hmm4j.kernel.lib;
