package hmm4j.kernel.mm.devmap;

import hmm4j.kernel.mm.MmStruct;
import hmm4j.kernel.mm.Page;
import hmm4j.kernel.mm.Pte;
import hmm4j.sim.Kernel;
import hmm4j.sim.failure.Site;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.TreeMap;

/**
 * What a driver's device maps in one address space, as the driver declares it: one entry per
 * page address, naming a page and whether the device may write through it. The checker
 * ({@link DeviceMapChecker}) compares the entries with the CPU page table of {@link #mm()}
 * after every invalidation of the mm has ended, before every {@link #access} and at
 * quiescence, and reports a violation naming the entry, its commit site and, for an entry an
 * invalidation should have removed, that invalidation (its event, range and start site).
 *
 * <p>Usage: {@link #map} where the driver commits an entry to its device table (inside its
 * notifier lock, after {@code mmu_interval_read_retry} said the snapshot is current),
 * {@link #unmap} / {@link #unmapRange} where its invalidate callback (or any teardown) clears
 * entries, {@link #access} right before the device reads or writes through an entry, and
 * {@link #close} when the device table is destroyed.
 *
 * <p>Overview: entries live in a tree keyed by page number, so an invalidation's range is a
 * sub-map; each entry keeps the checker's serial at its commit, which orders it against the
 * starts of invalidations. Declaring is no scheduling point and changes no interleaving.
 *
 * <p>Locking: none of the model's; the map is the driver's bookkeeping and is updated where
 * the driver updates its own table, under the driver's lock. Its methods are
 * {@code synchronized} for the native runtime.
 *
 * <p>Differences from the kernel: the kernel has no such declaration; the contract it checks is
 * the one of {@code mmu_notifier.h} (no secondary mapping may outlive the invalidation of its
 * range) and of hmm.rst (device entries follow the CPU page table), stated as assertions.
 */
public final class DeviceMap {
    /**
     * One declared entry.
     *
     * @param addr     the page address
     * @param page     the page the device maps there
     * @param writable whether the device may write through the entry
     * @param owner    the owner cookie the entry is judged with: the {@code pgmap->owner} its
     *                 device-private page must have and the owner of the migrations that may
     *                 leave it in place (the map's owner unless the entry was declared with one)
     * @param serial   the checker's serial at the commit (orders it against invalidation starts)
     * @param site     where the entry was committed
     */
    public record Entry(long addr, Page page, boolean writable, Object owner, long serial, Site site) {
        @Override
        public String toString() {
            return "device entry 0x" + Long.toHexString(addr) + " -> " + page + (writable ? " (write)" : " (read)");
        }
    }

    private final DeviceMapChecker checker;
    private final MmStruct mm;
    private final String name;
    private final Object owner;
    private final TreeMap<Long, Entry> entries = new TreeMap<>();
    private boolean closed;

    private DeviceMap(DeviceMapChecker checker, MmStruct mm, String name, Object owner) {
        this.checker = checker;
        this.mm = mm;
        this.name = name;
        this.owner = owner;
    }

    /**
     * A new, empty device map of {@code mm}, checked from now on.
     *
     * @param mm    the address space the device mirrors
     * @param name  for reports (e.g. {@code "mydev->pt"})
     * @param owner the driver's owner cookie: the {@code pgmap->owner} of its device-private
     *              pages and the {@code range->owner} of its own migrations (may be null)
     */
    public static DeviceMap create(MmStruct mm, String name, Object owner) {
        Objects.requireNonNull(mm, "mm");
        Objects.requireNonNull(name, "name");
        DeviceMapChecker checker = DeviceMapChecker.of(mm.kernel());
        DeviceMap map = new DeviceMap(checker, mm, name, owner);
        checker.add(map);
        return map;
    }

    public MmStruct mm() { return mm; }

    public String name() { return name; }

    public Object owner() { return owner; }

    /**
     * Declares that the device now maps {@code addr} to {@code page}, replacing any entry
     * there. Call it where the entry is committed; its site is the commit site of reports.
     *
     * @throws IllegalArgumentException if {@code addr} is not a page-aligned user address
     * @throws IllegalStateException    if the map is closed
     */
    public synchronized void map(long addr, Page page, boolean writable) {
        map(addr, page, writable, owner);
    }

    /**
     * As {@link #map(long, Page, boolean)}, for an entry of another owner than the map's: a
     * device that maps pages of several device-private pagemaps (a peer device's memory) in
     * one table declares each entry with the {@code pgmap->owner} of its page.
     */
    public synchronized void map(long addr, Page page, boolean writable, Object entryOwner) {
        Objects.requireNonNull(page, "page");
        if (!Pte.isPageAligned(addr) || addr < 0 || addr >= Pte.TASK_SIZE) {
            throw new IllegalArgumentException(name + ": 0x" + Long.toHexString(addr) + " is not a page of user memory");
        }
        requireOpen();
        Kernel k = mm.kernel();
        entries.put(addr >>> Pte.PAGE_SHIFT, new Entry(addr, page, writable, entryOwner, checker.nextSerial(),
                k.site()));
    }

    /** Declares that the device no longer maps {@code addr}; no-op if it did not. */
    public synchronized void unmap(long addr) {
        entries.remove(addr >>> Pte.PAGE_SHIFT);
    }

    /**
     * Declares that the device no longer maps anything in [{@code start}, {@code end})
     * (unsigned; {@code end} may be {@code ULONG_MAX}).
     *
     * @return how many entries were removed
     */
    public synchronized int unmapRange(long start, long end) {
        Map<Long, Entry> in = in(start, end);
        int n = in.size();
        in.clear();
        return n;
    }

    /** The entry for {@code addr}, or null. */
    public synchronized Entry entry(long addr) {
        return entries.get(addr >>> Pte.PAGE_SHIFT);
    }

    /** How many entries the device maps. */
    public synchronized int size() {
        return entries.size();
    }

    /**
     * Declares that the device is about to read ({@code write} false) or write through the
     * entry for {@code addr}: the entry must exist, be writable for a write, and hold against
     * the CPU page table now. A violation is reported on the kernel (devmap rules).
     *
     * @return the entry (null if there is none, after reporting it)
     */
    public Entry access(long addr, boolean write) {
        Entry e = entry(addr & Pte.PAGE_MASK);
        checker.checkAccess(this, addr, e, write);
        return e;
    }

    /** Destroys the map: no entry is checked any more. */
    public synchronized void close() {
        closed = true;
        entries.clear();
        checker.remove(this);
    }

    public synchronized boolean isClosed() { return closed; }

    /** A copy of the entries in [start, end), in address order. */
    synchronized List<Entry> entriesIn(long start, long end) {
        return new ArrayList<>(in(start, end).values());
    }

    /** A copy of every entry, in address order. */
    synchronized List<Entry> allEntries() {
        return new ArrayList<>(entries.values());
    }

    private Map<Long, Entry> in(long start, long end) {
        long limit = Pte.TASK_SIZE >>> Pte.PAGE_SHIFT;
        long first = Long.compareUnsigned(start, Pte.TASK_SIZE) >= 0 ? limit : start >>> Pte.PAGE_SHIFT;
        long last = Long.compareUnsigned(end, Pte.TASK_SIZE) >= 0 ? limit
                : (end + Pte.PAGE_SIZE - 1) >>> Pte.PAGE_SHIFT;
        return first >= last ? new TreeMap<>() : entries.subMap(first, true, last, false);
    }

    private void requireOpen() {
        if (closed) {
            throw new IllegalStateException(name + " is closed");
        }
    }

    @Override
    public String toString() {
        return name;
    }
}
