package hmm4j.drivers.dmirror;

import static hmm4j.kernel.mm.HugeMemory.HPAGE_PMD_NR;
import static hmm4j.kernel.mm.HugeMemory.HPAGE_PMD_ORDER;
import static hmm4j.kernel.mm.migrate.MigratePfn.MIGRATE_PFN_COMPOUND;
import static hmm4j.kernel.mm.migrate.MigratePfn.MIGRATE_PFN_MIGRATE;
import static hmm4j.kernel.mm.migrate.MigratePfn.MIGRATE_PFN_WRITE;

import hmm4j.kernel.mm.Gfp;
import hmm4j.kernel.mm.MmStruct;
import hmm4j.kernel.mm.Page;
import hmm4j.kernel.mm.PhysMem;
import hmm4j.kernel.mm.migrate.DevPagemap;
import hmm4j.kernel.mm.migrate.MigrateDevice;
import hmm4j.kernel.mm.migrate.MigratePfn;
import hmm4j.kernel.mm.migrate.MigrateVma;
import hmm4j.sim.Kernel;
import hmm4j.sim.Mark;
import hmm4j.sim.sync.Mutex;
import hmm4j.sim.sync.SpinLock;
import java.util.ArrayDeque;
import java.util.HashMap;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Consumer;

/**
 * One dmirror device ({@code struct dmirror_device}, {@code /dev/hmm_dmirrorN}): its
 * device-private memory, the free list of its pages, and the mirrors opened on it
 * ({@code dmirror_device_init}, {@code dmirror_allocate_chunk}, and the RELEASE command of
 * {@code dmirror_fops_unlocked_ioctl} in lib/test_hmm.c).
 *
 * <p>Overview. Memory comes in chunks ({@link DmirrorChunk}, a {@link DevPagemap} whose owner
 * is this device), created lazily when the free list is empty; one exists from the start.
 * {@link #dmirrorDevmemAllocPage} hands a page out (one reference, locked) and records which
 * mirror migrated data into it (the backing link); {@link #dmirrorDevmemFree} takes it back
 * when its last reference goes. {@link #dmirrorDeviceRemoveChunks} (RELEASE) evicts every
 * chunk: each live page is migrated back to system memory wherever it is mapped, then the
 * chunk is unmapped and forgotten. The release of any mirror of the device evicts the live
 * pages of every chunk too, but keeps the chunks ({@link #dmirrorDeviceEvictChunks}).
 *
 * <p>Locking. {@code dmirror_device->lock}, a spinlock, guards the free list, the counters and
 * the backing links: {@code page_free} may run under a page-table lock. The chunk list is
 * under {@code dmirror_device->devmem_lock} (a mutex; eviction sleeps under it). The list of
 * open mirrors is under {@code dmirror_device->mirrors_lock} (a mutex), held while the
 * device's own migrations update every mirror of an address space ({@link #forEachMirrorOn}).
 *
 * <p>Lifetime. A device lives as long as its kernel; {@link #create} returns the kernel's
 * device of a minor, creating it on first use. Mirrors are linked here from open until their
 * release, which unlinks them under both locks before freeing them, so a link is never
 * followed to a freed mirror (quirk Q2).
 *
 * <p>Differences from lib/test_hmm.c: a chunk has {@link #DEVMEM_CHUNK_PAGES} pages instead
 * of 256 MiB, and at most {@link #DEVMEM_MAX_CHUNKS} exist; device pages keep their simulated
 * contents themselves ({@link Page} holds the contents of a device-private page), so there are
 * no backing system pages — the backing link from device page to mirror is a map here; minors 0
 * and 1 are device-private, 2 and 3 device-coherent (the module loaded with its SPM parameters:
 * a coherent chunk is a {@code MEMORY_DEVICE_COHERENT} pgmap of the same size); a large chunk
 * (made for the huge free list, {@code free_folios}) holds {@link #DEVMEM_LARGE_CHUNK_FOLIOS}
 * huge folios, and a coherent device makes none (see {@link #dmirrorDevmemAllocPage(Dmirror,
 * boolean)}).
 */
