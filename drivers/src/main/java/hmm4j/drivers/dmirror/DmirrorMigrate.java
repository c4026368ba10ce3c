package hmm4j.drivers.dmirror;

import static hmm4j.kernel.mm.migrate.MigratePfn.MIGRATE_PFN_COMPOUND;
import static hmm4j.kernel.mm.migrate.MigratePfn.MIGRATE_PFN_MIGRATE;
import static hmm4j.kernel.mm.migrate.MigratePfn.MIGRATE_PFN_VALID;
import static hmm4j.kernel.mm.migrate.MigratePfn.MIGRATE_PFN_WRITE;

import hmm4j.kernel.mm.Errno;
import hmm4j.kernel.mm.Fault;
import hmm4j.kernel.mm.Gfp;
import hmm4j.kernel.mm.HugeMemory;
import hmm4j.kernel.mm.MmStruct;
import hmm4j.kernel.mm.Page;
import hmm4j.kernel.mm.PhysMem;
import hmm4j.kernel.mm.Pte;
import hmm4j.kernel.mm.VmFlags;
import hmm4j.kernel.mm.Vma;
import hmm4j.kernel.mm.migrate.MigrateDevice;
import hmm4j.kernel.mm.migrate.MigratePfn;
import hmm4j.kernel.mm.migrate.MigrateVma;
import java.util.function.BooleanSupplier;

/**
 * Migration between system memory and the device's memory (the MIGRATE commands and
 * {@code dmirror_devmem_fault} of lib/test_hmm.c): MIGRATE_TO_DEV ({@code dmirror_migrate_to_device}, {@code dmirror_migrate_alloc_and_copy},
 * {@code dmirror_migrate_finalize_and_map}), MIGRATE_TO_SYS ({@code dmirror_migrate_to_system})
 * and the CPU fault on a device page ({@code dmirror_devmem_fault}, the pgmap's
 * {@code migrate_to_ram}), with {@code dmirror_devmem_fault_alloc_and_copy} shared by the two
 * ways back.
 *
 * <p>The device's own migrations raise {@code MMU_NOTIFY_MIGRATE} invalidations owned by the
 * device, which its mirrors skip ({@code dmirror_interval_invalidate}). The device therefore updates the tables itself,
 * under each mirror's mutex:
 * <ul>
 *   <li>to the device: the migrating mirror maps the new device pages (finalize and map);</li>
 *   <li>back to system memory: the entries of the pages being migrated are erased before
 *       their data is copied.</li>
 * </ul>
 * lib/test_hmm.c does this in the one mirror that migrates (to the device) or that the backing
 * link names (back). The model does it in every open mirror of the device on the address
 * space being migrated, before the data is copied: another open file of the same device on
 * the same process would otherwise keep an entry naming a page the CPU no longer maps there
 * (the validator would report it), and a hole filled in {@code migrate_vma_pages} would be
 * mapped by the CPU while the migrating mirror still names the zero page. Erasing more only
 * costs a refault.
 *
 * <p>Locking. MIGRATE_TO_DEV and MIGRATE_TO_SYS pin the address space and hold the mmap read
 * lock from setup to finalize; {@code migrate_to_ram} runs in the fault handler with the mmap
 * lock held and the fault page locked. Mirror mutexes are taken one at a time, inside
 * {@code mirrors_lock}.
 */
final class DmirrorMigrate {
    /** Pages per {@code migrate_vma} of the two commands ({@code PTRS_PER_PTE}: one PMD's worth). */
    static final int DMIRROR_MIGRATE_CHUNK = 512;

    private DmirrorMigrate() {
    }

