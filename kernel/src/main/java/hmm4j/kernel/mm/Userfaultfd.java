package hmm4j.kernel.mm;

import hmm4j.kernel.mm.notifier.MmuNotifierEvent;
import hmm4j.kernel.mm.notifier.MmuNotifierRange;
import hmm4j.sim.Kernel;
import hmm4j.sim.sync.RwSemaphore;
import hmm4j.sim.sync.SpinLock;
import java.util.HashSet;
import java.util.Set;

/**
 * Userfaultfd write-protection (fs/userfaultfd.c {@code userfaultfd_register},
 * {@code userfaultfd_writeprotect}; mm/userfaultfd.c {@code mwriteprotect_range},
 * {@code uffd_wp_range}; mm/mprotect.c {@code change_protection} with {@code MM_CP_UFFD_WP} /
 * {@code MM_CP_UFFD_WP_RESOLVE}).
 *
 * <p>Overview. A context ({@link #create}, {@code userfaultfd(2)} with
 * {@code UFFD_FEATURE_SIGBUS}) registers private anonymous ranges for write-protect faults
 * ({@link #register}: {@link VmFlags#VM_UFFD_WP} on the VMAs, under the mmap write lock).
 * {@link #writeprotect} with {@code enable} write-protects every present entry of the range and
 * marks it uffd-wp; a CPU write to a marked entry then fails with {@code VM_FAULT_SIGBUS}
 * (the fault is the user's to resolve, {@code handle_userfault}) until {@link #writeprotect}
 * without {@code enable} resolves it; the next write then faults the entry writable as usual.
 *
 * <p>Notifiers. Each VMA piece of the range gets one {@code MMU_NOTIFY_PROTECTION_VMA}
 * invalidation, owner none, blockable, over the piece, around its entry changes (protecting
 * and resolving alike), outside the page-table lock.
 *
 * <p>Locking: {@code mwriteprotect_range} takes the mmap lock for read, then the context's
 * {@code map_changing_lock} for read (and fails with {@code -EAGAIN} while a non-cooperative
 * event is changing the layout, {@code mmap_changing}); then per piece the notifier start, the
 * page-table lock, the notifier end. The caller holds an {@code mm_users} pin
 * ({@code mmget_not_zero} in {@code userfaultfd_writeprotect}).
 *
 * <p>Differences from the kernel: no fault delivery to a handler thread (the context behaves as
 * with {@code UFFD_FEATURE_SIGBUS}); the uffd-wp bit of an entry is kept beside the page table,
 * per page address, and counts only in a VMA still registered; no PTE markers for none or
 * swapped entries, no huge or file-backed ranges, no missing/minor modes; a resolved entry stays
 * read-only until its next write fault (the kernel may make it writable at once,
 * {@code MM_CP_TRY_CHANGE_WRITABLE}); the invalidation is per VMA piece, not started lazily per
 * page-table span as the kernel does (a superset of its ranges). The context holds no
 * {@code mm_count} reference.
 */
public final class Userfaultfd {
    /** {@code UFFDIO_REGISTER_MODE_WP}. */
    public static final int UFFDIO_REGISTER_MODE_WP = 1 << 1;
    /** The lockdep class of {@code ctx->map_changing_lock}. */
    public static final String MAP_CHANGING_LOCK = "&ctx->map_changing_lock";

    private final MmStruct mm;
    private final RwSemaphore mapChangingLock;
    private final Set<Long> wp = new HashSet<>();
    private volatile int mmapChanging;

    /** The contexts of one machine, by mm. */
    private static final class Registry {
        final java.util.Map<MmStruct, Userfaultfd> ctxs = new java.util.IdentityHashMap<>();
    }

    private Userfaultfd(MmStruct mm) {
        this.mm = mm;
        this.mapChangingLock = new RwSemaphore(mm.kernel(), MAP_CHANGING_LOCK, mm.name() + "->uffd->map_changing_lock");
    }

    /** {@code userfaultfd(2)}: a context for {@code mm} (one per mm in the model). */
    public static Userfaultfd create(MmStruct mm) {
        Registry r = mm.kernel().component(Registry.class, Registry::new);
        synchronized (r) {
            return r.ctxs.computeIfAbsent(mm, Userfaultfd::new);
        }
    }

    /** The context's {@code mmap_changing}: non-zero makes {@link #writeprotect} fail with -EAGAIN. */
    public void setMmapChanging(boolean changing) {
        mmapChanging = changing ? 1 : 0;
    }

