package hmm4j.kernel.mm.notifier;

/** {@code enum mmu_notifier_event}, in kernel order (the ordinal is the kernel value). */
public enum MmuNotifierEvent {
    /** munmap, or mremap moving the range away. */
    MMU_NOTIFY_UNMAP,
    /** PTEs cleared for other reasons (madvise, COW, reclaim, ...). */
    MMU_NOTIFY_CLEAR,
    /** Protection change of the whole range through the VMA (mprotect). */
    MMU_NOTIFY_PROTECTION_VMA,
    /** Per-page read/write change. */
    MMU_NOTIFY_PROTECTION_PAGE,
    /** Soft-dirty reset. */
    MMU_NOTIFY_SOFT_DIRTY,
    /** Interval notifiers at exit_mmap: the mm has no users. */
    MMU_NOTIFY_RELEASE,
    /** migrate_vma_setup collection; owner = the migrating driver. */
    MMU_NOTIFY_MIGRATE,
    /** Conversion to device-exclusive entries; owner = the caller. */
    MMU_NOTIFY_EXCLUSIVE
}
