package hmm4j.kernel.mm.migrate;

import static hmm4j.kernel.mm.migrate.MigratePfn.MIGRATE_PFN_COMPOUND;
import static hmm4j.kernel.mm.migrate.MigratePfn.MIGRATE_PFN_MIGRATE;
import static hmm4j.kernel.mm.migrate.MigratePfn.MIGRATE_PFN_WRITE;

import hmm4j.kernel.mm.Errno;
import hmm4j.kernel.mm.Fault;
import hmm4j.kernel.mm.HugeMemory;
import hmm4j.kernel.mm.MmStruct;
import hmm4j.kernel.mm.Page;
import hmm4j.kernel.mm.PhysMem;
import hmm4j.kernel.mm.Pte;
import hmm4j.kernel.mm.Vma;
import hmm4j.sim.Kernel;
import java.util.ArrayDeque;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.function.Consumer;

/**
 * A device-private driver with huge folios for the THP migration tests, shaped like
 * lib/test_hmm.c's large chunks without the mirror: one pgmap of {@code folios} naturally
 * aligned order-9 folios, migration of whole PMDs both ways with
 * {@code MIGRATE_VMA_SELECT_COMPOUND}, a one-shot failure of the next huge allocation
 * (dmirror's {@code FAIL_ALLOC}: base pages then, and the core splits), and records of the
 * {@code folio_split}, {@code folio_free} and {@code page_free} callbacks.
 *
 * <p>The destination of a compound source is a large folio (device or system) with
 * {@code MIGRATE_PFN_COMPOUND}, or after a failed huge allocation 512 base pages.
 * {@code migrate_to_ram} migrates the whole PMD range of the fault back. Locking: the tests run
 * one process; the lists are thread-safe for the callbacks.
 */
final class HugeTestDevice implements DevPagemapOps {
    private final Kernel kernel;
    private final Object owner;
    private final DevPagemap pgmap;
    private final ArrayDeque<Page> freeFolios = new ArrayDeque<>();
    private final ArrayDeque<Page> freePages = new ArrayDeque<>();
    /** {@code folio_split} calls as "head+index" (index of the tail, or "reset" for the last call). */
    final List<String> splits = new CopyOnWriteArrayList<>();
    /** {@code folio_free} calls as "head order". */
    final List<String> folioFrees = new CopyOnWriteArrayList<>();
    /** Pages given back one by one through {@code page_free}. */
    final List<Page> pagesFreed = new CopyOnWriteArrayList<>();
    private volatile boolean failNextHugeAlloc;
    /** The driver's own step after {@code migrate_vma_setup} (its mirror's update), or null. */
    volatile Consumer<MigrateVma> afterSetup;

    HugeTestDevice(Kernel kernel, Object owner, String name, int folios) {
        this.kernel = kernel;
        this.owner = owner;
        this.pgmap = new DevPagemap(kernel, name, DevPagemap.Type.MEMORY_DEVICE_PRIVATE, owner, this);
        if (pgmap.memremapPages(folios * HugeMemory.HPAGE_PMD_NR, HugeMemory.HPAGE_PMD_NR) != 0) {
            throw new IllegalStateException("memremap_pages failed");
        }
        for (int f = 0; f < folios; f++) {
            freeFolios.add(pgmap.page(f * HugeMemory.HPAGE_PMD_NR));
        }
    }

    DevPagemap pgmap() {
        return pgmap;
    }

    /** The next huge allocation (device folio to the device, system THP back) fails once. */
    void failNextHugeAlloc() {
        failNextHugeAlloc = true;
    }

    private boolean takeFail() {
        boolean f = failNextHugeAlloc;
        failNextHugeAlloc = false;
        return f;
    }

    private synchronized Page takeFolio() {
        return freeFolios.poll();
    }