    /**
     * {@code UFFDIO_REGISTER} with {@link #UFFDIO_REGISTER_MODE_WP} of [start, start + len):
     * the private anonymous VMAs of the range get {@link VmFlags#VM_UFFD_WP}. Mmap write lock.
     *
     * @return 0, {@code -EINVAL} for an unaligned or empty range, another mode, or a VMA that
     *         cannot be registered; {@code -ENOMEM} for a hole (nothing changed)
     */
    public int register(long start, long len, int mode) {
        if (mode != UFFDIO_REGISTER_MODE_WP || !Pte.isPageAligned(start) || len <= 0 || !Pte.isPageAligned(len)
                || start + len > Pte.TASK_SIZE) {
            return -Errno.EINVAL;
        }
        long end = start + len;
        mm.mmapWriteLock();
        try {
            VmaTree vmas = mm.vmas("userfaultfd_register");
            if (!vmas.isRangeMapped(start, end)) {
                return -Errno.ENOMEM;
            }
            for (Vma vma : vmas.intersecting(start, end)) {
                if (vma.isShared() || !vma.isAnonymous() || vma.hasAny(VmFlags.VM_SPECIAL | VmFlags.VM_HUGETLB)) {
                    return -Errno.EINVAL;
                }
            }
            HugeMemory.splitHugePmdEdges(mm, start, end);
            for (Vma vma : vmas.intersecting(start, end)) {
                long from = Math.max(start, vma.vmStart());
                long to = Math.min(end, vma.vmEnd());
                vmas.applyFlags(from, to, vma.flags() | VmFlags.VM_UFFD_WP);
            }
            return 0;
        } finally {
            mm.mmapWriteUnlock();
        }
    }

    /**
     * {@code UFFDIO_WRITEPROTECT} → {@code mwriteprotect_range} of [start, start + len)
     * (see the class comment). May sleep.
     *
     * @return 0; {@code -EINVAL} for an unaligned or empty range; {@code -EAGAIN} while
     *         {@code mmap_changing}; {@code -ENOENT} if part of the range is not registered for
     *         write-protect (the pieces before it are done)
     */
    public int writeprotect(long start, long len, boolean enable) {
        if (!Pte.isPageAligned(start) || len <= 0 || !Pte.isPageAligned(len) || start + len > Pte.TASK_SIZE) {
            return -Errno.EINVAL;
        }
        long end = start + len;
        mm.mmapReadLock();
        try {
            mapChangingLock.downRead();
            try {
                if (mmapChanging != 0) {
                    return -Errno.EAGAIN;
                }
                long addr = start;
                VmaTree vmas = mm.vmas("mwriteprotect_range");
                while (addr < end) {
                    Vma vma = vmas.vmaLookup(addr);
                    if (vma == null || !vma.hasAny(VmFlags.VM_UFFD_WP)) {
                        return -Errno.ENOENT;
                    }
                    long pieceEnd = Math.min(end, vma.vmEnd());
                    uffdWpRange(addr, pieceEnd, enable);
                    addr = pieceEnd;
                }
                return 0;
            } finally {
                mapChangingLock.upRead();
            }
        } finally {
            mm.mmapReadUnlock();
        }
    }

    /** {@code uffd_wp_range}: one PROTECTION_VMA invalidation around the piece's entries. */
    private void uffdWpRange(long start, long end, boolean enable) {
        HugeMemory.splitHugePmdEdges(mm, start, end);
        MmuNotifierRange range = new MmuNotifierRange(MmuNotifierEvent.MMU_NOTIFY_PROTECTION_VMA, 0, mm, start, end);
        range.invalidateRangeStart();
        SpinLock ptl = mm.pageTableLock();
        ptl.lock();
        try {
            PageTable pt = mm.pgd("uffd_wp_range");
            PteList entries = PteList.collect(pt, start, end);
            for (int i = 0; i < entries.size(); i++) {
                long addr = entries.addr(i);
                long pte = entries.pte(i);
                if (!Pte.isPresent(pte) || Pte.isHuge(pte)) {
                    continue;
                }
                synchronized (wp) {
                    if (enable) {
                        wp.add(addr);
                    } else {
                        wp.remove(addr);
                    }
                }
                if (enable && Pte.isWrite(pte)) {
                    pt.set(addr, Pte.wrprotect(pte));
                }
            }
        } finally {
            ptl.unlock();
        }
        range.invalidateRangeEnd();
    }

    /**
     * {@code userfaultfd_pte_wp}: true if the entry at {@code page} of {@code mm} is marked
     * uffd-wp (the caller has checked that its VMA is registered). Does not sleep.
     */
    static boolean pteWp(MmStruct mm, long page) {
        Kernel k = mm.kernel();
        Registry r = k.componentOrNull(Registry.class);
        if (r == null) {
            return false;
        }
        Userfaultfd ctx;
        synchronized (r) {
            ctx = r.ctxs.get(mm);
        }
        if (ctx == null) {
            return false;
        }
        synchronized (ctx.wp) {
            return ctx.wp.contains(page);
        }
    }
}
