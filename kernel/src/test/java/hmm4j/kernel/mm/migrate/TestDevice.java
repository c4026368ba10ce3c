package hmm4j.kernel.mm.migrate;

import static hmm4j.kernel.mm.migrate.MigratePfn.MIGRATE_PFN_MIGRATE;
import static hmm4j.kernel.mm.migrate.MigratePfn.MIGRATE_PFN_WRITE;

import hmm4j.kernel.mm.Errno;
import hmm4j.kernel.mm.Fault;
import hmm4j.kernel.mm.MmStruct;
import hmm4j.kernel.mm.Page;
import hmm4j.kernel.mm.PhysMem;
import hmm4j.kernel.mm.Pte;
import hmm4j.kernel.mm.VmFlags;
import hmm4j.kernel.mm.Vma;
import hmm4j.sim.Kernel;
import hmm4j.sim.sync.SpinLock;
import java.util.ArrayDeque;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * A small device-private memory driver for the tests, shaped like lib/test_hmm.c without the
 * mirror: one {@link DevPagemap} of a fixed number of pages whose contents are the device
 * memory, a free list, migration of a range to the device and back, eviction of the whole
 * chunk, and {@code migrate_to_ram} on CPU faults. Public so that the hmm tests can put
 * device-private pages of several owners in place the way a driver does.
 *
 * <p>Locking: the free list is under a spinlock ({@code page_free} may run under a page-table
 * lock). The migration helpers take an {@code mm_users} pin and the mmap read lock themselves,
 * as the dmirror ioctls do, unless called with {@code locked} true.
 */
public final class TestDevice implements DevPagemapOps {
    private final Kernel kernel;
    private final Object owner;
    private final DevPagemap pgmap;
    private final SpinLock lock;
    private final ArrayDeque<Page> free = new ArrayDeque<>();
    private final AtomicInteger pagesFreed = new AtomicInteger();
    private final AtomicInteger faultsToRam = new AtomicInteger();
    private volatile int failNextSystemAllocs;

    /** A device whose pgmap owner is {@code owner}, with {@code pages} pages of memory. */
    public TestDevice(Kernel kernel, Object owner, String name, int pages) {
        this(kernel, owner, name, pages, DevPagemap.Type.MEMORY_DEVICE_PRIVATE);
    }

    /** A device of memory {@code type} whose pgmap owner is {@code owner}, with {@code pages} pages. */
    public TestDevice(Kernel kernel, Object owner, String name, int pages, DevPagemap.Type type) {
        this.kernel = kernel;
        this.owner = owner;
        this.lock = new SpinLock(kernel, "test-device->lock", name + "->lock");
        this.pgmap = new DevPagemap(kernel, name, type, owner, this);
        if (pgmap.memremapPages(pages) != 0) {
            throw new IllegalStateException("memremap_pages failed");
        }
        for (Page p : pgmap.pages()) {
            free.add(p);
        }
    }

    public Object owner() { return owner; }

    public DevPagemap pgmap() { return pgmap; }

    /** Device pages returned through {@code page_free} so far. */
    public int pagesFreed() { return pagesFreed.get(); }

    /** CPU faults served by {@code migrate_to_ram} so far. */
    public int faultsToRam() { return faultsToRam.get(); }

    /** Makes the next {@code n} system-page allocations of migrations back to RAM fail. */
    public void failNextSystemAllocs(int n) { failNextSystemAllocs = n; }

    /** A device page with one reference, locked; null when the device is full. */
    public Page allocDevicePage() {
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
        pagesFreed.incrementAndGet();
    }

    @Override
    public int migrateToRam(Fault.VmFault vmf) {
        faultsToRam.incrementAndGet();
        long[] src = new long[1];
        long[] dst = new long[1];
        MigrateVma args = new MigrateVma(vmf.mm(), vmf.vma(), vmf.address(), vmf.address() + Pte.PAGE_SIZE, src, dst,
                owner, MigrateVma.MIGRATE_VMA_SELECT_DEVICE_PRIVATE).faultPage(vmf.page());
        if (MigrateDevice.migrateVmaSetup(args) != 0) {
            return Fault.VM_FAULT_SIGBUS;
        }
        copyToSystem(src, dst, 1);
        boolean noMemory = (src[0] & MIGRATE_PFN_MIGRATE) != 0 && dst[0] == 0;
        MigrateDevice.migrateVmaPages(args);
        MigrateDevice.migrateVmaFinalize(args);
        return noMemory ? Fault.VM_FAULT_OOM : 0;
    }