    /** {@code dmirror_migrate_to_device}, then the read-back of the range from the table into {@code ptr}. */
    static int dmirrorMigrateToDevice(Dmirror dmirror, HmmDmirrorCmd cmd) {
        long start = cmd.addr;
        long end = start + (cmd.npages << Pte.PAGE_SHIFT);
        MmStruct mm = dmirror.mm();
        if (!mm.mmgetNotZero()) {
            return -Errno.EINVAL;
        }
        mm.mmapReadLock();
        try {
            int ret = forEachChunk(dmirror, mm, start, end,
                    MigrateVma.MIGRATE_VMA_SELECT_SYSTEM | MigrateVma.MIGRATE_VMA_SELECT_COMPOUND, args -> {
                dmirrorMigrateAllocAndCopy(args, dmirror);
                MigrateDevice.migrateVmaPages(args);
                dmirrorMigrateFinalizeAndMap(args, dmirror);
                MigrateDevice.migrateVmaFinalize(args);
            });
            if (ret != 0) {
                return ret;
            }
        } finally {
            mm.mmapReadUnlock();
            mm.mmput();
        }
        return DmirrorReadWrite.readBack(dmirror, cmd, start, end);
    }

    /** {@code dmirror_migrate_to_system}: {@code cpages} counts the source entries that were migrated. */
    static int dmirrorMigrateToSystem(Dmirror dmirror, HmmDmirrorCmd cmd) {
        long start = cmd.addr;
        long end = start + (cmd.npages << Pte.PAGE_SHIFT);
        MmStruct mm = dmirror.mm();
        if (!mm.mmgetNotZero()) {
            return -Errno.EINVAL;
        }
        long[] migrated = new long[1];
        mm.mmapReadLock();
        try {
            return forEachChunk(dmirror, mm, start, end,
                    dmirror.mdevice().dmirrorSelectDevice() | MigrateVma.MIGRATE_VMA_SELECT_COMPOUND, args -> {
                dmirrorDevmemFaultAllocAndCopy(args, dmirror.mdevice(), dmirror::takeFailAlloc);
                MigrateDevice.migrateVmaPages(args);
                migrated[0] += dmirrorSuccessfulMigratedPages(args);
                MigrateDevice.migrateVmaFinalize(args);
            });
        } finally {
            mm.mmapReadUnlock();
            mm.mmput();
            cmd.cpages = migrated[0];
        }
    }

    /** One migration step on a set-up {@link MigrateVma}. */
    private interface Step {
        void run(MigrateVma args);
    }

    /**
     * The chunk loop of both commands: per chunk of at most {@link #DMIRROR_MIGRATE_CHUNK} pages,
     * clipped to its VMA, which must exist and be readable ({@code -EINVAL}); setup, then
     * {@code step}. mmap lock held.
     */
    private static int forEachChunk(Dmirror dmirror, MmStruct mm, long start, long end, int select, Step step) {
        for (long addr = start; Long.compareUnsigned(addr, end) < 0; ) {
            Vma vma = Long.compareUnsigned(addr, Pte.TASK_SIZE) < 0 ? mm.vmaLookup(addr) : null;
            if (vma == null || !vma.hasAny(VmFlags.VM_READ)) {
                return -Errno.EINVAL;
            }
            long next = Long.compareUnsigned(end - addr, (long) DMIRROR_MIGRATE_CHUNK << Pte.PAGE_SHIFT) > 0
                    ? addr + ((long) DMIRROR_MIGRATE_CHUNK << Pte.PAGE_SHIFT) : end;
            if (Long.compareUnsigned(next, vma.vmEnd()) > 0) {
                next = vma.vmEnd();
            }
            int n = (int) ((next - addr) >>> Pte.PAGE_SHIFT);
            MigrateVma args = new MigrateVma(mm, vma, addr, next, new long[n], new long[n], dmirror.mdevice(), select);
            int ret = MigrateDevice.migrateVmaSetup(args);
            if (ret != 0) {
                return ret;
            }
            step.run(args);
            addr = next;
        }
        return 0;
    }

