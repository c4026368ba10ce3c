package hmm4j.kernel.mm;

import hmm4j.sim.Mark;

/**
 * Fork's early copy of pinned anonymous pages: {@code page_needs_cow_for_dma} and
 * {@code copy_present_page} (mm/memory.c, include/linux/mm.h).
 *
 * <p>Overview. A page pinned for DMA must stay the page the parent maps: if fork shared it
 * copy-on-write, the parent's next write would copy it and the device would go on writing
 * into a page that only the child still maps. So in a COW mapping of an address space with
 * {@code MMF_HAS_PINNED}, an anonymous page for which {@link FolioPins#folioMaybeDmaPinned}
 * holds is copied for the child during the fork: the child gets a new page with the same
 * contents, mapped writable (and dirty) if the VMA is writable, and the parent's entry is left
 * as it was, writable, with no reference or mapping added to the pinned page.
 *
 * <p>Locking: called by {@link Fork} with both page-table locks held; the page allocation does
 * not sleep.
 *
 * <p>Differences from the kernel: the kernel allocates the copy outside the page-table lock
 * (it backs out with {@code -EAGAIN}, allocates, and retries); the model's allocation never
 * sleeps, so it allocates in place. The kernel also copies a page that is not
 * {@code PageAnonExclusive} only then; the model has no exclusive bit and copies any pinned
 * anonymous page.
 */
public final class ForkPinned {
    /** Coverage mark: fork copied a pinned anonymous page for the child instead of sharing it. */
    public static final Mark COPIED = Mark.of("fork.pinned.copied",
            "fork copied a page pinned for DMA for the child instead of sharing it copy-on-write");

    private ForkPinned() {
    }

    /** {@code page_needs_cow_for_dma} for a present entry of a COW mapping of an mm with {@code MMF_HAS_PINNED}. */
    static boolean needsCowForDma(PhysMem phys, FolioPins pins, long pte) {
        if (Pte.isSpecial(pte) || Pte.isZero(pte)) {
            return false;
        }
        Page page = phys.pfnToPage(Pte.pfn(pte));
        return page.isAnon() && pins.folioMaybeDmaPinned(page);
    }

    /**
     * {@code copy_present_page}: the child's entry for a copy of the page {@code pte} maps, or
     * 0 when no page could be allocated. The parent's entry is not changed.
     */
    static long copyPresentPage(MmStruct dstMm, PhysMem phys, Vma vma, long pte) {
        Page copy = phys.allocPage();
        if (copy == null) {
            return 0;
        }
        copy.copyFrom(phys.pfnToPage(Pte.pfn(pte)));
        copy.setFlag(Page.PG_ANON);
        copy.incMapcount();
        dstMm.kernel().mark(COPIED);
        boolean write = vma.hasAny(VmFlags.VM_WRITE);
        long child = Pte.mkPresent(copy.pfn(), write);
        return write ? Pte.mkDirty(child) : child;
    }
}
