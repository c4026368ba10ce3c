package hmm4j.kernel.mm;

import hmm4j.kernel.KernelRules;
import hmm4j.kernel.mm.migrate.DevPagemap;
import hmm4j.sim.Kernel;
import hmm4j.sim.Op;
import hmm4j.sim.WaitChannel;
import hmm4j.sim.failure.Failure;
import hmm4j.sim.failure.Failure.RefcountProblem;
import hmm4j.sim.failure.Site;
import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;

/**
 * One physical page ({@code struct page}, or an order-0 {@code struct folio}): its pfn,
 * reference count, map count, flags, page-cache identity and contents ({@link PageContents}).
 *
 * <p>Overview. A {@code Page} object exists for every pfn {@link PhysMem} has ever handed out
 * and is reused for the life of the machine, as {@code struct page} is. Its {@link State} says
 * whether the pfn is in use: {@code FREE} (in the allocator), {@code IN_USE} (refcount &gt; 0)
 * or {@code DEVICE_IDLE} (a device-private page without references: created so by
 * {@code memremap_pages}, or whose last reference was dropped; it belongs to its driver until
 * the driver re-initialises it with {@code zone_device_page_init} or unmaps the range). The
 * last {@link #put} frees the page. Contents are a 4096-byte array allocated on the first
 * write; a page never written reads as zeros. A device-private page keeps its simulated
 * device contents here too.
 *
 * <p>Misuse. A caller's misuse of a page is a checker report, never an exception (see the
 * error policy in docs/architecture.md): a get or put on a page without a reference, or a
 * last put that would free a mapped or reserved page, is a {@link Failure.RefcountError}
 * ({@code VM_BUG_ON_PAGE} in {@code get_page}/{@code put_page_testzero}, {@code bad_page} in
 * {@code free_pages_prepare}); a read or write of the contents of a free page is a
 * {@link Failure.UseAfterFree}, KASAN style, with the page's allocation and free sites and
 * the access site; {@code unlock_page} of an unlocked page and a write to the zero page are
 * {@link Failure.InvariantViolation}s. The misused operation changes nothing (a write goes
 * nowhere, a read of a free page reads zeros), so a native run goes on. The allocation and
 * free sites are recorded only once the checkers are installed
 * ({@link hmm4j.check.Checkers#install}), and so are the sites of the last page lock and the
 * last {@code get_page}, for the end-of-run checks ({@link PageStateChecks}); without the
 * checkers a report says the sites were not recorded, and nothing is captured.
 *
 * <p>Locking. Refcount, map count and flags are atomics, as in the kernel; callers need no
 * lock for them. Contents are plain memory: concurrent writers race as CPUs would, but the
 * lazy allocation itself is atomic. {@link #state()} changes under the {@link PhysMem} lock.
 * None of these operations is a scheduling point except the sleeping page-lock calls
 * {@link #lock} and {@link #waitLocked}; {@link #unlock} wakes their sleepers without one.
 *
 * <p>Differences from the kernel (include/linux/mm.h, include/linux/page-flags.h,
 * mm/swap.c, mm/filemap.c): no compound pages; {@code _mapcount} counts from 0;
 * {@code PG_anon} is a flag instead of a tag in {@code mapping}; the page-lock sleepers of the
 * whole machine share one wait channel (the kernel hashes folios onto a table of queues, and
 * uses {@code PG_waiters} to skip the wake-up); a device-private page points to its
 * {@link DevPagemap} ({@code page->pgmap}), whose ops get it when its last reference goes.
 */
public final class Page {
    private static final Op.Kind LOCK_PAGE = new Op.Kind("lock_page", Op.Access.WRITE);
    private static final Op.Kind FOLIO_WAIT_LOCKED = new Op.Kind("folio_wait_locked", Op.Access.READ);

    /** Where the page is in its life. Transitions: FREE → IN_USE → FREE, IN_USE ⇄ DEVICE_IDLE. */
    public enum State { FREE, IN_USE, DEVICE_IDLE }

