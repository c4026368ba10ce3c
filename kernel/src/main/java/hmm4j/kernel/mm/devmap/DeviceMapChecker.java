package hmm4j.kernel.mm.devmap;

import hmm4j.kernel.KernelRules;
import hmm4j.kernel.mm.MmState;
import hmm4j.kernel.mm.MmStruct;
import hmm4j.kernel.mm.Page;
import hmm4j.kernel.mm.Pte;
import hmm4j.kernel.mm.notifier.MmuNotifierEvent;
import hmm4j.kernel.mm.notifier.MmuNotifierRange;
import hmm4j.sim.Kernel;
import hmm4j.sim.failure.Failure;
import hmm4j.sim.failure.Site;
import hmm4j.sim.rule.Rule;
import java.util.ArrayList;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Map;

/**
 * The checker of the {@link DeviceMap}s of one machine (a {@link Kernel} component): it
 * follows every invalidation from {@link MmuNotifierRange#invalidateRangeStart} to
 * {@link MmuNotifierRange#invalidateRangeEnd} and judges the declared entries where the
 * contract says they must hold.
 *
 * <p>The rules, for an entry E of a map M of mm, at address A, naming page P, with the CPU
 * entry C of A:
 * <ul>
 *   <li>devmap.no-entry-survives-invalidation: at the end of an invalidation of mm covering
 *       A, E was committed after that invalidation started. Exceptions: a read-only E may
 *       outlive a {@code MMU_NOTIFY_PROTECTION_PAGE}, {@code PROTECTION_VMA} or
 *       {@code SOFT_DIRTY} invalidation (they take write access away, nothing else), and an
 *       invalidation of event {@code MIGRATE} or {@code EXCLUSIVE} whose owner is E's owner
 *       (M's owner unless E was declared with its own) is the driver's own, finished by the
 *       driver;</li>
 *   <li>devmap.names-cpu-page: C maps P — a present, accessible entry of P, the device-private
 *       entry of P when P is a device-private page (whose pgmap owner must be E's owner), or a
 *       device-exclusive entry of P — unless C is a migration entry (P is under migration and
 *       the migration's owner rewrites the tables at its end);</li>
 *   <li>devmap.write-needs-cpu-write: a writable E only where C is writable (for a
 *       device-private or device-exclusive C, the write bit of that entry: fork makes a
 *       device-private entry of a private mapping read-only too).</li>
 * </ul>
 * When: at the end of every invalidation (the survivor rule, then the other two on the entries
 * of the range), before every {@link DeviceMap#access} (the other two, and a write through a
 * read-only entry or through no entry is reported), and at quiescence (the other two on every
 * entry of every open map; an entry of an mm whose address space is gone names no page).
 *
 * <p>Overview: a serial orders commits against invalidation starts; the ranges in flight are
 * kept by identity with the serial and site of their start. Judging reads the CPU page table
 * with {@link MmStruct#ptePeek}, which is no scheduling point, so the checker changes no
 * interleaving. Machines that declare no map pay one component lookup per invalidation
 * start and end.
 *
 * <p>Differences from the kernel: the kernel has no such checker; it follows the contract of
 * include/linux/mmu_notifier.h and Documentation/mm/hmm.rst.
 */
public final class DeviceMapChecker {
    /** The judgement of one entry against one CPU entry. */
    public enum Mismatch {
        /** The entry holds. */
        NONE,
        /** The CPU entry is a migration entry: not judged. */
        UNDER_MIGRATION,
        /** A device-private page whose pgmap owner is not the entry's owner. */
        OTHER_OWNER,
        /** A device-private page the CPU does not map (as a device-private entry) there. */
        DEVICE_PAGE_NOT_MAPPED,
        /** A page the CPU does not map there (none, swapped, protnone, another page). */
        PAGE_NOT_MAPPED,
        /** A writable entry where the CPU entry is read-only. */
        WRITE_NOT_WRITABLE;

        /** The rule a mismatch breaks, or null for {@link #NONE} and {@link #UNDER_MIGRATION}. */
        public Rule rule() {
            return switch (this) {
                case NONE, UNDER_MIGRATION -> null;
                case WRITE_NOT_WRITABLE -> KernelRules.DEVMAP_WRITE_NEEDS_CPU_WRITE;
                case OTHER_OWNER, DEVICE_PAGE_NOT_MAPPED, PAGE_NOT_MAPPED -> KernelRules.DEVMAP_NAMES_CPU_PAGE;
            };
        }
    }

