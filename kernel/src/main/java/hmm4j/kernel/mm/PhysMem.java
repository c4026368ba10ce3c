package hmm4j.kernel.mm;

import hmm4j.kernel.mm.migrate.DevPagemap;
import hmm4j.sim.Kernel;
import hmm4j.sim.WaitChannel;
import hmm4j.sim.failure.Site;
import java.util.Arrays;
import java.util.Objects;

/**
 * The physical memory of one simulated machine: a page allocator over pfns and the
 * pfn-to-{@link Page} map. A per-{@link Kernel} component: {@link #of(Kernel)}.
 *
 * <p>Overview. Pfn 0 is never used, so an entry or an array slot of 0 never names a page;
 * pfn {@link #ZERO_PFN} is the shared zero page, reserved and never written. Other pfns are
 * handed out from a last-in-first-out free list, then from a high-water mark, so a freed pfn
 * is the next one reused: a stale pfn left in a device's tables soon names someone else's
 * page, as on a real machine, and runs stay deterministic. Ordinary pages count against
 * {@link #totalPages()}; device-private pages take a contiguous range of pfns from the same
 * space, above the high-water mark ({@link #addDevicePrivateRange}, the model's
 * {@code request_free_mem_region}), but not from that budget (they stand for device memory).
 * Page objects are created once per pfn and kept, so {@link #pfnToPage} is an array lookup.
 *
 * <p>Locking. The allocator state is guarded by {@code lock} (the zone lock), a plain monitor:
 * safe under real threads, and in the controlled runtime not a scheduling point, because which
 * task gets which pfn first is not an interleaving the model explores. Callers may hold any
 * model lock, spinlocks included. {@link #pfnToPage} takes no lock: the pages below the
 * published high-water mark are visible to every thread.
 *
 * <p>Sites. Once the checkers are installed ({@link CheckerSites}), each page records
 * where it was allocated and where its last reference went, so that a misuse of the page is
 * reported with them ({@link Page}); without the checkers nothing is captured and the
 * allocation path allocates nothing for it.
 *
 * <p>The page lock's sleepers ({@link Page#lock}, {@link Page#waitLocked}) wait on one wait
 * channel of the machine, {@link #pageLockChannel}.
 *
 * <p>Huge pages ({@link #allocFolio}, {@link #hugeZeroPfn}): an order-{@code n} allocation
 * takes {@code 2^n} fresh pfns above the high-water mark, aligned to {@code 2^n} as the buddy
 * allocator's blocks are (the pfns skipped to align go to the free list); each page has its
 * own reference, and a page freed later goes back to the order-0 free list alone (no buddy
 * merging, so freed pfns are never reused for a huge allocation).
 *
 * <p>Differences from the kernel (mm/page_alloc.c, mm/memremap.c): one zone, no buddy
 * merging, no watermarks or reclaim (allocation just fails with null when the budget is
 * spent); new pages read as zeros.
 */
public final class PhysMem {

    /** The shared zero page's pfn. Pfn 0 is reserved. */
    public static final long ZERO_PFN = 1;
    /** The first pfn the allocator hands out. */
    public static final long FIRST_PFN = 2;
    /** Default budget of ordinary pages: 16 GiB worth. */
    public static final long DEFAULT_TOTAL_PAGES = 1L << 22;

    /**
     * Pages per chunk of the pfn table, as a shift: small, since a run of a small machine
     * touches a few dozen pfns and pays for its first chunk whole.
     */
    private static final int CHUNK_SHIFT = 9;
    private static final int CHUNK_SIZE = 1 << CHUNK_SHIFT;

    final Object lock = new Object();
    private final Kernel kernel;
    private final long totalPages;
    private final Page zeroPage;
    private volatile Page[][] chunks = new Page[64][];
    /** One past the highest pfn ever created; written under the lock after the Page exists. */
    private volatile long highPfn;
    private long[] freePfns = new long[64];
    private int freeCount;
    private long usedPages;
    private long devicePages;
    private volatile long hugeZeroPfn;
    private final WaitChannel pageLockChannel;
    private final CheckerSites sites;
    /** True once the end-of-run page checks exist ({@link PageStateChecks}, with the checkers only). */
    private volatile boolean pageStateChecks;

    /** Physical memory with the default budget. Use {@link #of} to get the kernel's instance. */
    public PhysMem(Kernel kernel) {
        this(kernel, DEFAULT_TOTAL_PAGES);
    }

    /**
     * Physical memory of {@code totalPages} ordinary pages. To give a kernel a small memory,
     * register it before anything else asks: {@code kernel.component(PhysMem.class, () -> new
     * PhysMem(kernel, 256))}.
     */
    public PhysMem(Kernel kernel, long totalPages) {
        if (totalPages <= 0) {
            throw new IllegalArgumentException("totalPages must be positive");
        }
        this.kernel = Objects.requireNonNull(kernel);
        this.totalPages = totalPages;
        this.pageLockChannel = kernel.runtime().newChannel("page lock");
        this.sites = new CheckerSites(kernel);
        synchronized (lock) {
            zeroPage = create(ZERO_PFN);
            zeroPage.onAllocate(Page.PG_RESERVED, null);
            highPfn = FIRST_PFN;
        }
    }