    /** {@code PG_locked}. */
    public static final int PG_LOCKED = 1;
    /** {@code PG_dirty}: contents newer than the backing store. */
    public static final int PG_DIRTY = 1 << 1;
    /** An anonymous page ({@code PageAnon}). */
    public static final int PG_ANON = 1 << 2;
    /** {@code PG_swapbacked}: anonymous or shmem, backed by swap. */
    public static final int PG_SWAPBACKED = 1 << 3;
    /** {@code PG_reserved}: never freed (the zero page). */
    public static final int PG_RESERVED = 1 << 4;
    /** A {@code MEMORY_DEVICE_PRIVATE} page: its contents live on a device. */
    public static final int PG_DEVICE_PRIVATE = 1 << 5;

    private static final VarHandle REFCOUNT = field("refcount", int.class);
    private static final VarHandle MAPCOUNT = field("mapcount", int.class);
    private static final VarHandle FLAGS = field("flags", int.class);

    private final PhysMem physMem;
    private final long pfn;
    /** The page lock's operations, built once per page; their target is the page. */
    // Made on first use (a machine has many pages and a run locks few of them); the target's
    // number is taken at creation, so numbering is the same either way. Racy first builds
    // make equal values.
    private final int targetId;
    private Op lockOp;
    private Op waitLockedOp;
    private volatile int refcount;
    private volatile int mapcount;
    private volatile int flags;
    private final PageContents contents = new PageContents(this);
    private volatile State state = State.FREE;
    private volatile int generation;
    private volatile DevPagemap pgmap;
    private volatile ShmemFile mapping;
    private volatile long index;
    /** Where the page was last allocated (handed a first reference); null unless the checkers record sites. */
    private volatile Site allocSite;
    /** Where the page last lost its last reference; null while in use, or unless the checkers record sites. */
    private volatile Site freeSite;
    /** Where the page lock was last taken; null unless the checkers record sites. */
    private volatile Site lockSite;
    /** Where the last {@code get_page} of the page was; null unless the checkers record sites. */
    private volatile Site getSite;
    /** The NUMA node the page is on ({@code folio_nid}); 0 unless a migration placed it elsewhere. */
    private volatile int nid;

    Page(PhysMem physMem, long pfn) {
        this.physMem = physMem;
        this.pfn = pfn;
        this.targetId = physMem.kernel().newTargetId();
    }

    private Op lockOp() {
        Op op = lockOp;
        if (op == null) {
            Op w = waitLockedOp;
            op = lockOp = Op.of(LOCK_PAGE, w != null ? w.target() : new Op.Target(targetId, "pfn=0x" + Long.toHexString(pfn)));
        }
        return op;
    }

    private Op waitLockedOp() {
        Op op = waitLockedOp;
        if (op == null) {
            op = waitLockedOp = Op.of(FOLIO_WAIT_LOCKED, lockOp().target());
        }
        return op;
    }

    /** {@code folio_nid}: the page's NUMA node. */
    public int nid() { return nid; }

    /** Places a freshly allocated page on {@code node} (the migration target's allocation). */
    void setNid(int node) { nid = node; }

    /** {@code page_to_pfn}. */
    public long pfn() { return pfn; }

    /** The allocator this page belongs to. */
    public PhysMem physMem() { return physMem; }

    /** Where the page is in its life. */
    public State state() { return state; }

    /** How many times this pfn has been allocated; tells a stale holder from the current one. */
    public int generation() { return generation; }

    // ---- reference count (get_page / put_page) ----

    /** {@code page_ref_count}. */
    public int refcount() { return refcount; }

    /**
     * {@code get_page}: the caller must already hold a reference (directly or via a mapping
     * under its lock). A get on a page without a reference is reported as a refcount error
     * (addition on 0, with the page's allocation and free sites) and takes nothing.
     */
    public void get() {
        int old = (int) REFCOUNT.getAndAdd(this, 1);
        if (old <= 0) {
            REFCOUNT.getAndAdd(this, -1);
            reportRefcount(RefcountProblem.ADDITION_ON_ZERO, "get_page", old);
            return;
        }
        getSite = physMem.sites().siteOrNull();
    }