    private synchronized Page takePage() {
        Page p = freePages.poll();
        if (p == null && !freeFolios.isEmpty()) {
            // Break a free folio into base pages (the device's base-page free list).
            Page head = freeFolios.poll();
            for (int k = 0; k < HugeMemory.HPAGE_PMD_NR; k++) {
                freePages.add(pgmap.page((int) (head.pfn() - pgmap.startPfn()) + k));
            }
            p = freePages.poll();
        }
        return p;
    }

    @Override
    public synchronized void pageFree(Page page) {
        pagesFreed.add(page);
        freePages.add(page);
    }

    @Override
    public synchronized void folioFree(Page head, int order) {
        folioFrees.add("0x" + Long.toHexString(head.pfn()) + " order " + order);
        freeFolios.add(head);
    }

    @Override
    public void folioSplit(Page head, Page tail) {
        splits.add(tail == null ? "reset" : "+" + (tail.pfn() - head.pfn()));
    }

    @Override
    public int migrateToRam(Fault.VmFault vmf) {
        long haddr = vmf.address() & Pte.PMD_MASK;
        int ret = migrateLocked(vmf.mm(), vmf.vma(), haddr, HugeMemory.HPAGE_PMD_NR,
                MigrateVma.MIGRATE_VMA_SELECT_DEVICE_PRIVATE | MigrateVma.MIGRATE_VMA_SELECT_COMPOUND, vmf.page());
        return ret < 0 ? Fault.VM_FAULT_SIGBUS : 0;
    }

    /** MIGRATE_TO_DEV of [start, start + npages pages) with compound selection; the entries migrated, or -errno. */
    int toDevice(MmStruct mm, long start, int npages, int flags) {
        return migrate(mm, start, npages, MigrateVma.MIGRATE_VMA_SELECT_SYSTEM | flags);
    }

    /** MIGRATE_TO_SYS of this device's pages in the range with compound selection. */
    int toSystem(MmStruct mm, long start, int npages) {
        return migrate(mm, start, npages, MigrateVma.MIGRATE_VMA_SELECT_DEVICE_PRIVATE | MigrateVma.MIGRATE_VMA_SELECT_COMPOUND);
    }

    private int migrate(MmStruct mm, long start, int npages, int select) {
        mm.mmapReadLock();
        try {
            Vma vma = mm.vmaLookup(start);
            return vma == null ? -Errno.EINVAL : migrateLocked(mm, vma, start, npages, select, null);
        } finally {
            mm.mmapReadUnlock();
        }
    }

    private int migrateLocked(MmStruct mm, Vma vma, long start, int npages, int select, Page faultPage) {
        long[] src = new long[npages];
        long[] dst = new long[npages];
        MigrateVma args = new MigrateVma(mm, vma, start, start + npages * Pte.PAGE_SIZE, src, dst, owner, select);
        if (faultPage != null) {
            args.faultPage(faultPage);
        }
        int ret = MigrateDevice.migrateVmaSetup(args);
        if (ret != 0) {
            return ret;
        }
        Consumer<MigrateVma> hook = afterSetup;
        if (hook != null) {
            hook.accept(args);
        }
        boolean toDevice = (select & MigrateVma.MIGRATE_VMA_SELECT_SYSTEM) != 0;
        PhysMem phys = PhysMem.of(kernel);
        for (int i = 0; i < npages; ) {
            if ((src[i] & MIGRATE_PFN_MIGRATE) == 0) {
                i++;
                continue;
            }
            boolean large = (src[i] & MIGRATE_PFN_COMPOUND) != 0;
            int nr = large ? HugeMemory.HPAGE_PMD_NR : 1;
            Page spage = MigratePfn.migratePfnToPage(phys, src[i]);
            long write = toDevice ? (src[i] & MIGRATE_PFN_WRITE) | (spage == null ? MIGRATE_PFN_WRITE : 0)
                    : src[i] & MIGRATE_PFN_WRITE;
            Page dhead = large && !takeFail() ? allocLarge(toDevice, phys) : null;
            if (dhead != null) {
                for (int k = 0; k < nr; k++) {
                    copy(phys, phys.pfnToPage(dhead.pfn() + k), spage, k);
                }
                dst[i] = MigratePfn.migratePfn(dhead.pfn()) | write | MIGRATE_PFN_COMPOUND;
            } else {
                for (int k = 0; k < nr; k++) {
                    Page d = toDevice ? takePage() : phys.allocPage();
                    if (d == null) {
                        continue;
                    }
                    if (toDevice) {
                        DevPagemap.zoneDevicePageInit(d);
                    } else {
                        d.lock();
                    }
                    copy(phys, d, spage, k);
                    dst[i + k] = MigratePfn.migratePfn(d.pfn()) | write;
                }
            }
            i += nr;
        }
        MigrateDevice.migrateVmaPages(args);
        int migrated = 0;
        for (int i = 0; i < npages; i++) {
            if ((src[i] & MIGRATE_PFN_MIGRATE) != 0 && dst[i] != 0) {
                migrated++;
            }
        }
        MigrateDevice.migrateVmaFinalize(args);
        return migrated;
    }

