package hmm4j.kernel.mm;

import hmm4j.sim.sync.SpinLock;
import java.util.ArrayList;
import java.util.List;

/**
 * The two memory-policy entry points that migrate pages (mm/mempolicy.c): {@code mbind} with
 * {@code MPOL_MF_MOVE} ({@code do_mbind}, {@code queue_pages_range}, {@code mbind_range}) and
 * the {@code migrate_pages} system call ({@code do_migrate_pages}, {@code migrate_to_node}).
 *
 * <p>Overview. Both first queue (isolate) the pages to move with the mmap lock held, drop the
 * lock, then hand the list to {@link MigratePages#migratePages} ({@code MIGRATE_SYNC}), which
 * migrates page by page exactly as for {@code move_pages}. {@link #mbind} queues the present
 * pages of [start, start + len) that are on a node outside the policy's node mask
 * ({@code MPOL_MF_INVERT}) and moves them to the mask's first node; {@link #migratePages2}
 * moves every page of the address space that is on a node of {@code from} to the node of
 * {@code to} at the same position (the kernel's {@code nodes_remap} pairing), one source node
 * at a time. Pages are placed on nodes by {@link Page#nid} (0 at allocation).
 *
 * <p>Notifiers. One {@code MMU_NOTIFY_CLEAR}, owner none, blockable, over each migrated page,
 * from {@code try_to_migrate_one}; queueing sends none.
 *
 * <p>Locking, in the kernel's order (Linux 6.13 and later): {@link #mbind} takes the mmap lock
 * for write (which in the model write-locks every VMA, as {@code MPOL_MF_WRLOCK}'s
 * {@code vma_start_write} does for the VMAs walked) while queueing and setting the policy, and drops the mmap lock before migrating;
 * {@link #migratePages2} takes the mmap lock for read around each source node's queueing
 * ({@code migrate_to_node}) and migrates without it. Migration takes the folio lock, the
 * anon_vma rwsem for read, the notifier start, the page-table lock. The caller holds an
 * {@code mm_users} pin of {@code mm} ({@code get_task_mm} for {@code migrate_pages}).
 *
 * <p>Differences from the kernel: no policy is stored (nothing in the model allocates by
 * policy), so {@code mbind}'s {@code mbind_range} VMA split and merge are not modelled;
 * modes are validated and {@code MPOL_DEFAULT} moves nothing. The destination of {@code mbind}
 * is the mask's first node for every mode (the kernel interleaves for
 * {@code MPOL_INTERLEAVE}). Pages the model does not migrate (shared, KSM, huge, device, page
 * cache; {@link MigratePages#isolate}) are skipped, counted as failures only with
 * {@code MPOL_MF_MOVE_ALL} or a non-shared page (the kernel skips shared pages under
 * {@code MPOL_MF_MOVE} without counting them). No cpuset, permission or node-online checks.
 */
public final class Mempolicy {
    /** {@code MPOL_DEFAULT}. */
    public static final int MPOL_DEFAULT = 0;
    /** {@code MPOL_PREFERRED}. */
    public static final int MPOL_PREFERRED = 1;
    /** {@code MPOL_BIND}. */
    public static final int MPOL_BIND = 2;
    /** {@code MPOL_INTERLEAVE}. */
    public static final int MPOL_INTERLEAVE = 3;
    /** {@code MPOL_LOCAL}. */
    public static final int MPOL_LOCAL = 4;
    /** {@code MPOL_PREFERRED_MANY}. */
    public static final int MPOL_PREFERRED_MANY = 5;
    /** {@code MPOL_WEIGHTED_INTERLEAVE}: one past the last mode the model accepts is {@code MPOL_MAX}. */
    public static final int MPOL_WEIGHTED_INTERLEAVE = 6;
    /** {@code MPOL_MF_STRICT}: fail with {@code -EIO} if a page could not be moved. */
    public static final int MPOL_MF_STRICT = 1;
    /** {@code MPOL_MF_MOVE}: move pages mapped only by this process. */
    public static final int MPOL_MF_MOVE = 1 << 1;
    /** {@code MPOL_MF_MOVE_ALL}: move shared pages too. */
    public static final int MPOL_MF_MOVE_ALL = 1 << 2;
    /** The number of nodes the model's node masks cover ({@code MAX_NUMNODES}). */
    public static final int MAX_NUMNODES = 64;

    private Mempolicy() {
    }