public final class DmirrorDevice {
    /** Coverage mark: the mirror's non-blockable invalidate found its mutex busy and answered would-block. */
    public static final Mark INVALIDATE_TRYLOCK_FAILED = Mark.of("dmirror.invalidate.trylock-failed",
            "The mirror's invalidate of a non-blockable range found dmirror->mutex busy and returned false");
    /** Coverage mark: the mirror skipped the MIGRATE invalidation of its own device's migration. */
    public static final Mark OWN_MIGRATE_SKIPPED = Mark.of("dmirror.invalidate.own-migrate-skipped",
            "The mirror skipped a MIGRATE invalidation whose owner is its own device");
    /** Coverage mark: the mirror invalidated for another device's migration. */
    public static final Mark OTHER_MIGRATE_INVALIDATED = Mark.of("dmirror.invalidate.other-migrate",
            "The mirror invalidated its entries for a MIGRATE invalidation owned by another device");
    /** Coverage mark: a device fault found the address space dead and failed with -EFAULT. */
    public static final Mark FAULT_DEAD_MM = Mark.of("dmirror.fault.dead-mm",
            "dmirror_fault found the address space dead (mmget_not_zero failed) and returned -EFAULT");

    /** Pages per chunk of device memory. */
    public static final int DEVMEM_CHUNK_PAGES = 64;
    /** Huge folios (512 pages each) per large chunk, made when the huge free list is empty. */
    public static final int DEVMEM_LARGE_CHUNK_FOLIOS = 8;
    /** At most this many chunks exist at once; an allocation beyond fails. */
    public static final int DEVMEM_MAX_CHUNKS = 4096;

    /** The devices of one kernel, by minor. */
    private static final class Registry {
        final Map<Integer, DmirrorDevice> byMinor = new HashMap<>();
    }

    private final Kernel kernel;
    private final int minor;
    private final String name;
    private final DmirrorProtocol protocol;
    private final SpinLock lock;
    private final Mutex devmemLock;
    private final Mutex mirrorsLock;
    private final List<DmirrorChunk> chunks = new CopyOnWriteArrayList<>();
    private final ArrayDeque<Page> freePages = new ArrayDeque<>();
    /** {@code mdevice->free_folios}: the heads of the free huge (order-9) folios. */
    private final ArrayDeque<Page> freeFolios = new ArrayDeque<>();
    private final Map<Page, Dmirror> backing = new IdentityHashMap<>();
    private final List<Dmirror> mirrors = new CopyOnWriteArrayList<>();
    private final AtomicLong calloc = new AtomicLong();
    private final AtomicLong cfree = new AtomicLong();
    private volatile int freeCount;
    private int chunksCreated;
    private int mirrorsOpened;

    private DmirrorDevice(Kernel kernel, int minor, DmirrorProtocol protocol) {
        this.kernel = kernel;
        this.minor = minor;
        this.name = "hmm_dmirror" + minor;
        this.protocol = protocol;
        this.lock = new SpinLock(kernel, "dmirror_device->lock", name + "->lock");
        this.devmemLock = new Mutex(kernel, "dmirror_device->devmem_lock", name + "->devmem_lock");
        this.mirrorsLock = new Mutex(kernel, "dmirror_device->mirrors_lock", name + "->mirrors_lock");
    }

    /** The kernel's device {@code /dev/hmm_dmirror<minor>} with the correct protocol. */
    public static DmirrorDevice create(Kernel kernel, int minor) {
        return create(kernel, minor, DmirrorProtocol.CORRECT);
    }