    /**
     * {@code dmirror_migrate_alloc_and_copy}: a device page for every collected entry, filled
     * from the source or zeroed for a hole, writable if the source was (or the hole's VMA is).
     * A compound entry (a THP, or a compound hole) gets a huge device folio; when that fails
     * (no huge folio, or FAIL_ALLOC, which is one-shot and fails the first allocation) it gets
     * 512 base pages instead, and {@code migrate_vma_pages} splits the source. Before the copy,
     * the device's other mirrors on this address space forget the collected pages, and this
     * mirror the holes it may map as the zero page.
     */
    static void dmirrorMigrateAllocAndCopy(MigrateVma args, Dmirror dmirror) {
        long[] src = args.src();
        long[] dst = args.dst();
        int npages = args.npages();
        long[] whole = spread(src, npages);
        DmirrorDevice mdevice = dmirror.mdevice();
        eraseInMirrors(mdevice, args.mm(), args.start(), npages,
                (m, i) -> (whole[i] & MIGRATE_PFN_MIGRATE) != 0 && (m != dmirror || (whole[i] & MIGRATE_PFN_VALID) == 0));
        PhysMem phys = PhysMem.of(dmirror.kernel());
        for (int i = 0; i < npages; ) {
            if ((src[i] & MIGRATE_PFN_MIGRATE) == 0) {
                i++;
                continue;
            }
            boolean isLarge = (src[i] & MIGRATE_PFN_COMPOUND) != 0;
            Page spage = MigratePfn.migratePfnToPage(phys, src[i]);
            boolean write = (src[i] & MIGRATE_PFN_WRITE) != 0 || (spage == null && args.vma().hasAny(VmFlags.VM_WRITE));
            Page dpage = dmirror.takeFailAlloc() ? null : mdevice.dmirrorDevmemAllocPage(dmirror, isLarge);
            int nr = isLarge ? HugeMemory.HPAGE_PMD_NR : 1;
            if (dpage == null) {
                if (isLarge) {
                    // The huge allocation failed: base pages for each page of the THP.
                    for (int k = 0; k < nr && i + k < npages; k++) {
                        Page d = mdevice.dmirrorDevmemAllocPage(dmirror, false);
                        if (d == null) {
                            continue;
                        }
                        copyOrClear(phys, d, spage, k);
                        dst[i + k] = MigratePfn.migratePfn(d.pfn()) | (write ? MIGRATE_PFN_WRITE : 0);
                    }
                }
                i += nr;
                continue;
            }
            for (int k = 0; k < nr; k++) {
                copyOrClear(phys, phys.pfnToPage(dpage.pfn() + k), spage, k);
            }
            dst[i] = MigratePfn.migratePfn(dpage.pfn()) | (write ? MIGRATE_PFN_WRITE : 0)
                    | (isLarge ? MIGRATE_PFN_COMPOUND : 0);
            i += nr;
        }
    }

    /** Page {@code k} of the destination gets page {@code k} of the source folio, or zeros for a hole. */
    private static void copyOrClear(PhysMem phys, Page dpage, Page spage, int k) {
        if (spage != null) {
            dpage.copyFrom(phys.pfnToPage(spage.pfn() + k));
        } else {
            dpage.clear();
        }
    }

    /**
     * The {@code src} entries with each compound entry's flags spread over the 511 entries it
     * stands for (which are 0 in {@code src}): what each page of the range is doing.
     */
    private static long[] spread(long[] src, int npages) {
        long[] out = java.util.Arrays.copyOf(src, npages);
        for (int i = 0; i < npages; i++) {
            if ((src[i] & MIGRATE_PFN_COMPOUND) != 0) {
                for (int k = 1; k < HugeMemory.HPAGE_PMD_NR && i + k < npages; k++) {
                    out[i + k] = src[i];
                }
            }
        }
        return out;
    }

