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
    MMU_NOTIFY_EXCLUSIVE;

    private final String startNote = "invalidate_range_start " + shortName();
    private final String endNote = "invalidate_range_end " + shortName();

    /** The event without its prefix, shortened for labels: {@code UNMAP}, {@code PROT_PAGE}, ... */
    public String shortName() {
        return name().substring("MMU_NOTIFY_".length()).replace("PROTECTION", "PROT");
    }

    /** The timeline label of a range start with this event ({@code invalidate_range_start UNMAP}). */
    String startNote() {
        return startNote;
    }

    /** The timeline label of a range end with this event. */
    String endNote() {
        return endNote;
    }
}
