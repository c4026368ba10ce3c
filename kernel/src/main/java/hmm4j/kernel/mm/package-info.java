/**
 * The address-space model: page-table entries and radix page tables, physical pages and
 * their allocator, swap space, the tmpfs page cache, and VMAs with the tree surgery of
 * mmap, munmap, mprotect and mremap; get_user_pages and DMA pins; anonymous transparent huge
 * pages ({@link hmm4j.kernel.mm.HugeMemory}, {@link hmm4j.kernel.mm.Khugepaged},
 * {@link hmm4j.kernel.mm.LazyFree}). Follows {@code mm/memory.c}, {@code mm/mmap.c}, {@code mm/vma.c},
 * {@code mm/mremap.c}, {@code mm/gup.c}, {@code include/linux/pgtable.h}, {@code mm/swap_state.c},
 * {@code mm/filemap.c}, {@code mm/huge_memory.c}, {@code mm/khugepaged.c} and {@code mm/madvise.c};
 * the other invalidation sources follow {@code fs/proc/task_mmu.c} ({@link hmm4j.kernel.mm.ClearRefs}),
 * {@code kernel/sched/fair.c} and {@code mm/mempolicy.c} ({@link hmm4j.kernel.mm.NumaBalancing}),
 * {@code mm/migrate.c} and {@code mm/compaction.c} ({@link hmm4j.kernel.mm.MigratePages}),
 * {@code mm/ksm.c} ({@link hmm4j.kernel.mm.Ksm}) and {@code mm/userfaultfd.c}
 * ({@link hmm4j.kernel.mm.Userfaultfd})
 * (behaviour of Linux 6.x, x86-64 with 4-level page tables and 4 KiB pages).
 *
 * <p>The data structures here are passive: they take no model locks and have no scheduling
 * points. Each class says in its overview which lock its callers hold (the mm's mmap lock,
 * its page-table lock) or, for the per-machine components ({@link hmm4j.kernel.mm.PhysMem},
 * {@link hmm4j.kernel.mm.SwapSpace}, {@link hmm4j.kernel.mm.PageCache}), which plain monitor
 * keeps them consistent under real threads. Hot paths (entry lookup, table walks, pfn to
 * page) allocate nothing.
 *
 * <p>Errors, here and in the subpackages, follow one policy (docs/architecture.md, "Error
 * policy"; each case in docs/kernel-mapping.md): a caller's misuse of the Java API throws the
 * exception its {@code @throws} names; a driver's misuse of a kernel object that the kernel or
 * its debug checkers would catch (a page refcount underflow, an access to a free page, an
 * unlock of a page not locked) is a checker report, {@code kernel.report(Failure...)}, at the
 * misuse, with the page's allocation and free sites where it has them; the kernel's own error
 * returns stay {@link hmm4j.kernel.mm.Errno} codes and {@link hmm4j.kernel.mm.ErrPtr}s; an
 * {@code IllegalStateException} that remains otherwise is a model bug, documented as such.
 */
@hmm4j.sim.ModelCode
package hmm4j.kernel.mm;
