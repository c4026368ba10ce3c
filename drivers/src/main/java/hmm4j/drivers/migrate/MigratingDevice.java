package hmm4j.drivers.migrate;

import static hmm4j.kernel.mm.migrate.MigratePfn.MIGRATE_PFN_MIGRATE;
import static hmm4j.kernel.mm.migrate.MigratePfn.MIGRATE_PFN_WRITE;

import hmm4j.kernel.mm.Errno;
import hmm4j.kernel.mm.Fault;
import hmm4j.kernel.mm.MmStruct;
import hmm4j.kernel.mm.Page;
import hmm4j.kernel.mm.PhysMem;
import hmm4j.kernel.mm.Pte;
import hmm4j.kernel.mm.Vma;
import hmm4j.kernel.mm.migrate.DevPagemap;
import hmm4j.kernel.mm.migrate.DevPagemapOps;
import hmm4j.kernel.mm.migrate.MigrateDevice;
import hmm4j.kernel.mm.migrate.MigratePfn;
import hmm4j.kernel.mm.migrate.MigrateVma;
import hmm4j.sim.Kernel;
import hmm4j.sim.Mark;
import hmm4j.sim.sync.SpinLock;
import java.util.ArrayDeque;

/**
 * A device with a small device-private memory and one ioctl, migrate a range of a process
 * to the device; the range may be larger than the free device memory, which is the error
 * path the two {@link Design}s differ on.
 *
 * <p>Overview. {@link #migrateToDevice} pins the mm, takes the mmap read lock, sets the
 * migration up, allocates and fills a device page per collected entry and commits. When the
 * device runs out of pages the driver answers {@code -ENOMEM}: {@link Design#FINALIZES_ON_ERROR}
 * still calls {@code migrate_vma_pages} and {@code migrate_vma_finalize} (the entries without a
 * destination are restored, as the kernel's contract asks once setup succeeded);
 * {@link Design#SKIPS_FINALIZE_ON_ERROR} returns at once, leaving the collected pages locked,
 * referenced and behind migration entries. A CPU fault on a device page migrates it back
 * ({@code migrate_to_ram}).
 *
 * <p>Locking: the free list is under a spinlock ({@code page_free} may run under a page-table
 * lock); the migration holds an {@code mm_users} pin and the mmap read lock from setup to
 * finalize.
 */
public final class MigratingDevice implements DevPagemapOps {
    /** Coverage mark: the device ran out of pages after migrate_vma_setup (the error path). */
    public static final Mark OUT_OF_DEVICE_MEMORY = Mark.of("migrating-device.out-of-memory",
            "The device ran out of pages after migrate_vma_setup: the driver's error path");

    /** What the driver does when the device runs out of memory after {@code migrate_vma_setup}. */
    public enum Design {
        /** Returns {@code -ENOMEM} without {@code migrate_vma_pages} and {@code migrate_vma_finalize}: the bug. */
        SKIPS_FINALIZE_ON_ERROR,
        /** Commits what it could and finalizes, then returns {@code -ENOMEM}: the fix. */
        FINALIZES_ON_ERROR
    }

    private final Kernel kernel;
    private final Design design;
    private final Object owner = new Object();
    private final DevPagemap pgmap;
    private final SpinLock lock;
    private final ArrayDeque<Page> free = new ArrayDeque<>();

    /** A device of {@code pages} device-private pages. */
    public MigratingDevice(Kernel kernel, String name, int pages, Design design) {
        this.kernel = kernel;
        this.design = design;
        this.lock = new SpinLock(kernel, "migrating-device->lock", name + "->lock");
        this.pgmap = new DevPagemap(kernel, name, owner, this);
        if (pgmap.memremapPages(pages) != 0) {
            throw new IllegalStateException("memremap_pages failed");
        }
        free.addAll(pgmap.pages());
    }