    /**
     * MIGRATE_TO_DEV of [start, start + npages pages), which must lie in one VMA: collects
     * system pages and holes, copies into device pages, commits. {@code beforePages} runs
     * between the copy and {@code migrate_vma_pages} (null for none).
     *
     * @return the number of pages now on the device, or {@code -EINVAL}
     */
    public int migrateToDevice(MmStruct mm, long start, int npages, Runnable beforePages) {
        return migrate(mm, start, npages, MigrateVma.MIGRATE_VMA_SELECT_SYSTEM, beforePages);
    }

    /** MIGRATE_TO_SYS: this device's pages in the range back to system memory; the count migrated, or {@code -EINVAL}. */
    public int migrateToSystem(MmStruct mm, long start, int npages) {
        return migrate(mm, start, npages, MigrateVma.MIGRATE_VMA_SELECT_DEVICE_PRIVATE, null);
    }

    private int migrate(MmStruct mm, long start, int npages, int select, Runnable beforePages) {
        if (!mm.mmgetNotZero()) {
            return -Errno.EINVAL;
        }
        mm.mmapReadLock();
        try {
            return migrateLocked(mm, start, npages, select, beforePages);
        } finally {
            mm.mmapReadUnlock();
            mm.mmput();
        }
    }

    /** The migration with the mmap lock and a pin already held by the caller. */
    public int migrateLocked(MmStruct mm, long start, int npages, int select, Runnable beforePages) {
        long end = start + npages * Pte.PAGE_SIZE;
        Vma vma = mm.vmaLookup(start);
        if (vma == null || end > vma.vmEnd()) {
            return -Errno.EINVAL;
        }
        long[] src = new long[npages];
        long[] dst = new long[npages];
        MigrateVma args = new MigrateVma(mm, vma, start, end, src, dst, owner, select);
        int ret = MigrateDevice.migrateVmaSetup(args);
        if (ret != 0) {
            return ret;
        }
        if (select == MigrateVma.MIGRATE_VMA_SELECT_SYSTEM) {
            copyToDevice(src, dst, npages, vma);
        } else {
            copyToSystem(src, dst, npages);
        }
        if (beforePages != null) {
            beforePages.run();
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
     * RELEASE: evicts every page of the chunk back to system memory, wherever it is mapped
     * ({@code migrate_device_range}). Returns how many pages were migrated.
     */
    public int evictAll() {
        int n = pgmap.nrPages();
        long[] src = new long[n];
        long[] dst = new long[n];
        MigrateDevice.migrateDeviceRange(kernel, src, pgmap.startPfn(), n);
        copyToSystem(src, dst, n);
        MigrateDevice.migrateDevicePages(kernel, src, dst, n);
        int migrated = 0;
        for (int i = 0; i < n; i++) {
            if ((src[i] & MIGRATE_PFN_MIGRATE) != 0 && dst[i] != 0) {
                migrated++;
            }
        }
        MigrateDevice.migrateDeviceFinalize(kernel, src, dst, n);
        return migrated;
    }

    private void copyToDevice(long[] src, long[] dst, int npages, Vma vma) {
        PhysMem phys = PhysMem.of(kernel);
        for (int i = 0; i < npages; i++) {
            if ((src[i] & MIGRATE_PFN_MIGRATE) == 0) {
                continue;
            }
            Page dpage = allocDevicePage();
            if (dpage == null) {
                continue;
            }
            Page spage = MigratePfn.migratePfnToPage(phys, src[i]);
            if (spage != null) {
                dpage.copyFrom(spage);
            } else {
                dpage.clear();
            }
            boolean write = (src[i] & MIGRATE_PFN_WRITE) != 0 || (spage == null && vma.hasAny(VmFlags.VM_WRITE));
            dst[i] = MigratePfn.migratePfn(dpage.pfn()) | (write ? MIGRATE_PFN_WRITE : 0);
        }
    }

    private void copyToSystem(long[] src, long[] dst, int npages) {
        PhysMem phys = PhysMem.of(kernel);
        for (int i = 0; i < npages; i++) {
            Page dpage = MigratePfn.migratePfnToPage(phys, src[i]);
            if (dpage == null || (src[i] & MIGRATE_PFN_MIGRATE) == 0) {
                continue;
            }
            if (failNextSystemAllocs > 0) {
                failNextSystemAllocs--;
                continue;
            }
            Page spage = phys.allocPage();
            if (spage == null) {
                continue;
            }
            spage.lock();
            spage.copyFrom(dpage);
            dst[i] = MigratePfn.migratePfn(spage.pfn());
        }
    }

    @Override
    public String toString() {
        return "test device " + pgmap.name();
    }
}