    /** Where an invalidation in flight started. */
    private record Started(long serial, Site site) {
    }

    private final Kernel kernel;
    private final List<DeviceMap> maps = new ArrayList<>();
    private final Map<MmuNotifierRange, Started> inFlight = new IdentityHashMap<>();
    private long serial;

    private DeviceMapChecker(Kernel kernel) {
        this.kernel = kernel;
        kernel.atQuiescence(KernelRules.DEVMAP_NAMES_CPU_PAGE.id(), this::checkAtQuiescence);
    }

    /** The checker of {@code kernel}, created with the first map. */
    static DeviceMapChecker of(Kernel kernel) {
        DeviceMapChecker existing = kernel.componentOrNull(DeviceMapChecker.class); // no capturing lambda once made
        return existing != null ? existing : kernel.component(DeviceMapChecker.class, () -> new DeviceMapChecker(kernel));
    }

    /**
     * How the device entry naming {@code page} (writable or not) stands against the CPU entry
     * {@code pte} of its address, for a driver whose device-private pages have pgmap owner
     * {@code owner}. Pure: usable by a driver that keeps its own table.
     */
    public static Mismatch compare(long pte, Page page, boolean writable, Object owner) {
        if (Pte.isMigration(pte)) {
            return Mismatch.UNDER_MIGRATION;
        }
        if (page.isDevicePrivate()) {
            if (page.devicePrivateOwner() != owner) {
                return Mismatch.OTHER_OWNER;
            }
            if (!Pte.isDevicePrivate(pte) || Pte.pfn(pte) != page.pfn()) {
                return Mismatch.DEVICE_PAGE_NOT_MAPPED;
            }
        } else if (Pte.isDeviceExclusive(pte)) {
            if (Pte.pfn(pte) != page.pfn()) {
                return Mismatch.PAGE_NOT_MAPPED;
            }
        } else if (!Pte.isPresent(pte) || Pte.isProtNone(pte) || Pte.pfn(pte) != page.pfn()) {
            return Mismatch.PAGE_NOT_MAPPED;
        }
        if (writable && !Pte.isWrite(pte)) {
            return Mismatch.WRITE_NOT_WRITABLE;
        }
        return Mismatch.NONE;
    }

    /**
     * Called by the notifier core when {@code range}'s invalidation starts (before any callback
     * runs); not for drivers.
     */
    public static void invalidationStarted(MmuNotifierRange range) {
        DeviceMapChecker c = range.mm().kernel().componentOrNull(DeviceMapChecker.class);
        if (c != null) {
            c.started(range);
        }
    }

    /** Called by the notifier core when a non-blocking start failed (no end follows); not for drivers. */
    public static void invalidationAbandoned(MmuNotifierRange range) {
        DeviceMapChecker c = range.mm().kernel().componentOrNull(DeviceMapChecker.class);
        if (c != null) {
            c.abandoned(range);
        }
    }

    /**
     * Called by the notifier core when {@code range}'s invalidation has ended (after every
     * callback's end ran); not for drivers. Judges the entries of the range.
     */
    public static void invalidationEnded(MmuNotifierRange range) {
        DeviceMapChecker c = range.mm().kernel().componentOrNull(DeviceMapChecker.class);
        if (c != null) {
            c.ended(range);
        }
    }

    synchronized void add(DeviceMap map) {
        maps.add(map);
    }

    synchronized void remove(DeviceMap map) {
        maps.remove(map);
    }

    synchronized long nextSerial() {
        return ++serial;
    }

    private synchronized void started(MmuNotifierRange range) {
        if (!hasMapOf(range.mm())) {
            return;
        }
        inFlight.put(range, new Started(++serial, kernel.site()));
    }

    private synchronized void abandoned(MmuNotifierRange range) {
        inFlight.remove(range);
    }

