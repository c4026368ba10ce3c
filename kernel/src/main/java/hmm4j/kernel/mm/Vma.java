package hmm4j.kernel.mm;

import static hmm4j.kernel.mm.Pte.PAGE_SHIFT;

import hmm4j.sim.failure.Site;

/**
 * A virtual memory area ({@code struct vm_area_struct}): the range [{@link #vmStart},
 * {@link #vmEnd}) of one address space with one set of {@link VmFlags}, either anonymous or
 * backed by a {@link ShmemFile} from page {@link #pgoff} on.
 *
 * <p>Overview. A VMA is created {@link State#DETACHED}, becomes {@link State#LINKED} when a
 * {@link VmaTree} takes it and {@link State#REMOVED} when the tree lets it go (munmap, a
 * merge, exit); it is never linked again. While linked, only its tree changes its range,
 * {@code pgoff} and flags (split, merge, mprotect). Anonymous VMAs get
 * {@code pgoff = vm_start >> PAGE_SHIFT}, as in the kernel, so the same contiguity rule decides
 * merges for both kinds.
 *
 * <p>Locking. Reads and changes happen under the owning mm's mmap lock (changes: for write).
 *
 * <p>Differences from the kernel (include/linux/mm_types.h, mm/vma.c): no {@code vm_mm}
 * back-pointer, {@code anon_vma}, {@code vm_ops} or {@code vm_private_data}; the owning mm
 * keeps the tree and knows its VMAs.
 */
public final class Vma {

    /** Where the VMA is in its life: DETACHED → LINKED → REMOVED. */
    public enum State { DETACHED, LINKED, REMOVED }

    private final ShmemFile file;
    private long vmStart;
    private long vmEnd;
    private long flags;
    private long pgoff;
    /** {@code hstate_vma(vma)} as {@code huge_page_shift}: 21 or 30 for a hugetlb VMA, else 0. */
    private int hugePageShift;
    private State state = State.DETACHED;
    private Site linkSite;
    private Site unlinkSite;
    /** {@code vm_file} of a mapping of a driver's file, with the reference it holds; null otherwise. */
    private hmm4j.kernel.fs.FileRef vmFile;

    /**
     * A detached VMA over [{@code start}, {@code end}) (page aligned, non-empty, user
     * addresses) mapping {@code file} from page {@code pgoff}, or anonymous when {@code file}
     * is null.
     */
    public Vma(long start, long end, long flags, ShmemFile file, long pgoff) {
        checkRange(start, end);
        if (pgoff < 0) {
            throw new IllegalArgumentException("negative pgoff " + pgoff);
        }
        this.vmStart = start;
        this.vmEnd = end;
        this.flags = flags;
        this.file = file;
        this.pgoff = pgoff;
    }

    /**
     * {@code huge_page_shift(hstate_vma(vma))}: log2 of the huge page size of a
     * {@link VmFlags#VM_HUGETLB} VMA (21 or 30), 0 for other VMAs.
     */
    public int hugePageShift() {
        return hugePageShift;
    }

    /** {@code vma_huge_pagesize}: the huge page size of a hugetlb VMA, else the base page size. */
    public long hugePageSize() {
        return hugePageShift == 0 ? 1L << PAGE_SHIFT : 1L << hugePageShift;
    }

    /** Records the hstate of a hugetlb VMA (the model's {@code hugetlb_file_setup} file), before it is linked. */
    void setHugePageShift(int shift) {
        hugePageShift = shift;
    }

    /** An anonymous VMA ({@code vm_pgoff = start >> PAGE_SHIFT}). */
    public static Vma anonymous(long start, long end, long flags) {
        return new Vma(start, end, flags, null, start >>> PAGE_SHIFT);
    }

    /** {@code vm_start}: first address, inclusive. */
    public long vmStart() {
        return vmStart;
    }

    /** {@code vm_end}: last address, exclusive. */
    public long vmEnd() {
        return vmEnd;
    }

    /** {@code vm_flags}. */
    public long flags() {
        return flags;
    }

    /** True if any bit of {@code mask} is set in the flags. */
    public boolean hasAny(long mask) {
        return (flags & mask) != 0;
    }

    /** {@code vm_pgoff}: the file page (or the anonymous page number) mapped at {@link #vmStart}. */
    public long pgoff() {
        return pgoff;
    }