    /** The kernel's physical memory, created with the default budget on first use. */
    public static PhysMem of(Kernel kernel) {
        PhysMem existing = kernel.componentOrNull(PhysMem.class); // no capturing lambda once made
        return existing != null ? existing : kernel.component(PhysMem.class, () -> new PhysMem(kernel));
    }

    public Kernel kernel() {
        return kernel;
    }

    /** {@code my_zero_pfn}. */
    public long zeroPfn() {
        return ZERO_PFN;
    }

    /** The shared zero page: reserved, read-only, never freed. */
    public Page zeroPage() {
        return zeroPage;
    }

    /**
     * {@code alloc_page}: a zeroed ordinary page with one reference, or null when the budget
     * is spent. Does not sleep; the caller may hold spinlocks. Pairs with the {@link Page#put}
     * that drops the last reference.
     */
    public Page allocPage() {
        Site site = sites.siteOrNull();
        if (site != null && !pageStateChecks) {
            pageStateChecks = true;
            PageStateChecks.create(this);
        }
        synchronized (lock) {
            if (usedPages >= totalPages) {
                return null;
            }
            Page p = takePfn();
            usedPages++;
            p.onAllocate(0, site);
            return p;
        }
    }

    /**
     * {@code folio_alloc(gfp, order)} for an anonymous THP, or a gigantic hugetlb page of order
     * 18 ({@code alloc_gigantic_folio}; no other order above 9): {@code 2^order} zeroed pages on
     * consecutive pfns aligned to {@code 2^order}, each with one reference, or null when the
     * budget has fewer pages left. Returns the first (head) page; the others are
     * {@code pfnToPage(head.pfn() + i)}.
     */
    public Page allocFolio(int order) {
        if (order < 0 || order > Pte.PMD_SHIFT - Pte.PAGE_SHIFT && order != Pte.PUD_SHIFT - Pte.PAGE_SHIFT) {
            throw new IllegalArgumentException("order " + order);
        }
        Site site = sites.siteOrNull();
        if (site != null && !pageStateChecks) {
            pageStateChecks = true;
            PageStateChecks.create(this);
        }
        int n = 1 << order;
        synchronized (lock) {
            if (usedPages + n > totalPages) {
                return null;
            }
            long first = alignFresh(n);
            for (int i = 0; i < n; i++) {
                Page p = create(first + i);
                highPfn = first + i + 1;
                p.onAllocate(0, site);
            }
            usedPages += n;
            return pfnToPage(first);
        }
    }

    /**
     * {@code mm_get_huge_zero_folio}: the first pfn of the huge zero page, 512 reserved,
     * read-only pages allocated on first use and then kept for the life of the machine (the
     * kernel may free it when no mapping uses it). Not counted against the budget, as the
     * zero page is not.
     */
    public long hugeZeroPfn() {
        synchronized (lock) {
            if (hugeZeroPfn == 0) {
                int n = 1 << (Pte.PMD_SHIFT - Pte.PAGE_SHIFT);
                long first = alignFresh(n);
                for (int i = 0; i < n; i++) {
                    Page p = create(first + i);
                    highPfn = first + i + 1;
                    p.onAllocate(Page.PG_RESERVED, null);
                }
                hugeZeroPfn = first;
            }
            return hugeZeroPfn;
        }
    }

    /** The huge zero page's first pfn, or 0 while it has not been needed (no lock: a published value). */
    public long hugeZeroPfnIfAllocated() {
        return hugeZeroPfn;
    }

    /** Where pages record their allocation and free sites (only with the checkers installed). */
    CheckerSites sites() {
        return sites;
    }

    /**
     * The pages of a {@code memremap_pages} call: {@code nrPages} device-private pages of
     * {@code pgmap} on a contiguous range of fresh pfns, all {@link Page.State#DEVICE_IDLE}
     * (no reference) until {@link #reuseDevicePrivatePage}. When the last reference of one is
     * dropped it goes idle again and its pgmap's {@code page_free} runs, outside the allocator
     * lock. Called by {@link DevPagemap#memremapPages}.
     *
     * @return the first pfn of the range, or -1 when no range of {@code nrPages} pfns is left
     * @throws IllegalArgumentException if {@code nrPages} is not positive
     */
    public long addDevicePrivateRange(DevPagemap pgmap, int nrPages) {
        return addDevicePrivateRange(pgmap, nrPages, 1);
    }

    /**
     * {@link #addDevicePrivateRange(DevPagemap, int)} with the first pfn a multiple of
     * {@code align} (a power of two; a range that may hold large folios is aligned to their
     * size, as a device memory region is). The pfns skipped go to the free list.
     */
    public long addDevicePrivateRange(DevPagemap pgmap, int nrPages, int align) {
        Objects.requireNonNull(pgmap, "pgmap");
        if (nrPages <= 0 || align <= 0 || (align & (align - 1)) != 0) {
            throw new IllegalArgumentException("nrPages and align must be positive, align a power of two: " + nrPages
                    + ", " + align);
        }
        Site site = sites.siteOrNull();
        synchronized (lock) {
            long first = align > 1 ? alignFresh(align) : highPfn;
            if (first + nrPages - 1 > Pte.MAX_PFN) {
                return -1;
            }
            for (int i = 0; i < nrPages; i++) {
                Page p = create(first + i);
                p.onDeviceCreate(pgmap, site);
                highPfn = first + i + 1;
            }
            devicePages += nrPages;
            return first;
        }
    }

