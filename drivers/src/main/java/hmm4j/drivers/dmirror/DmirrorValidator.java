package hmm4j.drivers.dmirror;

import static hmm4j.drivers.dmirror.DmirrorPageTable.DPT_XA_TAG_ATOMIC;
import static hmm4j.drivers.dmirror.DmirrorPageTable.DPT_XA_TAG_RO;
import static hmm4j.drivers.dmirror.DmirrorPageTable.DPT_XA_TAG_WRITE;

import hmm4j.kernel.mm.MmStruct;
import hmm4j.kernel.mm.Page;
import hmm4j.kernel.mm.PhysMem;
import hmm4j.kernel.mm.Pte;
import hmm4j.kernel.mm.devmap.DeviceMapChecker;
import hmm4j.kernel.mm.notifier.MmuNotifierRange;
import hmm4j.sim.Kernel;
import hmm4j.sim.failure.Failure;
import hmm4j.sim.rule.Rule;

/**
 * The "no stale device entry" check of a mirror's device page table against the CPU page
 * table of its address space (rule dmirror.no-stale-entry).
 *
 * <p>The rule, per entry for address A (with the CPU entry E of A):
 * <ul>
 *   <li>an ATOMIC entry names page P only while E is a device-exclusive entry of P (a CPU
 *       access restores E under an invalidation, which must have erased the entry);</li>
 *   <li>an entry naming a device-private page names a page of this mirror's device and E
 *       is a device-private entry of that page;</li>
 *   <li>any other entry names the page E maps (a present, accessible entry: the zero page
 *       included);</li>
 *   <li>a WRITE tag only where E is writable;</li>
 *   <li>while E is a migration entry the page is under migration and the migration's owner
 *       rewrites the tables at its end, so the entry is not judged.</li>
 * </ul>
 * A violation is reported as {@link Failure.InvariantViolation} with the rule
 * {@link #RULE}. The judgement of an RO or WRITE entry against its CPU entry is the
 * device-mapping checker's ({@link DeviceMapChecker#compare}); the ATOMIC tag, the device
 * check of device-private pages and the points where the table is checked are dmirror's.
 * dmirror keeps its own table (an xarray of tagged pfns, as lib/test_hmm.c) and reports under
 * its own rule, so it does not declare a {@link hmm4j.kernel.mm.devmap.DeviceMap}.
 *
 * <p>When it runs: after every fault commit and every install (under the mutex), at the end of
 * every invalidation callback that did not skip (no entry may be left in the range, and the
 * whole table must hold), before an entry is used by READ, WRITE or a read-back, at release
 * and at quiescence. It reads the CPU page table with {@link MmStruct#ptePeek} and the device
 * table without scheduling points, so it changes no interleaving; in the correct protocol it
 * always runs with the mirror's mutex held (or at the end of the run), where no invalidation
 * can be half done for an address the table maps.
 */
final class DmirrorValidator {
    /** The rule of every violation this validator reports. */
    static final Rule RULE = DmirrorRules.NO_STALE_ENTRY;

    private DmirrorValidator() {
    }

    /** Checks every entry of {@code dmirror}'s table; reports the first stale one. */
    static void checkTable(Dmirror dmirror, String where) {
        String found = firstProblem(dmirror);
        if (found != null) {
            Kernel k = dmirror.kernel();
            k.report(new Failure.InvariantViolation(RULE, dmirror.name() + " " + where + ": " + found, k.site()));
        }
    }

    /** The problem of the first stale entry of {@code dmirror}'s table, or null when every entry holds. */
    private static String firstProblem(Dmirror dmirror) {
        PhysMem phys = PhysMem.of(dmirror.kernel());
        String[] found = new String[1];
        // The mirror's fields are read (and checked by the lifetime sanitizer) once per check.
        MmStruct mm = dmirror.mm();
        DmirrorDevice mdevice = dmirror.mdevice();
        dmirror.pt().forEachPeek((vpn, entry) -> {
            if (found[0] == null) {
                found[0] = describeProblem(mm, mdevice, phys, vpn, entry);
            }
        });
        return found[0];
    }

    /** Checks one entry about to be used ({@code vpn} of {@code dmirror}'s table). */
    static void checkEntry(Dmirror dmirror, long vpn, long entry, String where) {
        Kernel k = dmirror.kernel();
        String problem = describeProblem(dmirror, PhysMem.of(k), vpn, entry);
        if (problem != null) {
            k.report(new Failure.InvariantViolation(RULE, dmirror.name() + " " + where + ": " + problem, k.site()));
        }
    }