    /**
     * The kernel's device {@code /dev/hmm_dmirror<minor>}, running {@code protocol}; created
     * (with its first chunk of memory) on the first call for that minor, returned as is on the
     * next ones.
     *
     * @throws IllegalArgumentException for a minor other than 0 to 3 (0 and 1 are
     *                                  device-private, 2 and 3 device-coherent)
     * @throws IllegalStateException    if the device exists with another protocol, or its first
     *                                  chunk cannot be created
     */
    public static DmirrorDevice create(Kernel kernel, int minor, DmirrorProtocol protocol) {
        Objects.requireNonNull(kernel, "kernel");
        Objects.requireNonNull(protocol, "protocol");
        if (minor < 0 || minor > 3) {
            throw new IllegalArgumentException("the dmirror minors are 0 to 3: " + minor);
        }
        Registry registry = kernel.component(Registry.class, Registry::new);
        synchronized (registry) {
            DmirrorDevice dev = registry.byMinor.get(minor);
            if (dev != null) {
                if (dev.protocol != protocol) {
                    throw new IllegalStateException(dev.name + " already exists with protocol " + dev.protocol);
                }
                return dev;
            }
            dev = new DmirrorDevice(kernel, minor, protocol);
            // Not yet visible to anyone: the first chunk needs no lock (set-up code may run outside any task).
            DmirrorChunk first = dev.newChunk(false);
            if (first == null) {
                throw new IllegalStateException("the first chunk of " + dev.name + " could not be created");
            }
            dev.chunks.add(first);
            dev.pushFree(first);
            registry.byMinor.put(minor, dev);
            kernel.atQuiescence(DmirrorRules.NO_STALE_ENTRY.id(), dev::checkAtQuiescence);
            return dev;
        }
    }

    /** The minor number. */
    public int minor() {
        return minor;
    }

    /**
     * {@code mdevice->zone_device_type == HMM_DMIRROR_MEMORY_DEVICE_COHERENT}: minors 2 and 3,
     * whose memory the module's {@code spm_addr_dev0/1} parameters give.
     */
    public boolean isCoherent() {
        return minor >= 2;
    }

    /** {@code dmirror_select_device}: the selection of this device's own pages for MIGRATE_TO_SYS. */
    int dmirrorSelectDevice() {
        return isCoherent() ? MigrateVma.MIGRATE_VMA_SELECT_DEVICE_COHERENT : MigrateVma.MIGRATE_VMA_SELECT_DEVICE_PRIVATE;
    }

    /** {@code mdevice->calloc}: device pages handed out so far. */
    public long calloc() {
        return calloc.get();
    }

    /** {@code mdevice->cfree}: device pages returned to the free list so far. */
    public long cfree() {
        return cfree.get();
    }

    /** The protocol variant this device runs. */
    public DmirrorProtocol protocol() {
        return protocol;
    }

    /** {@code "hmm_dmirror<minor>"}. */
    public String name() {
        return name;
    }

    public Kernel kernel() {
        return kernel;
    }

    /** The number of chunks of memory the device has now (no lock, no scheduling point: for tests and reports). */
    public int chunkCount() {
        return chunks.size();
    }

    /** The number of pages on the free list now (no lock, no scheduling point: for tests and reports). */
    public int freePageCount() {
        return freeCount;
    }

    /** The number of huge folios on the huge free list now (no lock, no scheduling point: for tests). */
    public int freeFolioCount() {
        synchronized (freeFolios) {
            return freeFolios.size();
        }
    }

    // ---- device memory ----

    /**
     * {@code dmirror_devmem_alloc_page}: a device page for a migration by {@code dmirror}, with
     * one reference and locked, its backing link naming {@code dmirror}; a new chunk is created
     * if the free list is empty. Null if no memory is left. May sleep (chunk creation).
     */
    Page dmirrorDevmemAllocPage(Dmirror dmirror) {
        return dmirrorDevmemAllocPage(dmirror, false);
    }