    /**
     * An eviction of the whole pgmap ({@code migrate_device_range}) that finds no destination
     * for any page: every collected entry is unmapped, then restored by finalize. Returns the
     * {@code src} entries after {@code migrate_device_range}.
     */
    long[] evictWithoutDestination() {
        int n = pgmap.nrPages();
        long[] src = new long[n];
        long[] dst = new long[n];
        MigrateDevice.migrateDeviceRange(kernel, src, pgmap.startPfn(), n);
        long[] collected = src.clone();
        MigrateDevice.migrateDevicePages(kernel, src, dst, n);
        MigrateDevice.migrateDeviceFinalize(kernel, src, dst, n);
        return collected;
    }

    /**
     * An eviction of the whole pgmap ({@code migrate_device_range}) to system memory, as a
     * driver's release does: a system THP for each compound entry, a base page for each other
     * entry, the contents copied. Returns the {@code src} entries after
     * {@code migrate_device_range}.
     */
    long[] evictToSystem() {
        int n = pgmap.nrPages();
        long[] src = new long[n];
        long[] dst = new long[n];
        MigrateDevice.migrateDeviceRange(kernel, src, pgmap.startPfn(), n);
        long[] collected = src.clone();
        PhysMem phys = PhysMem.of(kernel);
        for (int i = 0; i < n; i++) {
            Page spage = MigratePfn.migratePfnToPage(phys, src[i]);
            if (spage == null || (src[i] & MIGRATE_PFN_MIGRATE) == 0) {
                continue;
            }
            if ((src[i] & MigratePfn.MIGRATE_PFN_COMPOUND) != 0) {
                Page d = allocLarge(false, phys);
                for (int k = 0; k < HugeMemory.HPAGE_PMD_NR; k++) {
                    copy(phys, phys.pfnToPage(d.pfn() + k), spage, k);
                }
                dst[i] = MigratePfn.migratePfn(d.pfn()) | MigratePfn.MIGRATE_PFN_COMPOUND;
                i += HugeMemory.HPAGE_PMD_NR - 1;
            } else {
                Page d = phys.allocPage();
                d.lock();
                copy(phys, d, spage, 0);
                dst[i] = MigratePfn.migratePfn(d.pfn());
            }
        }
        MigrateDevice.migrateDevicePages(kernel, src, dst, n);
        MigrateDevice.migrateDeviceFinalize(kernel, src, dst, n);
        return collected;
    }

    private Page allocLarge(boolean device, PhysMem phys) {
        if (!device) {
            Page p = phys.allocFolio(HugeMemory.HPAGE_PMD_ORDER);
            if (p != null) {
                p.lock();
            }
            return p;
        }
        Page head = takeFolio();
        if (head != null) {
            DevPagemap.zoneDeviceFolioInit(head, HugeMemory.HPAGE_PMD_ORDER);
        }
        return head;
    }

    private static void copy(PhysMem phys, Page d, Page spage, int k) {
        if (spage != null) {
            d.copyFrom(phys.pfnToPage(spage.pfn() + k));
        } else {
            d.clear();
        }
    }
}
