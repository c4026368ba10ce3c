package hmm4j.kernel.mm.migrate;

import hmm4j.kernel.KernelRules;
import hmm4j.check.lifetime.RefHandle;
import hmm4j.kernel.mm.Errno;
import hmm4j.kernel.mm.MmStruct;
import hmm4j.kernel.mm.Page;
import hmm4j.kernel.mm.PageTable;
import hmm4j.kernel.mm.PhysMem;
import hmm4j.sim.Kernel;
import hmm4j.sim.Op;
import hmm4j.sim.WaitChannel;
import hmm4j.sim.failure.Failure;
import hmm4j.sim.sync.SpinLock;
import java.util.ArrayList;
import java.util.Collections;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * {@code struct dev_pagemap} of type {@code MEMORY_DEVICE_PRIVATE} (a range of device memory
 * the CPU cannot address, given {@link Page}s so that it can sit in page tables behind
 * device-private entries) or {@code MEMORY_DEVICE_COHERENT} (device memory the CPU addresses
 * coherently, its pages mapped by ordinary present entries; {@link ZoneDevice}). A driver
 * creates one per chunk of device memory.
 *
 * <p>Overview. The driver fills the structure ({@link #DevPagemap}: owner and ops) and calls
 * {@link #memremapPages}, which reserves a contiguous pfn range and creates its pages idle (no
 * reference), as {@code memremap_pages} does since pages of {@code ZONE_DEVICE} start at
 * refcount 0. The driver keeps its own free list; to hand a page out it calls
 * {@link #zoneDevicePageInit} (one reference, page locked), and when the last reference goes
 * the core calls the ops' {@link DevPagemapOps#pageFree pageFree} and the page is idle again.
 * A CPU access to a device-private entry calls the ops' {@link DevPagemapOps#migrateToRam
 * migrateToRam} from the fault handler. {@link #memunmapPages} waits until every page is idle,
 * then gives the pfns back.
 *
 * <p>The device rmap. The kernel finds every mapping of a page through its {@code anon_vma};
 * the model has none, so the pgmap keeps, per page, the places (mm, page table, address) whose
 * entry names the page: a device-private entry (a present one, for a coherent page) or a migration entry of it. Entries are added
 * where the core maps a device page (migration finalize, fork) and removed where it unmaps one
 * (zap, migration to another page). Migration uses the list as {@code try_to_migrate} and
 * {@code remove_migration_ptes} use the rmap: to reach the mappings in other address spaces
 * (after fork) without an {@code mm_users} pin, as the kernel's rmap walks do.
 *
 * <p>Locking. The per-page lists change under {@code pgmap->rmap_lock}, a spinlock taken
 * inside page-table locks (zap and fork hold one), never around one: a walk copies the list
 * and pins each mm structure ({@code mmgrab}) under the lock, then visits the places one at a
 * time under their page-table locks. A place exists only while its mm has not zapped it, so
 * its mm structure is alive whenever the lock finds it there. Each list is also a plain
 * monitor (no scheduling point inside), so that checks may read it from any context.
 *
 * <p>Lifetime: {@link State#NEW} → {@link State#LIVE} ({@link #memremapPages}) →
 * {@link State#DEAD} ({@link #memunmapPages}).
 *
 * <p>Differences from the kernel (include/linux/memremap.h, mm/memremap.c): only
 * {@code MEMORY_DEVICE_PRIVATE} and {@code MEMORY_DEVICE_COHERENT}; no physical resource, no NUMA node, no {@code vmemmap}; the
 * pgmap's percpu reference is a count of pages in use; a large folio
 * ({@link #zoneDeviceFolioInit}) is a record of its head and order here, its pages counting
 * references one by one as the model's system THPs do, and it goes back to the driver
 * ({@link DevPagemapOps#folioFree}) when its last page is idle.
 */
public final class DevPagemap {
    private static final Op.Kind MEMUNMAP_PAGES = new Op.Kind("memunmap_pages", Op.Access.WRITE);

    /** Where the pgmap is in its life. */
    public enum State { NEW, LIVE, DEAD }

    /** {@code pgmap->type}: the two kinds of device memory the model has. */
    public enum Type {
        /** Memory the CPU cannot address: pages sit behind device-private swap entries. */
        MEMORY_DEVICE_PRIVATE,
        /** Memory the CPU can address coherently: pages are mapped by ordinary present entries. */
        MEMORY_DEVICE_COHERENT
    }

    /** One place whose entry names a device page: {@code pgd}'s entry for {@code addr} in {@code mm}. */
    record RmapItem(MmStruct mm, PageTable pgd, long addr) {
    }

    /** The name of the handle under which one rmap walk pins the mm structures it visits. */
    static final String RMAP_WALK = "device rmap walk";

    /** One rmap walk: the places it visits and the handle their mm structures are pinned under. */
    record RmapWalk(RefHandle holder, List<RmapItem> items) {
    }

    private final Kernel kernel;
    private final String name;
    private final Object owner;
    private final DevPagemapOps ops;
    private final Type type;
    private final SpinLock rmapLock;
    private final AtomicInteger inUse = new AtomicInteger();
    private final WaitChannel done;
    /** {@code memunmap_pages} on this pgmap, built once: the wait for its pages to drain. */
    private final Op unmapOp;
    private final Map<Page, List<RmapItem>> rmap = new IdentityHashMap<>();
    /** The large folios handed out ({@code zone_device_folio_init} with an order): head to order; a plain monitor. */
    private final Map<Page, Integer> folios = new IdentityHashMap<>();
    /** Per large folio, the pages of it not idle yet; under the monitor of {@link #folios}. */
    private final Map<Page, Integer> folioLive = new IdentityHashMap<>();
    private volatile State state = State.NEW;
    private volatile Page[] pages = new Page[0];
    private long startPfn;

    /**
     * A device-private pgmap named {@code name}, owned by {@code owner} (the
     * {@code pgmap->owner} that {@code hmm_range_fault} and {@code migrate_vma} compare by
     * identity), with callbacks {@code ops}. Its pages exist after {@link #memremapPages}.
     */
    public DevPagemap(Kernel kernel, String name, Object owner, DevPagemapOps ops) {
        this(kernel, name, Type.MEMORY_DEVICE_PRIVATE, owner, ops);
    }

    /**
     * A pgmap of {@code type}: as {@link #DevPagemap(Kernel, String, Object, DevPagemapOps)};
     * the pages of a {@link Type#MEMORY_DEVICE_COHERENT} pgmap are not device-private: the CPU
     * maps them with present entries, and they go back to the driver ({@code page_free}) when
     * their last reference goes, as device-private ones do.
     */
    public DevPagemap(Kernel kernel, String name, Type type, Object owner, DevPagemapOps ops) {
        this.type = Objects.requireNonNull(type, "type");
        this.kernel = Objects.requireNonNull(kernel, "kernel");
        this.name = Objects.requireNonNull(name, "name");
        this.owner = owner;
        this.ops = ops;
        this.rmapLock = new SpinLock(kernel, "pgmap->rmap_lock", name + "->rmap_lock");
        this.done = kernel.runtime().newChannel(name + "->done");
        this.unmapOp = Op.of(MEMUNMAP_PAGES, kernel.newTarget(name));
    }

    /**
     * {@code memremap_pages}: creates {@code nrPages} device-private pages on a fresh,
     * contiguous pfn range, all idle. Does not sleep.
     *
     * @return 0, or {@code -EINVAL}: no owner (the kernel WARNs), no ops, a non-positive
     *         size, or a pgmap already remapped; {@code -ENOMEM}: no pfn range of that size
     *         is left
     */
    public int memremapPages(int nrPages) {
        return memremapPages(nrPages, 1);
    }

    /**
     * {@link #memremapPages(int)} on a pfn range starting at a multiple of {@code align} pages
     * (a power of two): a range that is to hold large folios of that size (device memory
     * regions are aligned in the kernel).
     */
    public int memremapPages(int nrPages, int align) {
        if (owner == null || ops == null || nrPages <= 0 || state != State.NEW || align <= 0
                || (align & (align - 1)) != 0) {
            return -Errno.EINVAL;
        }
        PhysMem phys = PhysMem.of(kernel);
        long first = phys.addDevicePrivateRange(this, nrPages, align);
        if (first < 0) {
            return -Errno.ENOMEM;
        }
        Page[] created = new Page[nrPages];
        for (int i = 0; i < nrPages; i++) {
            created[i] = phys.pfnToPage(first + i);
        }
        startPfn = first;
        pages = created;
        state = State.LIVE;
        return 0;
    }

    /**
     * {@code memunmap_pages}: waits until no page of the range is in use, then returns the
     * pfns to the allocator. May sleep. The driver must have migrated its data out first
     * ({@link MigrateDevice#migrateDeviceRange}); a page that stays referenced keeps this call
     * waiting, as in the kernel. A call on a pgmap that is not live (never remapped, or
     * already unmapped) is reported, as the kernel's percpu_ref warns of a second kill, and
     * does nothing.
     *
     * @throws IllegalStateException if called from set-up code (outside a task, which cannot
     *         wait) while pages are in use
     */
    public void memunmapPages() {
        if (state != State.LIVE) {
            kernel.report(new Failure.InvariantViolation(KernelRules.MEMUNMAP_PAIRS_MEMREMAP,
                    "memunmap_pages of " + this, kernel.site()));
            return;
        }
        if (kernel.current() != null) {
            kernel.syncObserver().mightSleep(kernel.current(), "memunmap_pages");
            kernel.point(unmapOp);
            done.await(unmapOp.target(), () -> inUse.get() == 0, unmapOp.label(), WaitChannel.FOREVER);
        } else if (inUse.get() != 0) {
            throw new IllegalStateException("memunmap_pages outside a task with " + inUse.get() + " pages in use");
        }
        state = State.DEAD;
        PhysMem phys = PhysMem.of(kernel);
        for (Page p : pages) {
            phys.releaseDevicePrivatePage(p);
        }
        synchronized (rmap) {
            rmap.clear();
        }
    }

    /**
     * {@code zone_device_page_init}: hands out an idle page of a live pgmap: one reference,
     * page locked (as migration wants its destination pages). Does not sleep. A page that is
     * not a device-private page of a live pgmap is reported (the kernel warns when the pgmap's
     * reference cannot be taken), and so is a page still in use or locked (the kernel would
     * overwrite its count); either call then does nothing.
     */
    public static void zoneDevicePageInit(Page page) {
        DevPagemap pgmap = page.pgmap();
        if (pgmap == null || pgmap.state != State.LIVE) {
            Kernel k = page.physMem().kernel();
            k.report(new Failure.InvariantViolation(KernelRules.PAGE_INIT_LIVE_PGMAP,
                    "zone_device_page_init of " + page + (pgmap == null ? ", not a device-private page" : " of " + pgmap),
                    k.site()));
            return;
        }
        if (page.state() != Page.State.DEVICE_IDLE || page.isLocked()) {
            pgmap.kernel.report(new Failure.InvariantViolation(KernelRules.PAGE_INIT_FREE_PAGE,
                    "zone_device_page_init of " + page + ", which the driver already handed out", pgmap.kernel.site()));
            return;
        }
        PhysMem.of(pgmap.kernel).reuseDevicePrivatePage(page);
        pgmap.inUse.incrementAndGet();
        page.trylock();
    }

    /**
     * {@code zone_device_folio_init(folio, pgmap, order)}: hands out the idle, naturally
     * aligned {@code 2^order} pages from {@code head} as one folio: each page one reference (the
     * model counts references per page, as for system THPs), the head locked (the folio lock).
     * Order 0 is {@link #zoneDevicePageInit}. Does not sleep. Misuse is reported as there, and
     * the call does nothing.
     */
    public static void zoneDeviceFolioInit(Page head, int order) {
        if (order == 0) {
            zoneDevicePageInit(head);
            return;
        }
        DevPagemap pgmap = head.pgmap();
        int n = 1 << order;
        if (pgmap == null || pgmap.state != State.LIVE || (head.pfn() & (n - 1)) != 0
                || head.pfn() - pgmap.startPfn + n > pgmap.pages.length) {
            Kernel k = head.physMem().kernel();
            k.report(new Failure.InvariantViolation(KernelRules.PAGE_INIT_LIVE_PGMAP,
                    "zone_device_folio_init of order " + order + " at " + head + (pgmap == null ? "" : " of " + pgmap),
                    k.site()));
            return;
        }
        PhysMem phys = PhysMem.of(pgmap.kernel);
        for (int i = 0; i < n; i++) {
            Page p = phys.pfnToPage(head.pfn() + i);
            if (p.state() != Page.State.DEVICE_IDLE || p.isLocked()) {
                pgmap.kernel.report(new Failure.InvariantViolation(KernelRules.PAGE_INIT_FREE_PAGE,
                        "zone_device_folio_init of " + p + ", which the driver already handed out", pgmap.kernel.site()));
                return;
            }
        }
        for (int i = 0; i < n; i++) {
            phys.reuseDevicePrivatePage(phys.pfnToPage(head.pfn() + i));
        }
        synchronized (pgmap.folios) {
            pgmap.folios.put(head, order);
            pgmap.folioLive.put(head, n);
        }
        pgmap.inUse.addAndGet(n);
        head.trylock();
    }

    /** {@code folio_order}: the order of the large folio {@code page} is the head of, else 0. */
    public int folioOrder(Page page) {
        synchronized (folios) {
            return folios.getOrDefault(page, 0);
        }
    }

    /**
     * {@code page_folio}: the head of the large folio holding {@code page}, or {@code page}
     * itself. (Large device folios are naturally aligned, so the head is found by alignment.)
     */
    public Page folioHead(Page page) {
        synchronized (folios) {
            if (folios.isEmpty()) {
                return page;
            }
            for (int order = 1; order <= 9; order++) {
                Page head = page.physMem().pfnToPage(page.pfn() & -(1L << order));
                Integer o = head == null ? null : folios.get(head);
                if (o != null && o >= order) {
                    return head;
                }
            }
            return page;
        }
    }

    /**
     * {@code folio_try_get} of the large device folio at {@code head}. The kernel's folio has
     * one reference count, above zero while any of its pages is mapped or referenced; the model
     * counts references per page, so a page whose only reference went with its mapping (a
     * partial {@code munmap} of the PTE-mapped folio) is idle while its folio lives. This takes
     * a reference on every page of the folio, an idle page of the live folio getting its
     * reference back ({@code zone_device_page_init}'s reuse, without the driver: the page never
     * went back to it), and returns true; or takes nothing and returns false when no page of
     * the folio holds a reference (the folio is being freed) or {@code head} heads no large
     * folio of this pgmap. Not for drivers. Does not sleep.
     */
    boolean folioTryGet(Page head) {
        PhysMem phys = PhysMem.of(kernel);
        synchronized (folios) {
            Integer order = folios.get(head);
            Integer live = folioLive.get(head);
            if (order == null || live == null || live <= 0) {
                return false;
            }
            int n = 1 << order;
            for (int k = 0; k < n; k++) {
                Page p = phys.pfnToPage(head.pfn() + k);
                if (p.tryGet()) {
                    continue;
                }
                if (p.state() != Page.State.DEVICE_IDLE) {
                    // Its last reference is being dropped right now: give back what was taken.
                    MigrationEntries.putFolio(phys, head, k);
                    return false;
                }
                phys.reuseDevicePrivatePage(p);
                folioLive.merge(head, 1, Integer::sum);
                inUse.incrementAndGet();
            }
            return true;
        }
    }

    /**
     * The device half of {@code __split_unmapped_folio} for a large device folio: the folio
     * at {@code head} becomes {@code 2^order} folios of order 0, the driver's
     * {@link DevPagemapOps#folioSplit} called for each new tail folio and then once with no
     * tail (the head's own reset), as the kernel calls {@code pgmap->ops->folio_split}. The
     * pages keep their references, map counts and locks. Not for drivers. Does not sleep.
     *
     * @throws IllegalStateException if {@code head} is not a large folio of this pgmap
     */
    public void folioSplit(Page head) {
        int order;
        synchronized (folios) {
            Integer o = folios.remove(head);
            if (o == null) {
                throw new IllegalStateException("folio_split of a page that heads no large folio: " + head);
            }
            order = o;
            folioLive.remove(head);
        }
        PhysMem phys = PhysMem.of(kernel);
        for (int i = 1; i < 1 << order; i++) {
            ops.folioSplit(head, phys.pfnToPage(head.pfn() + i));
        }
        ops.folioSplit(head, null);
    }

    /**
     * {@code free_zone_device_folio}: the core's call when the last reference of one of this
     * pgmap's pages was dropped; the page is already idle. Runs the driver's
     * {@code page_free}. Not for drivers. A page that migration entries still name lost a
     * reference it did not own: reported as a put without a get, and {@code page_free} is not run.
     *
     * @throws IllegalStateException if the page is not an idle page of this pgmap (a model bug)
     */
    public void freeZoneDevicePage(Page page) {
        if (page.pgmap() != this || page.state() != Page.State.DEVICE_IDLE) {
            throw new IllegalStateException("free_zone_device_folio of a page that is not idle in " + name + ": " + page);
        }
        List<String> left = rmapDescribe(page);
        if (!left.isEmpty()) {
            kernel.report(new Failure.RefcountError(page.reportName(), Failure.RefcountProblem.PUT_WITHOUT_GET,
                    "put_page of the last reference of a device page still named by " + left
                            + " (the migration entries' owner still holds a reference): " + page, kernel.site()));
            return;
        }
        Page head = folioHead(page);
        if (head != page || folioOrder(page) > 0) {
            // A page of a large folio: the folio goes back to the driver with its last page.
            int order;
            synchronized (folios) {
                int live = folioLive.merge(head, -1, Integer::sum);
                if (live > 0) {
                    inUse.decrementAndGet();
                    return;
                }
                order = folios.remove(head);
                folioLive.remove(head);
            }
            ops.folioFree(head, order);
            inUse.decrementAndGet();
            done.wakeAll();
            return;
        }
        ops.pageFree(page);
        inUse.decrementAndGet();
        done.wakeAll();
    }

    public String name() { return name; }

    /** {@code pgmap->owner}. */
    public Object owner() { return owner; }

    /** {@code pgmap->type}. */
    public Type type() { return type; }

    /** True for a {@link Type#MEMORY_DEVICE_COHERENT} pgmap. */
    public boolean isCoherent() { return type == Type.MEMORY_DEVICE_COHERENT; }

    /** {@code pgmap->ops}. */
    public DevPagemapOps ops() { return ops; }

    public State state() { return state; }

    public Kernel kernel() { return kernel; }

    /** First pfn of the range (after {@link #memremapPages}). */
    public long startPfn() { return startPfn; }

    /** Number of pages of the range. */
    public int nrPages() { return pages.length; }

    /** The {@code i}-th page of the range. */
    public Page page(int i) { return pages[i]; }

    /** Every page of the range, in pfn order. */
    public List<Page> pages() { return List.of(pages); }

    /** Pages handed out by {@link #zoneDevicePageInit} and not freed since. */
    public int pagesInUse() { return inUse.get(); }

    // ---- the device rmap ----

    /**
     * Records that {@code pgd}'s entry for {@code addr} in {@code mm} now names {@code page}
     * (a device-private entry or a migration entry of it). The caller holds {@code mm}'s
     * page-table lock. For the mm core and migration; drivers do not call it.
     */
    public void rmapAdd(Page page, MmStruct mm, PageTable pgd, long addr) {
        List<RmapItem> places = places(page);
        rmapLock.lock();
        try {
            synchronized (places) {
                places.add(new RmapItem(mm, pgd, addr));
            }
        } finally {
            rmapLock.unlock();
        }
    }

    /**
     * Forgets that {@code pgd}'s entry for {@code addr} names {@code page} (the entry was
     * zapped or now names another page). The caller holds the page-table lock of
     * {@code pgd}'s mm. For the mm core and migration; drivers do not call it.
     *
     * @throws IllegalStateException if the place was not recorded (broken accounting)
     */
    public void rmapRemove(Page page, PageTable pgd, long addr) {
        List<RmapItem> places = places(page);
        boolean found = false;
        rmapLock.lock();
        try {
            synchronized (places) {
                for (int i = 0; i < places.size(); i++) {
                    RmapItem it = places.get(i);
                    if (it.pgd() == pgd && it.addr() == addr) {
                        places.remove(i);
                        found = true;
                        break;
                    }
                }
            }
        } finally {
            rmapLock.unlock();
        }
        if (!found) {
            throw new IllegalStateException("no rmap entry for 0x" + Long.toHexString(addr) + " of " + page);
        }
    }

    /**
     * The places naming {@code page}, each mm structure pinned ({@code mmgrab} under a new
     * handle of this walk, named {@link #RMAP_WALK}) so that the caller may visit them after
     * the lock is dropped. Pairs with {@link #rmapRelease}.
     */
    RmapWalk rmapGrab(Page page) {
        RefHandle walk = new RefHandle(RMAP_WALK);
        List<RmapItem> places = places(page);
        List<RmapItem> copy;
        rmapLock.lock();
        try {
            synchronized (places) {
                copy = new ArrayList<>(places);
            }
            for (RmapItem it : copy) {
                it.mm().mmgrabAs(walk);
            }
        } finally {
            rmapLock.unlock();
        }
        return new RmapWalk(walk, copy);
    }

    /** Drops the pins of {@link #rmapGrab}. May free an mm structure. */
    void rmapRelease(RmapWalk grabbed) {
        for (RmapItem it : grabbed.items()) {
            it.mm().mmdropAs(grabbed.holder());
        }
    }

    /** The places currently naming {@code page}, for checks and reports. */
    public List<String> rmapDescribe(Page page) {
        List<RmapItem> places;
        synchronized (rmap) {
            places = rmap.getOrDefault(page, Collections.emptyList());
        }
        List<String> out = new ArrayList<>();
        synchronized (places) {
            for (RmapItem it : places) {
                out.add(it.mm().name() + "@0x" + Long.toHexString(it.addr()));
            }
        }
        return out;
    }

    /**
     * The list of places of {@code page}, made when the page is first mapped: most pages of a
     * chunk never are, and the set-up of a chunk then costs its pages only.
     */
    private List<RmapItem> places(Page page) {
        List<RmapItem> places;
        synchronized (rmap) {
            places = rmap.get(page);
            if (places == null && page.pgmap() == this && state != State.DEAD && page.pfn() >= startPfn
                    && page.pfn() - startPfn < pages.length && pages[(int) (page.pfn() - startPfn)] == page) {
                places = new ArrayList<>(1);
                rmap.put(page, places);
            }
        }
        if (places == null || page.pgmap() != this) {
            throw new IllegalStateException(page + " is not a page of " + name);
        }
        return places;
    }

    @Override
    public String toString() {
        return "dev_pagemap " + name + " [" + state + ", pfn 0x" + Long.toHexString(startPfn) + "+" + pages.length + "]";
    }
}