    /**
     * {@code dmirror_devmem_alloc_page(dmirror, is_large)}: with {@code isLarge}, the head of
     * a huge folio (512 device pages, each with one reference, the head locked) from the huge
     * free list, a large chunk being made if it is empty; otherwise a base page as
     * {@link #dmirrorDevmemAllocPage(Dmirror)}. Null if no memory is left: a coherent device
     * has no large chunk (its one SPM range is taken by its first chunk, so a second
     * {@code memremap_pages} fails, as in the kernel). May sleep.
     */
    Page dmirrorDevmemAllocPage(Dmirror dmirror, boolean isLarge) {
        Page dpage = isLarge ? takeFreeFolio() : takeFreePage();
        if (dpage == null) {
            if (!dmirrorAllocateChunk(isLarge)) {
                return null;
            }
            dpage = isLarge ? takeFreeFolio() : takeFreePage();
            if (dpage == null) {
                return null;
            }
        }
        DevPagemap.zoneDeviceFolioInit(dpage, isLarge ? HPAGE_PMD_ORDER : 0);
        lock.lock();
        try {
            backing.put(dpage, dmirror);
        } finally {
            lock.unlock();
        }
        return dpage;
    }

    private Page takeFreePage() {
        lock.lock();
        try {
            Page p = freePages.poll();
            if (p != null) {
                calloc.incrementAndGet();
            }
            freeCount = freePages.size();
            return p;
        } finally {
            lock.unlock();
        }
    }

    private Page takeFreeFolio() {
        lock.lock();
        try {
            Page p;
            synchronized (freeFolios) {
                p = freeFolios.poll();
            }
            if (p != null) {
                calloc.addAndGet(HPAGE_PMD_NR);
            }
            return p;
        } finally {
            lock.unlock();
        }
    }

    /**
     * {@code dmirror_allocate_chunk}: one more chunk, its pages on the free list (a large one:
     * its aligned huge folios on the huge free list). False if no chunk can be made.
     */
    private boolean dmirrorAllocateChunk(boolean isLarge) {
        if (isLarge && isCoherent()) {
            return false;
        }
        devmemLock.lock();
        try {
            if (chunks.size() >= DEVMEM_MAX_CHUNKS) {
                return false;
            }
            Gfp.mightAlloc(kernel, Gfp.GFP_KERNEL);
            DmirrorChunk chunk = newChunk(isLarge);
            if (chunk == null) {
                return false;
            }
            chunks.add(chunk);
            lock.lock();
            try {
                pushFree(chunk);
            } finally {
                lock.unlock();
            }
            return true;
        } finally {
            devmemLock.unlock();
        }
    }

    /** A new chunk, its pages created ({@code memremap_pages}); null if that fails. devmem_lock held (or set-up). */
    private DmirrorChunk newChunk(boolean isLarge) {
        DmirrorChunk chunk = new DmirrorChunk(this, name + ".chunk" + (chunksCreated++), isLarge);
        int ret = isLarge ? chunk.pagemap().memremapPages(DEVMEM_LARGE_CHUNK_FOLIOS * HPAGE_PMD_NR, HPAGE_PMD_NR)
                : chunk.pagemap().memremapPages(DEVMEM_CHUNK_PAGES);
        return ret == 0 ? chunk : null;
    }

    /**
     * Puts every page of {@code chunk} on the free list, lowest pfn first out; a large chunk's
     * aligned folios go on the huge free list. Device lock held (or set-up).
     */
    private void pushFree(DmirrorChunk chunk) {
        List<Page> pages = chunk.pagemap().pages();
        if (chunk.isLarge()) {
            synchronized (freeFolios) {
                for (int i = pages.size() - HPAGE_PMD_NR; i >= 0; i -= HPAGE_PMD_NR) {
                    freeFolios.push(pages.get(i));
                }
            }
            return;
        }
        for (int i = pages.size() - 1; i >= 0; i--) {
            freePages.push(pages.get(i));
        }
        freeCount = freePages.size();
    }

