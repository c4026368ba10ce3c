package hmm4j.kernel.mm;

/** Where {@code __mmput} (kernel/fork.c) and its {@code exit_mmap} (mm/mmap.c) are, while an mm is {@link MmState#EXITING}. */
public enum ExitPhase {
    /** Not exiting. */
    NONE,
    /** {@code __mmput}'s {@code exit_aio}, before {@code exit_mmap}: the AIO contexts are killed and their in-flight iocbs waited for. */
    EXIT_AIO,
    /** Step 1: {@code mmu_notifier_release}, before anything is unmapped. */
    RELEASING_NOTIFIERS,
    /** Steps 2–4: unmapping every VMA under one UNMAP invalidation. */
    UNMAPPING,
    /** Steps 6–7: freeing the page tables below the pgd, then the VMAs. */
    FREEING_PGTABLES,
    /** Step 8 done: no VMAs, no page tables. */
    VMAS_GONE
}