    /** {@code vm_file}, or null for an anonymous VMA. */
    public ShmemFile file() {
        return file;
    }

    /** {@code vma_is_anonymous}. */
    public boolean isAnonymous() {
        return file == null;
    }

    /** True for a shared mapping ({@code VM_SHARED}). */
    public boolean isShared() {
        return (flags & VmFlags.VM_SHARED) != 0;
    }

    /** {@code vma_is_accessible}: readable, writable or executable. */
    public boolean isAccessible() {
        return (flags & VmFlags.VM_ACCESS_FLAGS) != 0;
    }

    /** True if {@code vmStart <= addr < vmEnd}. */
    public boolean contains(long addr) {
        return addr >= vmStart && addr < vmEnd;
    }

    /** {@code vma_pages}: the number of pages covered. */
    public long pages() {
        return (vmEnd - vmStart) >>> PAGE_SHIFT;
    }

    /** {@code linear_page_index}: the file page (or anonymous page number) mapped at {@code addr}. */
    public long linearPageIndex(long addr) {
        return pgoff + ((addr - vmStart) >>> PAGE_SHIFT);
    }

    /** Where the VMA is in its life. */
    public State state() {
        return state;
    }

    /**
     * Where the VMA was linked into its mm's tree (its allocation, for reports), or
     * {@link CheckerSites#NOT_RECORDED} when the checkers were not installed.
     */
    public Site linkSite() {
        return CheckerSites.orNotRecorded(linkSite);
    }

    /**
     * Where the VMA was removed from its mm's tree (munmap, a merge, exit: its free, for
     * reports), or {@link CheckerSites#NOT_RECORDED} while linked or when not recorded.
     */
    public Site unlinkSite() {
        return CheckerSites.orNotRecorded(unlinkSite);
    }

    // ---- changed by VmaTree only ----

    void link(Site site) {
        if (state != State.DETACHED) {
            throw new IllegalArgumentException("VMA cannot be linked in state " + state + ": " + this);
        }
        state = State.LINKED;
        linkSite = site;
    }

    void unlink(Site site) {
        if (state != State.LINKED) {
            throw new IllegalStateException("VMA not linked: " + this);
        }
        state = State.REMOVED;
        unlinkSite = site;
        if (vmFile != null) {
            vmFile.fputDeferred(); // remove_vma: the mapping's reference, released later
        }
    }

    /**
     * {@code vm_file} of a mapping of a driver's file ({@code hmm4j.kernel.fs.File#mmap}), or
     * null. The VMA holds a reference to it until it is removed.
     */
    public hmm4j.kernel.fs.FileRef vmFile() {
        return vmFile;
    }

    /** Sets {@code vm_file} of a detached VMA; the VMA takes over the caller's reference. */
    public void setVmFile(hmm4j.kernel.fs.FileRef file) {
        if (state != State.DETACHED) {
            throw new IllegalStateException("vm_file set on a VMA in state " + state + ": " + this);
        }
        vmFile = file;
    }

    /** A copy of {@code from} (split, fork, mremap) maps its file too and takes a reference ({@code get_file}). */
    void inheritFile(Vma from) {
        hugePageShift = from.hugePageShift;
        if (from.vmFile != null) {
            from.vmFile.getFile();
            vmFile = from.vmFile;
        }
    }

    void setEnd(long end) {
        checkRange(vmStart, end);
        vmEnd = end;
    }

    void setFlags(long newFlags) {
        flags = newFlags;
    }

    static void checkRange(long start, long end) {
        if (start < 0 || end > Pte.TASK_SIZE || start >= end
                || !Pte.isPageAligned(start) || !Pte.isPageAligned(end)) {
            throw new IllegalArgumentException("bad VMA range [0x" + Long.toHexString(start) + ", 0x"
                    + Long.toHexString(end) + ")");
        }
    }

    @Override
    public String toString() {
        StringBuilder sb = new StringBuilder("vma [0x").append(Long.toHexString(vmStart)).append(", 0x")
                .append(Long.toHexString(vmEnd)).append(") ").append(VmFlags.toString(flags));
        if (file != null) {
            sb.append(' ').append(file.name()).append(" pgoff=0x").append(Long.toHexString(pgoff));
        } else {
            sb.append(" anon");
        }
        if (state != State.LINKED) {
            sb.append(' ').append(state);
        }
        return sb.toString();
    }
}