    /** {@code dmirror_migrate_finalize_and_map}: under the mutex, maps every migrated page in this mirror's table. */
    static void dmirrorMigrateFinalizeAndMap(MigrateVma args, Dmirror dmirror) {
        PhysMem phys = PhysMem.of(dmirror.kernel());
        long[] src = args.src();
        long[] dst = args.dst();
        long vpn = args.start() >>> Pte.PAGE_SHIFT;
        dmirror.mutex().lock();
        try {
            for (int i = 0; i < args.npages(); i++) {
                Page dpage = MigratePfn.migratePfnToPage(phys, dst[i]);
                if ((src[i] & MIGRATE_PFN_MIGRATE) == 0 || dpage == null) {
                    continue;
                }
                int tag = (dst[i] & MIGRATE_PFN_WRITE) != 0 ? DmirrorPageTable.DPT_XA_TAG_WRITE
                        : DmirrorPageTable.DPT_XA_TAG_RO;
                int nr = (dst[i] & MIGRATE_PFN_COMPOUND) != 0 ? HugeMemory.HPAGE_PMD_NR : 1;
                for (int k = 0; k < nr; k++) {
                    dmirror.pt().store(vpn + i + k, phys.pfnToPage(dpage.pfn() + k), tag);
                }
            }
            DmirrorValidator.checkTable(dmirror, "after mapping migrated pages");
        } finally {
            dmirror.mutex().unlock();
        }
    }

    /**
     * {@code dmirror_devmem_fault} ({@code migrate_to_ram}): the CPU touched one of the
     * device's pages. Migrates that page back through a one-page {@code migrate_vma} with the
     * fault page set; FAIL_ALLOC of the mirror the backing link names applies (the link is
     * followed only under the device lock: Q2).
     *
     * @return 0, {@code VM_FAULT_SIGBUS} (setup failed) or {@code VM_FAULT_OOM} (no system page)
     */
    static int dmirrorDevmemFault(DmirrorDevice mdevice, Fault.VmFault vmf) {
        // A huge device page faulted through its PMD migrates whole; a PTE-mapped page of a
        // folio not split yet (vmf->pte set) migrates alone.
        int order = Pte.isHuge(vmf.origPte()) ? vmf.page().pgmap().folioOrder(vmf.page()) : 0;
        long size = Pte.PAGE_SIZE << order;
        long start = vmf.address() & -size;
        int nr = 1 << order;
        long[] src = new long[nr];
        long[] dst = new long[nr];
        int flags = MigrateVma.MIGRATE_VMA_SELECT_DEVICE_PRIVATE | (order > 0 ? MigrateVma.MIGRATE_VMA_SELECT_COMPOUND : 0);
        MigrateVma args = new MigrateVma(vmf.mm(), vmf.vma(), start, start + size, src, dst, mdevice, flags)
                .faultPage(vmf.page());
        if (MigrateDevice.migrateVmaSetup(args) != 0) {
            return Fault.VM_FAULT_SIGBUS;
        }
        int ret = dmirrorDevmemFaultAllocAndCopy(args, mdevice, () -> mdevice.backingMirrorTakeFailAlloc(vmf.page()));
        if (ret != 0) {
            MigrateDevice.migrateVmaPages(args);
            MigrateDevice.migrateVmaFinalize(args);
            return ret;
        }
        MigrateDevice.migrateVmaPages(args);
        MigrateDevice.migrateVmaFinalize(args);
        return 0;
    }