    /** {@code get_page_unless_zero}: takes a reference unless the page is being freed. */
    public boolean tryGet() {
        int v;
        do {
            v = refcount;
            if (v <= 0) {
                return false;
            }
        } while (!REFCOUNT.compareAndSet(this, v, v + 1));
        getSite = physMem.sites().siteOrNull();
        return true;
    }

    /**
     * {@code put_page}: drops one reference; the last one frees the page (a device-private
     * page goes to its owner's {@code page_free} hook). Reported as a refcount error, with the
     * count left alone: a put on a page without a reference (underflow, with the page's
     * allocation and free sites), and a put of the last reference of a reserved page or of a
     * page still mapped (a put without a matching get: the mappings own references).
     */
    public void put() {
        int old = (int) REFCOUNT.getAndAdd(this, -1);
        if (old <= 0) {
            REFCOUNT.getAndAdd(this, 1);
            reportRefcount(RefcountProblem.UNDERFLOW, "put_page", old);
            return;
        }
        if (old == 1) {
            if ((flags & PG_RESERVED) != 0) {
                REFCOUNT.getAndAdd(this, 1);
                reportRefcount(RefcountProblem.PUT_WITHOUT_GET, "put_page of the reserved reference", old);
                return;
            }
            if (mapcount != 0) {
                REFCOUNT.getAndAdd(this, 1);
                reportRefcount(RefcountProblem.PUT_WITHOUT_GET, "put_page of the last reference of a mapped page", old);
                return;
            }
            if ((flags & PG_LOCKED) != 0 && pgmap == null) {
                // free_pages_prepare: a locked page is a bad page; the kernel reports it and
                // never frees it (so no waiter is woken). The model keeps it in use, as above.
                REFCOUNT.getAndAdd(this, 1);
                Kernel k = physMem.kernel();
                k.report(new Failure.InvariantViolation(KernelRules.FREE_UNLOCKED_PAGE, "BUG: Bad page state: put_page of"
                        + " the last reference of " + this + ", which is locked (page dumped because:"
                        + " PAGE_FLAGS_CHECK_AT_FREE flag(s) set); locked by " + lockSiteForReport(), k.site()));
                return;
            }
            Site site = physMem.sites().siteOrNull();
            if (site != null) {
                freeSite = site;
            }
            physMem.release(this);
        }
    }

    // ---- map count ----

    /** {@code page_mapcount}: the number of page-table entries mapping this page. */
    public int mapcount() { return mapcount; }

    /** Counts one more mapping ({@code page_add_*_rmap}). */
    public void incMapcount() {
        MAPCOUNT.getAndAdd(this, 1);
    }

    /** Counts one mapping less ({@code page_remove_rmap}); true when it was the last. Raises on underflow. */
    public boolean decMapcount() {
        int old = (int) MAPCOUNT.getAndAdd(this, -1);
        if (old <= 0) {
            MAPCOUNT.getAndAdd(this, 1);
            throw new IllegalStateException("mapcount underflow: " + this);
        }
        return old == 1;
    }

    // ---- flags ----

    /** {@code PageXxx}. */
    public boolean testFlag(int flag) {
        return (flags & flag) != 0;
    }

    /** {@code SetPageXxx}. */
    public void setFlag(int flag) {
        FLAGS.getAndBitwiseOr(this, flag);
    }

    /** {@code ClearPageXxx}. */
    public void clearFlag(int flag) {
        FLAGS.getAndBitwiseAnd(this, ~flag);
    }

    /** {@code TestSetPageXxx}: sets the flag and returns whether it was already set. */
    public boolean testAndSetFlag(int flag) {
        return ((int) FLAGS.getAndBitwiseOr(this, flag) & flag) != 0;
    }

