package hmm4j.kernel.mm;

/**
 * The {@code vm_flags} bits of a {@link Vma}, with the kernel's names and values
 * (include/linux/mm.h).
 */
public final class VmFlags {

    public static final long VM_NONE = 0;
    public static final long VM_READ = 0x1;
    public static final long VM_WRITE = 0x2;
    public static final long VM_EXEC = 0x4;
    public static final long VM_SHARED = 0x8;
    public static final long VM_MAYREAD = 0x10;
    public static final long VM_MAYWRITE = 0x20;
    public static final long VM_MAYEXEC = 0x40;
    public static final long VM_MAYSHARE = 0x80;
    public static final long VM_GROWSDOWN = 0x100;
    public static final long VM_PFNMAP = 0x400;
    /** {@code VM_UFFD_WP}: registered with userfaultfd for write-protect faults ({@link Userfaultfd}). */
    public static final long VM_UFFD_WP = 0x1000;
    public static final long VM_LOCKED = 0x2000;
    public static final long VM_IO = 0x4000;
    public static final long VM_DONTCOPY = 0x20000;
    public static final long VM_DONTEXPAND = 0x40000;
    public static final long VM_ACCOUNT = 0x100000;
    public static final long VM_NORESERVE = 0x200000;
    public static final long VM_HUGETLB = 0x400000;
    public static final long VM_MIXEDMAP = 0x10000000;
    /** {@code MADV_HUGEPAGE} was given: THP allowed under the "madvise" policy. */
    public static final long VM_HUGEPAGE = 0x20000000;
    /** {@code MADV_NOHUGEPAGE} was given: never THP. */
    public static final long VM_NOHUGEPAGE = 0x40000000;
    /** {@code MADV_MERGEABLE} was given: KSM may merge its pages ({@link Ksm}). */
    public static final long VM_MERGEABLE = 0x80000000L;

    /** {@code VM_ACCESS_FLAGS}: any of these makes a VMA accessible. */
    public static final long VM_ACCESS_FLAGS = VM_READ | VM_WRITE | VM_EXEC;
    /** {@code VM_SPECIAL}: mappings that are never merged or expanded. */
    public static final long VM_SPECIAL = VM_IO | VM_DONTEXPAND | VM_PFNMAP | VM_MIXEDMAP;

    private static final long[] BITS = {
        VM_READ, VM_WRITE, VM_EXEC, VM_SHARED, VM_MAYREAD, VM_MAYWRITE, VM_MAYEXEC, VM_MAYSHARE,
        VM_GROWSDOWN, VM_PFNMAP, VM_LOCKED, VM_IO, VM_DONTCOPY, VM_DONTEXPAND, VM_ACCOUNT,
        VM_NORESERVE, VM_HUGETLB, VM_MIXEDMAP, VM_HUGEPAGE, VM_NOHUGEPAGE, VM_MERGEABLE, VM_UFFD_WP,
    };
    private static final String[] NAMES = {
        "rd", "wr", "ex", "sh", "mr", "mw", "me", "ms", "gd", "pf", "lo", "io", "dc", "de", "ac",
        "nr", "ht", "mm", "hg", "nh", "mg", "uw",
    };

    private VmFlags() {
    }

    /**
     * The flags as the two-letter mnemonics of {@code /proc/PID/smaps} "VmFlags", e.g.
     * {@code "rd wr mr mw"}; unknown bits are shown in hex.
     */
    public static String toString(long flags) {
        StringBuilder sb = new StringBuilder();
        long rest = flags;
        for (int i = 0; i < BITS.length; i++) {
            if ((flags & BITS[i]) != 0) {
                if (sb.length() > 0) sb.append(' ');
                sb.append(NAMES[i]);
                rest &= ~BITS[i];
            }
        }
        if (rest != 0) {
            if (sb.length() > 0) sb.append(' ');
            sb.append("0x").append(Long.toHexString(rest));
        }
        return sb.toString();
    }
}