    private void ended(MmuNotifierRange range) {
        Started s;
        List<DeviceMap> of;
        synchronized (this) {
            s = inFlight.remove(range);
            of = mapsOf(range.mm());
        }
        for (DeviceMap map : of) {
            for (DeviceMap.Entry e : map.entriesIn(range.start(), range.end())) {
                if (s != null && e.serial() < s.serial() && !mayOutlive(map, e, range)) {
                    report(KernelRules.DEVMAP_NO_ENTRY_SURVIVES, map + ": " + e + " survived the invalidation "
                            + range + " that covered it; it was committed at " + e.site()
                            + "; the invalidation started at " + s.site());
                    return;
                }
                if (judge(map, e, "after the invalidation " + range)) {
                    return;
                }
            }
        }
    }

    /** The exceptions of the survivor rule. */
    private static boolean mayOutlive(DeviceMap map, DeviceMap.Entry e, MmuNotifierRange range) {
        MmuNotifierEvent ev = range.event();
        if ((ev == MmuNotifierEvent.MMU_NOTIFY_MIGRATE || ev == MmuNotifierEvent.MMU_NOTIFY_EXCLUSIVE)
                && e.owner() != null && range.owner() == e.owner()) {
            return true;
        }
        return !e.writable() && (ev == MmuNotifierEvent.MMU_NOTIFY_PROTECTION_PAGE
                || ev == MmuNotifierEvent.MMU_NOTIFY_PROTECTION_VMA || ev == MmuNotifierEvent.MMU_NOTIFY_SOFT_DIRTY);
    }

    void checkAccess(DeviceMap map, long addr, DeviceMap.Entry e, boolean write) {
        String what = write ? "device write" : "device read";
        if (e == null) {
            report(KernelRules.DEVMAP_NAMES_CPU_PAGE, map + ": " + what + " at 0x" + Long.toHexString(addr)
                    + " through no device entry");
            return;
        }
        if (write && !e.writable()) {
            report(KernelRules.DEVMAP_WRITE_NEEDS_CPU_WRITE, map + ": " + what + " through the read-only " + e
                    + " committed at " + e.site());
            return;
        }
        judge(map, e, "before a " + what);
    }

    /** Judges one entry; reports and returns true if it breaks a rule. */
    private boolean judge(DeviceMap map, DeviceMap.Entry e, String when) {
        MmStruct mm = map.mm();
        if (mm.mmState() == MmState.FREED || mm.mmState() == MmState.DEAD) {
            report(KernelRules.DEVMAP_NAMES_CPU_PAGE, map + " " + when + ": " + e + " names no page: the address "
                    + "space " + mm.name() + " is gone (" + mm.mmState() + "); it was committed at " + e.site());
            return true;
        }
        long pte = mm.ptePeek(e.addr());
        Mismatch m = compare(pte, e.page(), e.writable(), e.owner());
        Rule rule = m.rule();
        if (rule == null) {
            return false;
        }
        String why = switch (m) {
            case OTHER_OWNER -> "names a device-private page of another owner";
            case DEVICE_PAGE_NOT_MAPPED -> "names a device page the CPU no longer maps there";
            case PAGE_NOT_MAPPED -> "names a page the CPU no longer maps there";
            case WRITE_NOT_WRITABLE -> "is writable but the CPU entry is read-only";
            case NONE, UNDER_MIGRATION -> throw new IllegalStateException(m.name());
        };
        report(rule, map + " " + when + ": " + e + " " + why + "; the CPU entry is " + Pte.toString(pte)
                + "; it was committed at " + e.site());
        return true;
    }

    private void checkAtQuiescence() {
        for (DeviceMap map : snapshot()) {
            for (DeviceMap.Entry e : map.allEntries()) {
                if (judge(map, e, "at quiescence")) {
                    return;
                }
            }
        }
    }

    private synchronized List<DeviceMap> snapshot() {
        return new ArrayList<>(maps);
    }

    private boolean hasMapOf(MmStruct mm) {
        for (DeviceMap m : maps) {
            if (m.mm() == mm) {
                return true;
            }
        }
        return false;
    }

    private List<DeviceMap> mapsOf(MmStruct mm) {
        List<DeviceMap> of = new ArrayList<>(2);
        for (DeviceMap m : maps) {
            if (m.mm() == mm) {
                of.add(m);
            }
        }
        return of;
    }

    private void report(Rule rule, String detail) {
        kernel.report(new Failure.InvariantViolation(rule, detail, kernel.site()));
    }
}