    /**
     * {@code dmirror_devmem_fault_alloc_and_copy}: every collected device page of this device
     * loses its entries in the device's mirrors on this address space, then gets a system page
     * with its data; a compound entry (a huge device folio) gets a system THP, or 512 base pages
     * when FAIL_ALLOC (one-shot) fails that allocation, and {@code migrate_vma_pages} then splits
     * the device folio. An allocation fails when {@code failAlloc} says so.
     *
     * @return 0, or {@code VM_FAULT_OOM} when a base-page allocation failed (the rest is not
     *         migrated; the pages of a THP taken so far are given back)
     */
    static int dmirrorDevmemFaultAllocAndCopy(MigrateVma args, DmirrorDevice mdevice, BooleanSupplier failAlloc) {
        long[] src = args.src();
        long[] dst = args.dst();
        int npages = args.npages();
        long[] whole = spread(src, npages);
        eraseInMirrors(mdevice, args.mm(), args.start(), npages,
                (m, i) -> (whole[i] & (MIGRATE_PFN_MIGRATE | MIGRATE_PFN_VALID)) == (MIGRATE_PFN_MIGRATE | MIGRATE_PFN_VALID));
        PhysMem phys = PhysMem.of(mdevice.kernel());
        for (int i = 0; i < npages; ) {
            Page dpage = MigratePfn.migratePfnToPage(phys, src[i]);
            if (dpage == null || (src[i] & MIGRATE_PFN_MIGRATE) == 0) {
                i++;
                continue;
            }
            boolean large = (src[i] & MIGRATE_PFN_COMPOUND) != 0;
            int nr = large ? HugeMemory.HPAGE_PMD_NR : 1;
            Gfp.mightAlloc(mdevice.kernel(), Gfp.GFP_KERNEL);
            Page spage = failAlloc.getAsBoolean() ? null : large ? phys.allocFolio(HugeMemory.HPAGE_PMD_ORDER)
                    : phys.allocPage();
            if (spage == null && !large) {
                return Fault.VM_FAULT_OOM;
            }
            if (spage != null) {
                spage.lock();
                dst[i] = MigratePfn.migratePfn(spage.pfn()) | (src[i] & MIGRATE_PFN_WRITE)
                        | (large ? MIGRATE_PFN_COMPOUND : 0);
                for (int k = 0; k < nr; k++) {
                    phys.pfnToPage(spage.pfn() + k).copyFrom(phys.pfnToPage(dpage.pfn() + k));
                }
                i += nr;
                continue;
            }
            // Try with base pages when the large allocation failed.
            for (int k = 0; k < nr; k++) {
                Page p = phys.allocPage();
                if (p == null) {
                    for (int j = k - 1; j >= 0; j--) {
                        Page f = MigratePfn.migratePfnToPage(phys, dst[i + j]);
                        f.unlock();
                        f.put();
                        dst[i + j] = 0;
                    }
                    return Fault.VM_FAULT_OOM;
                }
                p.lock();
                dst[i + k] = MigratePfn.migratePfn(p.pfn());
                p.copyFrom(phys.pfnToPage(dpage.pfn() + k));
            }
            i += nr;
        }
        return 0;
    }

    /** {@code dmirror_successful_migrated_pages}: source entries still VALID and MIGRATE after {@code migrate_vma_pages}. */
    static long dmirrorSuccessfulMigratedPages(MigrateVma args) {
        long n = 0;
        for (int i = 0; i < args.npages(); i++) {
            long s = args.src()[i];
            if ((s & MIGRATE_PFN_VALID) != 0 && (s & MIGRATE_PFN_MIGRATE) != 0) {
                n++;
            }
        }
        return n;
    }

    /** Which entry {@code i} of a migration a mirror must forget. */
    private interface EraseRule {
        boolean erase(Dmirror mirror, int i);
    }

    /** Erases, in every open mirror of {@code mdevice} on {@code mm}, the pages the rule selects, under each mutex. */
    private static void eraseInMirrors(DmirrorDevice mdevice, MmStruct mm, long start, int npages, EraseRule rule) {
        long vpn = start >>> Pte.PAGE_SHIFT;
        mdevice.forEachMirrorOn(mm, m -> {
            m.mutex().lock();
            try {
                for (int i = 0; i < npages; i++) {
                    if (rule.erase(m, i)) {
                        m.pt().erase(vpn + i);
                    }
                }
            } finally {
                m.mutex().unlock();
            }
        });
    }
}