    /** {@code trylock_page}: true if this call took the page lock. */
    public boolean trylock() {
        boolean taken = !testAndSetFlag(PG_LOCKED);
        if (taken) lockSite = physMem.sites().siteOrNull();
        return taken;
    }

    /**
     * {@code lock_page}: takes the page lock, sleeping while someone else holds it. May sleep
     * (a scheduling point); the caller holds no spinlock. Pairs with {@link #unlock}.
     */
    public void lock() {
        Kernel k = physMem.kernel();
        k.syncObserver().mightSleep(k.current(), "lock_page");
        Rmap.mightLockFolio(k);
        Op lockOp = lockOp();
        k.point(lockOp);
        while (!trylock()) {
            // The wait names the holder; a new holder (the lock changed hands before this
            // task ran) ends the wait so that it starts again naming that one.
            Site holder = lockSite;
            physMem.pageLockChannel().await(lockOp.target(), () -> !isLocked() || lockSite != holder,
                    lockOp.label() + lockHolder(holder), WaitChannel.FOREVER);
        }
    }

    /** For a wait's reason: {@code " held by T (locked at SITE)"}, or nothing when no site was recorded. */
    static String lockHolder(Site holder) {
        return holder == null ? "" : " held by " + holder.task() + " (locked at " + holder + ")";
    }

    /** Where the page lock was last taken, or null when no site was recorded. */
    Site lockSiteOrNull() {
        return lockSite;
    }

    /**
     * {@code folio_wait_locked}: sleeps until the page is not locked, without taking the lock.
     * May sleep; the caller holds no spinlock and, as the kernel's callers, a reason to
     * believe the page cannot be reused meanwhile (a reference, or a mapping it re-checks).
     */
    public void waitLocked() {
        Kernel k = physMem.kernel();
        k.syncObserver().mightSleep(k.current(), "folio_wait_locked");
        Op waitLockedOp = waitLockedOp();
        k.point(waitLockedOp);
        physMem.pageLockChannel().await(waitLockedOp.target(), () -> !isLocked(),
                waitLockedOp.label() + lockHolder(lockSite), WaitChannel.FOREVER);
    }

    /**
     * {@code unlock_page}: releases the page lock and wakes its sleepers. Unlocking a page that
     * is not locked is reported (the kernel's {@code VM_BUG_ON_FOLIO} in {@code folio_unlock})
     * and changes nothing.
     */
    public void unlock() {
        if (((int) FLAGS.getAndBitwiseAnd(this, ~PG_LOCKED) & PG_LOCKED) == 0) {
            Kernel k = physMem.kernel();
            k.report(new Failure.InvariantViolation(KernelRules.UNLOCK_LOCKED_PAGE,
                    "unlock_page of " + this, k.site()));
            return;
        }
        physMem.pageLockChannel().wakeAll();
    }

    public boolean isLocked() { return testFlag(PG_LOCKED); }

    public boolean isDirty() { return testFlag(PG_DIRTY); }

    public boolean isAnon() { return testFlag(PG_ANON); }

    public boolean isSwapBacked() { return testFlag(PG_SWAPBACKED); }

    /** {@code is_device_private_page}. */
    public boolean isDevicePrivate() { return testFlag(PG_DEVICE_PRIVATE); }

    /** The {@code pgmap->owner} of a device-private page, else null. */
    public Object devicePrivateOwner() {
        DevPagemap p = pgmap;
        return p == null ? null : p.owner();
    }

    /** {@code page_pgmap}: the device memory this page belongs to, or null for ordinary memory. */
    public DevPagemap pgmap() { return pgmap; }

    /** True for the shared zero page. */
    public boolean isZeroPage() { return pfn == PhysMem.ZERO_PFN; }

    // ---- page-cache identity ----

    /** {@code page->mapping} of a page-cache page; null for anonymous or truncated pages. */
    public ShmemFile mapping() { return mapping; }