    /** {@code dmirror_devmem_free}: {@code page_free} of a chunk's page. Does not sleep (may run under a page-table lock). */
    void dmirrorDevmemFree(DmirrorChunk chunk, Page page) {
        lock.lock();
        try {
            backing.remove(page);
            if (!chunk.removing()) {
                freePages.push(page);
                freeCount = freePages.size();
                cfree.incrementAndGet();
            }
        } finally {
            lock.unlock();
        }
    }

    /**
     * {@code dmirror_devmem_free} of a huge folio ({@code folio_free} with an order): the folio
     * goes back on the huge free list unless its chunk is being removed. Does not sleep.
     */
    void dmirrorDevmemFolioFree(DmirrorChunk chunk, Page head, int order) {
        lock.lock();
        try {
            backing.remove(head);
            if (!chunk.removing()) {
                synchronized (freeFolios) {
                    freeFolios.push(head);
                }
                cfree.addAndGet(1L << order);
            }
        } finally {
            lock.unlock();
        }
    }

    /**
     * {@code dmirror_devmem_folio_split}: a huge folio of this device is split; the new folio
     * {@code tail} takes the head's backing link (the kernel moves the backing page's
     * {@code zone_device_data}, which names the mirror), so that a later fault on it finds its
     * mirror. {@code tail == null} (the head's own reset) changes nothing here: the model keeps
     * no backing pages. Does not sleep.
     */
    void dmirrorDevmemFolioSplit(Page head, Page tail) {
        if (tail == null) {
            return;
        }
        lock.lock();
        try {
            Dmirror m = backing.get(head);
            if (m != null) {
                backing.put(tail, m);
            }
        } finally {
            lock.unlock();
        }
    }

    /**
     * Follows the backing link of {@code dpage} under the device lock and, if it names a mirror
     * that has not been released, takes that mirror's one-shot FAIL_ALLOC flag. The mirror is
     * touched only under the lock its release takes to unlink it (Q2).
     */
    boolean backingMirrorTakeFailAlloc(Page dpage) {
        lock.lock();
        try {
            Dmirror dmirror = backing.get(dpage);
            return dmirror != null && dmirror.takeFailAlloc();
        } finally {
            lock.unlock();
        }
    }

    /** The mirror the backing link of {@code dpage} names, or null (for tests). */
    Dmirror backingMirror(Page dpage) {
        lock.lock();
        try {
            return backing.get(dpage);
        } finally {
            lock.unlock();
        }
    }

    /**
     * {@code dmirror_device_remove_chunks} (RELEASE): every chunk is marked as being removed,
     * its free pages leave the free list, its live pages are migrated back to system memory
     * wherever they are mapped ({@code dmirror_device_evict_chunk}), and it is unmapped; then
     * the device has no chunk, and the next allocation creates one. May sleep.
     */
    void dmirrorDeviceRemoveChunks() {
        devmemLock.lock();
        try {
            for (DmirrorChunk chunk : chunks) {
                lock.lock();
                try {
                    chunk.markRemoving();
                    freePages.removeIf(p -> p.pgmap() == chunk.pagemap());
                    freeCount = freePages.size();
                    synchronized (freeFolios) {
                        freeFolios.removeIf(p -> p.pgmap() == chunk.pagemap());
                    }
                } finally {
                    lock.unlock();
                }
                dmirrorDeviceEvictChunk(chunk);
                chunk.pagemap().memunmapPages();
            }
            chunks.clear();
        } finally {
            devmemLock.unlock();
        }
    }

    /**
     * The eviction of {@code dmirror_fops_release} (the driver's current version): every live
     * page of every chunk is migrated back to system memory wherever it is mapped; the chunks
     * stay, their pages back on the free list as their last references go. The kernel walks
     * the chunk array without {@code devmem_lock}; the model takes it, as RELEASE does, so
     * that a chunk created meanwhile is not missed half-made. May sleep.
     */
    void dmirrorDeviceEvictChunks() {
        devmemLock.lock();
        try {
            for (DmirrorChunk chunk : chunks) {
                dmirrorDeviceEvictChunk(chunk);
            }
        } finally {
            devmemLock.unlock();
        }
    }