    /**
     * Migrates [{@code start}, {@code start + npages} pages) of {@code mm}, which must lie in one
     * VMA, to the device. May sleep; the caller holds no lock.
     *
     * @return the number of pages migrated, {@code -EINVAL} for a bad range or a dead mm, or
     *         {@code -ENOMEM} when the device ran out of pages
     */
    public int migrateToDevice(MmStruct mm, long start, int npages) {
        if (!mm.mmgetNotZero()) {
            return -Errno.EINVAL;
        }
        mm.mmapReadLock();
        try {
            long end = start + npages * Pte.PAGE_SIZE;
            Vma vma = mm.vmaLookup(start);
            if (vma == null || end > vma.vmEnd()) {
                return -Errno.EINVAL;
            }
            long[] src = new long[npages];
            long[] dst = new long[npages];
            MigrateVma args = new MigrateVma(mm, vma, start, end, src, dst, owner,
                    MigrateVma.MIGRATE_VMA_SELECT_SYSTEM);
            int ret = MigrateDevice.migrateVmaSetup(args);
            if (ret != 0) {
                return ret;
            }
            boolean outOfMemory = !allocAndCopy(src, dst, npages);
            if (outOfMemory) {
                kernel.mark(OUT_OF_DEVICE_MEMORY);
            }
            if (outOfMemory && design == Design.SKIPS_FINALIZE_ON_ERROR) {
                return -Errno.ENOMEM;
            }
            MigrateDevice.migrateVmaPages(args);
            int migrated = 0;
            for (int i = 0; i < npages; i++) {
                if ((src[i] & MIGRATE_PFN_MIGRATE) != 0 && dst[i] != 0) {
                    migrated++;
                }
            }
            MigrateDevice.migrateVmaFinalize(args);
            return outOfMemory ? -Errno.ENOMEM : migrated;
        } finally {
            mm.mmapReadUnlock();
            mm.mmput();
        }
    }

    /** Fills {@code dst} with a locked device copy of each collected page; false once the device is full. */
    private boolean allocAndCopy(long[] src, long[] dst, int npages) {
        PhysMem phys = PhysMem.of(kernel);
        for (int i = 0; i < npages; i++) {
            if ((src[i] & MIGRATE_PFN_MIGRATE) == 0) {
                continue;
            }
            Page dpage = allocDevicePage();
            if (dpage == null) {
                return false;
            }
            Page spage = MigratePfn.migratePfnToPage(phys, src[i]);
            if (spage != null) {
                dpage.copyFrom(spage);
            } else {
                dpage.clear();
            }
            dst[i] = MigratePfn.migratePfn(dpage.pfn()) | (src[i] & MIGRATE_PFN_WRITE);
        }
        return true;
    }

    /** A device page with one reference, locked ({@code zone_device_page_init}); null when the device is full. */
    private Page allocDevicePage() {
        Page p;
        lock.lock();
        try {
            p = free.poll();
        } finally {
            lock.unlock();
        }
        if (p != null) {
            DevPagemap.zoneDevicePageInit(p);
        }
        return p;
    }

    @Override
    public void pageFree(Page page) {
        lock.lock();
        try {
            free.push(page);
        } finally {
            lock.unlock();
        }
    }

    @Override
    public int migrateToRam(Fault.VmFault vmf) {
        long[] src = new long[1];
        long[] dst = new long[1];
        MigrateVma args = new MigrateVma(vmf.mm(), vmf.vma(), vmf.address(), vmf.address() + Pte.PAGE_SIZE, src, dst,
                owner, MigrateVma.MIGRATE_VMA_SELECT_DEVICE_PRIVATE).faultPage(vmf.page());
        if (MigrateDevice.migrateVmaSetup(args) != 0) {
            return Fault.VM_FAULT_SIGBUS;
        }
        PhysMem phys = PhysMem.of(kernel);
        Page dpage = MigratePfn.migratePfnToPage(phys, src[0]);
        boolean noMemory = false;
        if (dpage != null && (src[0] & MIGRATE_PFN_MIGRATE) != 0) {
            Page spage = phys.allocPage();
            if (spage == null) {
                noMemory = true;
            } else {
                spage.lock();
                spage.copyFrom(dpage);
                dst[0] = MigratePfn.migratePfn(spage.pfn());
            }
        }
        MigrateDevice.migrateVmaPages(args);
        MigrateDevice.migrateVmaFinalize(args);
        return noMemory ? Fault.VM_FAULT_OOM : 0;
    }

    @Override
    public String toString() {
        return "migrating device " + pgmap.name();
    }
}