    /** {@code page->index}: the page's offset in its file, in pages. */
    public long index() { return index; }

    void setMapping(ShmemFile file, long index) {
        this.index = index;
        this.mapping = file;
    }

    // ---- contents ({@link PageContents}) ----
    // A read of a free page is reported as a use-after-free and reads zeros; a write to a free
    // page is reported the same way, a write to the zero page as an invariant violation, and
    // either write goes nowhere. An offset outside the page throws IndexOutOfBoundsException.

    /** True once the page has been written (its contents array exists). */
    public boolean hasContents() { return contents.exists(); }

    /** Reads one byte. */
    public byte readByte(int offset) { return contents.readByte(offset); }

    /** Writes one byte. */
    public void writeByte(int offset, byte value) { contents.writeByte(offset, value); }

    /** Reads a little-endian int at {@code offset}. */
    public int readInt(int offset) { return contents.readInt(offset); }

    /** Writes a little-endian int at {@code offset}. */
    public void writeInt(int offset, int value) { contents.writeInt(offset, value); }

    /** Reads a little-endian long at {@code offset}. */
    public long readLong(int offset) { return contents.readLong(offset); }

    /** Writes a little-endian long at {@code offset}. */
    public void writeLong(int offset, long value) { contents.writeLong(offset, value); }

    /** Copies {@code len} bytes from page offset {@code offset} into {@code dst[dstOff..]}. */
    public void readBytes(int offset, byte[] dst, int dstOff, int len) {
        contents.readBytes(offset, dst, dstOff, len);
    }

    /** Copies {@code len} bytes from {@code src[srcOff..]} to page offset {@code offset}. */
    public void writeBytes(int offset, byte[] src, int srcOff, int len) {
        contents.writeBytes(offset, src, srcOff, len);
    }

    /** {@code copy_highpage}: makes this page's contents equal to {@code src}'s. */
    public void copyFrom(Page src) { contents.copyFrom(src.contents); }

    /** {@code clear_highpage}: zeroes the contents (and drops the array). */
    public void clear() { contents.clear(); }

    /** A copy of the contents, or null if the page reads as zeros. */
    byte[] contentsCopy() { return contents.copy(); }

    /** Installs contents (taken over, not copied); null means zeros. */
    void setContents(byte[] bytes) { contents.set(bytes); }

    /** True if the contents may be read; a free page is reported (false after a native report). */
    boolean checkReadable() {
        if (state == State.FREE) {
            reportUseAfterFree("read of the contents");
            return false;
        }
        return true;
    }

    /** True if the contents may be written; a free or reserved page is reported (false after a native report). */
    boolean checkWritable() {
        if (state == State.FREE) {
            reportUseAfterFree("write of the contents");
            return false;
        }
        if ((flags & PG_RESERVED) != 0) {
            Kernel k = physMem.kernel();
            k.report(new Failure.InvariantViolation(KernelRules.ZERO_PAGE_READ_ONLY,
                    "write to the contents of " + this, k.site()));
            return false;
        }
        return true;
    }

    // ---- reports (the error policy: a caller's misuse of a page is a checker report) ----

    /** The page's name in reports: its pfn and how many times the pfn was handed out. */
    public String reportName() {
        return "page pfn=0x" + Long.toHexString(pfn) + " (generation " + generation + ")";
    }

    /** Where the page was last allocated, or a stand-in when no site was recorded. */
    Site allocSiteForReport() {
        return CheckerSites.orNotRecorded(allocSite);
    }

    /** Where the page last lost its last reference, or a stand-in when no site was recorded. */
    Site freeSiteForReport() {
        return CheckerSites.orNotRecorded(freeSite);
    }

    /** Where the page lock was last taken, or a stand-in when no site was recorded. */
    Site lockSiteForReport() { return CheckerSites.orNotRecorded(lockSite); }

    /** Where the last {@code get_page} was, else where the page was allocated (its first reference), else a stand-in. */
    Site lastReferenceSiteForReport() { return CheckerSites.orNotRecorded(getSite != null ? getSite : allocSite); }