    /** {@code dmirror_device_evict_chunk}: {@code migrate_device_range} of the whole chunk into fresh system pages. */
    private void dmirrorDeviceEvictChunk(DmirrorChunk chunk) {
        DevPagemap pgmap = chunk.pagemap();
        int npages = pgmap.nrPages();
        long[] src = new long[npages];
        long[] dst = new long[npages];
        PhysMem phys = PhysMem.of(kernel);
        MigrateDevice.migrateDeviceRange(kernel, src, pgmap.startPfn(), npages);
        for (int i = 0; i < npages; i++) {
            Page dpage = MigratePfn.migratePfnToPage(phys, src[i]);
            if (dpage == null || (src[i] & MIGRATE_PFN_MIGRATE) == 0) {
                continue;
            }
            Gfp.mightAlloc(kernel, Gfp.GFP_KERNEL);
            boolean compound = (src[i] & MIGRATE_PFN_COMPOUND) != 0;
            Page spage = compound ? phys.allocFolio(HPAGE_PMD_ORDER) : phys.allocPage();
            if (spage == null) {
                continue;
            }
            spage.lock();
            int nr = compound ? HPAGE_PMD_NR : 1;
            for (int k = 0; k < nr; k++) {
                phys.pfnToPage(spage.pfn() + k).copyFrom(phys.pfnToPage(dpage.pfn() + k));
            }
            dst[i] = MigratePfn.migratePfn(spage.pfn()) | (src[i] & MIGRATE_PFN_WRITE)
                    | (compound ? MIGRATE_PFN_COMPOUND : 0);
        }
        MigrateDevice.migrateDevicePages(kernel, src, dst, npages);
        MigrateDevice.migrateDeviceFinalize(kernel, src, dst, npages);
    }

    // ---- the mirrors ----

    String nextMirrorName() {
        synchronized (mirrors) {
            return name + ".mirror" + (++mirrorsOpened);
        }
    }

    void mirrorAdd(Dmirror dmirror) {
        mirrorsLock.lock();
        try {
            mirrors.add(dmirror);
        } finally {
            mirrorsLock.unlock();
        }
    }

    /** Forgets a mirror being released: out of the list, and no backing link names it any more. */
    void mirrorRemove(Dmirror dmirror) {
        mirrorsLock.lock();
        try {
            mirrors.remove(dmirror);
        } finally {
            mirrorsLock.unlock();
        }
        lock.lock();
        try {
            backing.values().removeIf(m -> m == dmirror);
        } finally {
            lock.unlock();
        }
    }

    /**
     * Runs {@code action} on every open mirror of this device whose address space is
     * {@code mm}, holding {@code mirrors_lock} (so none is released meanwhile). The action takes
     * the mirror's mutex itself. May sleep.
     */
    void forEachMirrorOn(MmStruct mm, Consumer<Dmirror> action) {
        mirrorsLock.lock();
        try {
            for (Dmirror m : mirrors) {
                if (m.mm() == mm) {
                    action.accept(m);
                }
            }
        } finally {
            mirrorsLock.unlock();
        }
    }

    /** The open mirrors, without a scheduling point (checks). */
    List<Dmirror> mirrorsPeek() {
        return List.copyOf(mirrors);
    }

    /** The validator over every open mirror, when the run is over. */
    private void checkAtQuiescence() {
        for (Dmirror m : mirrorsPeek()) {
            if (!m.isFreed()) {
                DmirrorValidator.checkTable(m, "at quiescence");
            }
        }
    }

    @Override
    public String toString() {
        return name + (protocol == DmirrorProtocol.CORRECT ? "" : " [" + protocol + "]");
    }
}