    /**
     * At the end of an invalidation callback that did not skip: no entry left in
     * [start, end) of {@code range}, and the whole table holds.
     */
    static void checkInvalidated(Dmirror dmirror, MmuNotifierRange range) {
        long first = range.start() >>> Pte.PAGE_SHIFT;
        long last = (range.end() - 1) >>> Pte.PAGE_SHIFT;
        if (range.end() != range.start() && dmirror.pt().anyIn(first, last)) {
            StringBuilder left = new StringBuilder();
            dmirror.pt().forEachPeek(first, last, (vpn, entry) -> {
                if (left.length() < 200) {
                    left.append(" 0x").append(Long.toHexString(vpn << Pte.PAGE_SHIFT));
                }
            });
            Kernel k = dmirror.kernel();
            k.report(new Failure.InvariantViolation(RULE, dmirror.name() + " after invalidate " + range
                    + ": device entries left in the invalidated range:" + left, k.site()));
            return;
        }
        // The range is described only for a report: this runs at every invalidation.
        String found = firstProblem(dmirror);
        if (found != null) {
            Kernel k = dmirror.kernel();
            k.report(new Failure.InvariantViolation(RULE, dmirror.name() + " after invalidate " + range + ": " + found,
                    k.site()));
        }
    }

    /**
     * Why the entry for {@code vpn} is stale, or null if it holds. The text is built only for
     * a stale entry: this runs for every entry a check visits.
     */
    static String describeProblem(Dmirror dmirror, PhysMem phys, long vpn, long entry) {
        return describeProblem(dmirror.mm(), dmirror.mdevice(), phys, vpn, entry);
    }

    /** {@link #describeProblem(Dmirror, PhysMem, long, long)} with the mirror's address space and device read. */
    private static String describeProblem(MmStruct mm, DmirrorDevice mdevice, PhysMem phys, long vpn, long entry) {
        long addr = vpn << Pte.PAGE_SHIFT;
        int tag = DmirrorPageTable.tag(entry);
        Page page = DmirrorPageTable.page(phys, entry);
        if (vpn < 0 || addr >= Pte.TASK_SIZE || page == null) {
            return describeEntry(addr, tag, page, entry) + " names no page of the user address space";
        }
        if (tag != DPT_XA_TAG_RO && tag != DPT_XA_TAG_ATOMIC && tag != DPT_XA_TAG_WRITE) {
            return describeEntry(addr, tag, page, entry) + " has an unknown tag";
        }
        long pte = mm.ptePeek(addr);
        if (Pte.isMigration(pte)) {
            return null;
        }
        String problem;
        if (tag == DPT_XA_TAG_ATOMIC) {
            problem = Pte.isDeviceExclusive(pte) && Pte.pfn(pte) == page.pfn() ? null
                    : " is tagged ATOMIC but the page is not device-exclusive there";
        } else if (!page.isDevicePrivate() && Pte.isDeviceExclusive(pte)) {
            problem = " names a page the CPU no longer maps there";
        } else {
            problem = switch (DeviceMapChecker.compare(pte, page, tag == DPT_XA_TAG_WRITE, mdevice)) {
                case NONE, UNDER_MIGRATION -> null;
                case OTHER_OWNER -> " names a device-private page of another device";
                case DEVICE_PAGE_NOT_MAPPED -> " names a device page the CPU no longer maps there";
                case PAGE_NOT_MAPPED -> " names a page the CPU no longer maps there";
                case WRITE_NOT_WRITABLE -> " is tagged WRITE but the CPU entry is read-only";
            };
        }
        return problem == null ? null
                : describeEntry(addr, tag, page, entry) + problem + "; the CPU entry is " + Pte.toString(pte);
    }

    /** {@code device entry for 0x... (TAG, page)}, the start of a stale entry's description. */
    private static String describeEntry(long addr, int tag, Page page, long entry) {
        return "device entry for 0x" + Long.toHexString(addr) + " (" + DmirrorPageTable.tagName(tag) + ", "
                + (page == null ? "pfn 0x" + Long.toHexString(DmirrorPageTable.pfn(entry)) : page) + ")";
    }
}