    /**
     * {@code zone_device_page_init}: gives an idle device-private page its first reference
     * again. Called by {@link DevPagemap#zoneDevicePageInit}, which reports a driver's misuse.
     *
     * @throws IllegalStateException if the page is not idle (a model bug: the caller checks first)
     */
    public void reuseDevicePrivatePage(Page page) {
        Site site = sites.siteOrNull();
        synchronized (lock) {
            if (page.state() != Page.State.DEVICE_IDLE) {
                throw new IllegalStateException("reuse of a device page that is not idle: " + page);
            }
            page.onDeviceReuse(site);
        }
    }

    /**
     * Returns an idle device-private page's pfn to the allocator (from {@code memunmap_pages},
     * which first waits until every page is idle).
     *
     * @throws IllegalStateException if the page is not idle (a model bug)
     */
    public void releaseDevicePrivatePage(Page page) {
        synchronized (lock) {
            if (page.state() != Page.State.DEVICE_IDLE) {
                throw new IllegalStateException("release of a device page that is not idle: " + page);
            }
            devicePages--;
            freePfn(page);
        }
    }

    /**
     * {@code pfn_to_page}: the page of {@code pfn}, whatever its state, or null when no page
     * with that pfn was ever created. Takes no lock and allocates nothing.
     */
    public Page pfnToPage(long pfn) {
        if (pfn <= 0 || pfn >= highPfn) {
            return null;
        }
        Page[] chunk = chunks[(int) (pfn >>> CHUNK_SHIFT)];
        return chunk[(int) (pfn & (CHUNK_SIZE - 1))];
    }

    /** One past the highest pfn ever handed out (pages below it exist; for the end-of-run checks). */
    long highPfn() {
        return highPfn;
    }

    /** The budget of ordinary pages. */
    public long totalPages() {
        return totalPages;
    }

    /** Ordinary pages in use (the zero page is not counted). */
    public long usedPages() {
        synchronized (lock) {
            return usedPages;
        }
    }

    /** Ordinary pages still available. */
    public long freePages() {
        synchronized (lock) {
            return totalPages - usedPages;
        }
    }

    /** Device-private pages allocated and not released (in use or idle). */
    public long devicePrivatePages() {
        synchronized (lock) {
            return devicePages;
        }
    }

    /** The wait channel of page-lock sleepers; {@link Page#unlock} wakes it. */
    WaitChannel pageLockChannel() {
        return pageLockChannel;
    }

    // ---- called by Page ----

    /** The last reference of {@code page} is gone. */
    void release(Page page) {
        DevPagemap pgmap = null;
        boolean wasLocked = page.isLocked();
        synchronized (lock) {
            if (page.pgmap() != null) {
                pgmap = page.pgmap();
                page.onDeviceIdle();
            } else {
                usedPages--;
                freePfn(page);
            }
        }
        if (wasLocked) {
            pageLockChannel.wakeAll();
        }
        if (pgmap != null) {
            pgmap.freeZoneDevicePage(page);
        }
    }

    // ---- internals (under lock) ----

    private Page takePfn() {
        if (freeCount > 0) {
            long pfn = freePfns[--freeCount];
            return pfnToPage(pfn);
        }
        long pfn = highPfn;
        Page p = create(pfn);
        highPfn = pfn + 1;
        return p;
    }

    private void freePfn(Page page) {
        page.onFree();
        if (freeCount == freePfns.length) {
            freePfns = Arrays.copyOf(freePfns, freeCount * 2);
        }
        freePfns[freeCount++] = page.pfn();
    }

    /** Moves the high-water mark to a multiple of {@code n}; the pfns skipped go to the free list. */
    private long alignFresh(int n) {
        long first = (highPfn + n - 1) & -(long) n;
        for (long pfn = highPfn; pfn < first; pfn++) {
            Page p = create(pfn);
            highPfn = pfn + 1;
            freePfn(p);
        }
        if (first + n - 1 > Pte.MAX_PFN) {
            throw new IllegalStateException("pfn space exhausted");
        }
        return first;
    }

    private Page create(long pfn) {
        int c = (int) (pfn >>> CHUNK_SHIFT);
        Page[][] cs = chunks;
        if (c >= cs.length) {
            cs = Arrays.copyOf(cs, Math.max(cs.length * 2, c + 1));
        }
        if (cs[c] == null) {
            cs[c] = new Page[CHUNK_SIZE];
        }
        chunks = cs;
        Page p = new Page(this, pfn);
        cs[c][(int) (pfn & (CHUNK_SIZE - 1))] = p;
        return p;
    }
}