    /**
     * {@code mbind(start, len, mode, nodemask, flags)} for {@code mm}; {@code nodemask} is a bit
     * per node. May sleep.
     *
     * @return 0, {@code -EINVAL} (an unaligned start, an overflowing range, an unknown mode or
     *         flag, an empty mask for a mode that needs one), {@code -EFAULT} (a hole in the
     *         range), {@code -EIO} ({@code MPOL_MF_STRICT} and a page not moved)
     */
    public static int mbind(MmStruct mm, long start, long len, int mode, long nodemask, int flags) {
        if ((flags & ~(MPOL_MF_STRICT | MPOL_MF_MOVE | MPOL_MF_MOVE_ALL)) != 0 || mode < 0
                || mode > MPOL_WEIGHTED_INTERLEAVE || (start & ~Pte.PAGE_MASK) != 0) {
            return -Errno.EINVAL;
        }
        boolean needsNodes = mode != MPOL_DEFAULT && mode != MPOL_LOCAL && mode != MPOL_PREFERRED;
        if ((needsNodes && nodemask == 0) || ((mode == MPOL_DEFAULT || mode == MPOL_LOCAL) && nodemask != 0)) {
            return -Errno.EINVAL;
        }
        long end = start + ((len + Pte.PAGE_SIZE - 1) & Pte.PAGE_MASK);
        if (Long.compareUnsigned(end, start) < 0) {
            return -Errno.EINVAL;
        }
        if (end == start) {
            return 0;
        }
        boolean move = (flags & (MPOL_MF_MOVE | MPOL_MF_MOVE_ALL)) != 0 && nodemask != 0;
        List<MigratePages.Isolated> list = new ArrayList<>();
        int failed = 0;
        int err = 0;
        mm.mmapWriteLock();
        try {
            long next = start;
            for (Vma vma : mm.vmas("mbind").intersecting(start, end)) {
                if (vma.vmStart() > next) {
                    break;
                }
                if (move) {
                    failed += queue(mm, vma, Math.max(start, vma.vmStart()), Math.min(end, vma.vmEnd()),
                            nodemask, true, flags, list);
                }
                next = vma.vmEnd();
            }
            if (next < end) {
                err = -Errno.EFAULT;
            }
        } finally {
            mm.mmapWriteUnlock();
        }
        if (err != 0) {
            // putback_movable_pages: the queued pages go back with their isolation reference.
            for (MigratePages.Isolated iso : list) {
                iso.page().put();
            }
            return err;
        }
        if (!list.isEmpty()) {
            failed += MigratePages.migratePages(list, MigratePages.MIGRATE_SYNC, new int[list.size()],
                    Long.numberOfTrailingZeros(nodemask));
        }
        return failed != 0 && (flags & MPOL_MF_STRICT) != 0 ? -Errno.EIO : 0;
    }

    /**
     * {@code migrate_pages(pid, maxnode, from, to)} for {@code mm} (the target's, with the
     * caller's {@code mm_users} pin); {@code flags} is {@link #MPOL_MF_MOVE} or, for a caller
     * with {@code CAP_SYS_NICE}, {@link #MPOL_MF_MOVE_ALL}. May sleep.
     *
     * @return the number of pages that could not be moved, or {@code -EINVAL} for an empty
     *         {@code to} mask paired with a non-empty {@code from}
     */
    public static int migratePages2(MmStruct mm, long from, long to, int flags) {
        if (from == 0) {
            return 0;
        }
        if (to == 0) {
            return -Errno.EINVAL;
        }
        int notMoved = 0;
        int toWeight = Long.bitCount(to);
        int ordinal = 0;
        for (long rest = from; rest != 0; rest &= rest - 1, ordinal++) {
            int source = Long.numberOfTrailingZeros(rest);
            int dest = nthSetBit(to, ordinal % toWeight);
            if (source == dest) {
                continue;
            }
            notMoved += migrateToNode(mm, source, dest, flags);
        }
        return notMoved;
    }

    /** {@code migrate_to_node}: queue under the mmap read lock, migrate without it. */
    private static int migrateToNode(MmStruct mm, int source, int dest, int flags) {
        List<MigratePages.Isolated> list = new ArrayList<>();
        int failed = 0;
        mm.mmapReadLock();
        try {
            for (Vma vma : mm.vmas("migrate_to_node").intersecting(0, Pte.TASK_SIZE)) {
                failed += queue(mm, vma, vma.vmStart(), vma.vmEnd(), 1L << source, false, flags, list);
            }
        } finally {
            mm.mmapReadUnlock();
        }
        if (!list.isEmpty()) {
            failed += MigratePages.migratePages(list, MigratePages.MIGRATE_SYNC, new int[list.size()], dest);
        }
        return failed;
    }

    /**
     * {@code queue_pages_range} over [start, end) of {@code vma}: isolates each present page
     * whose node is in {@code nodes} (outside it if {@code invert}). The mmap lock is held.
     *
     * @return the number of pages that should have moved and could not be queued
     */
    private static int queue(MmStruct mm, Vma vma, long start, long end, long nodes, boolean invert, int flags,
            List<MigratePages.Isolated> list) {
        if (vma.hasAny(VmFlags.VM_IO | VmFlags.VM_PFNMAP | VmFlags.VM_MIXEDMAP)) {
            return 0;
        }
        PhysMem phys = PhysMem.of(mm.kernel());
        int failed = 0;
        for (long a = start; a < end; a += Pte.PAGE_SIZE) {
            long pte;
            SpinLock ptl = mm.pageTableLock();
            ptl.lock();
            try {
                pte = mm.pgd("queue_pages").get(a);
            } finally {
                ptl.unlock();
            }
            if (!Pte.isPresent(pte) || Pte.isZero(pte) || Pte.isSpecial(pte)) {
                continue;
            }
            Page p = phys.pfnToPage(Pte.pfn(pte));
            if (p == null || p.nid() < 0 || p.nid() >= MAX_NUMNODES
                    || (((nodes >>> p.nid()) & 1) != 0) == invert) {
                continue;
            }
            int[] err = new int[1];
            MigratePages.Isolated iso = MigratePages.isolate(mm, a, err);
            if (iso != null) {
                list.add(iso);
            } else if ((flags & MPOL_MF_MOVE_ALL) != 0 || p.mapcount() <= 1) {
                failed++;
            }
        }
        return failed;
    }

    private static int nthSetBit(long mask, int n) {
        long m = mask;
        for (int i = 0; i < n; i++) {
            m &= m - 1;
        }
        return Long.numberOfTrailingZeros(m);
    }
}