    /** KASAN style: the access, and the page's allocation and free sites. In a task, does not return. */
    private void reportUseAfterFree(String access) {
        Kernel k = physMem.kernel();
        k.report(new Failure.UseAfterFree(reportName(), access, allocSiteForReport(), freeSiteForReport(), k.site()));
    }

    /**
     * A refcount misuse by {@code op} on a count that was {@code old}; a page without a
     * reference names its allocation and free sites. In a task, does not return.
     */
    private void reportRefcount(RefcountProblem problem, String op, int old) {
        Kernel k = physMem.kernel();
        String detail = op + " on " + this + " with refcount " + old;
        if (old <= 0) {
            detail += "; allocated by " + allocSiteForReport() + "; freed by " + freeSiteForReport();
        } else if (mapcount != 0) {
            detail += " and map count " + mapcount + " (free_pages_prepare: bad page state, nonzero mapcount)";
        } else {
            detail += " (free_pages_prepare: bad page state, PG_reserved set)";
        }
        k.report(new Failure.RefcountError(reportName(), problem, detail, k.site()));
    }

    // ---- allocator hooks (PhysMem, under its lock) ----

    void onAllocate(int initialFlags, Site site) {
        nid = 0;
        allocSite = site;
        freeSite = null;
        lockSite = null;
        getSite = null;
        generation++;
        flags = initialFlags;
        pgmap = null;
        mapcount = 0;
        mapping = null;
        index = 0;
        contents.drop();
        refcount = 1;
        state = State.IN_USE;
    }

    void onFree() {
        state = State.FREE;
        flags = 0;
        pgmap = null;
        mapping = null;
        contents.drop();
    }

    /** {@code memremap_pages}: a new device-private page of {@code owner}, idle (no reference yet). */
    void onDeviceCreate(DevPagemap owner, Site site) {
        allocSite = site;
        freeSite = site;
        generation++;
        flags = owner.isCoherent() ? 0 : PG_DEVICE_PRIVATE;
        pgmap = owner;
        mapcount = 0;
        mapping = null;
        index = 0;
        contents.drop();
        refcount = 0;
        state = State.DEVICE_IDLE;
    }

    /** Device-private page back to its driver: contents, flags and identity go, the pgmap stays. */
    void onDeviceIdle() {
        state = State.DEVICE_IDLE;
        FLAGS.getAndBitwiseAnd(this, PG_DEVICE_PRIVATE);
        mapping = null;
        index = 0;
        contents.drop();
    }

    /** {@code zone_device_page_init}: an idle device-private page gets its first reference again. */
    void onDeviceReuse(Site site) {
        allocSite = site;
        freeSite = null;
        generation++;
        mapcount = 0;
        refcount = 1;
        state = State.IN_USE;
    }

    private static VarHandle field(String name, Class<?> type) {
        try {
            return MethodHandles.lookup().findVarHandle(Page.class, name, type);
        } catch (ReflectiveOperationException e) {
            throw new ExceptionInInitializerError(e);
        }
    }

    @Override
    public String toString() {
        StringBuilder sb = new StringBuilder("page pfn=0x").append(Long.toHexString(pfn))
                .append(' ').append(state).append(" ref=").append(refcount).append(" map=").append(mapcount);
        int f = flags;
        if ((f & PG_LOCKED) != 0) sb.append(" locked");
        if ((f & PG_DIRTY) != 0) sb.append(" dirty");
        if ((f & PG_ANON) != 0) sb.append(" anon");
        if ((f & PG_SWAPBACKED) != 0) sb.append(" swapbacked");
        if ((f & PG_RESERVED) != 0) sb.append(" reserved");
        if ((f & PG_DEVICE_PRIVATE) != 0) sb.append(" device-private");
        ShmemFile m = mapping;
        if (m != null) sb.append(" file=").append(m.name()).append('@').append(index);
        return sb.toString();
    }
}
