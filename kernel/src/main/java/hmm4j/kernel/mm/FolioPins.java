package hmm4j.kernel.mm;

import hmm4j.sim.Kernel;
import hmm4j.sim.failure.Failure;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * {@code FOLL_PIN} accounting of one machine: how many times each page is pinned for DMA
 * ({@code pin_user_pages} and friends), {@code folio_maybe_dma_pinned}, and the
 * {@code MMF_HAS_PINNED} flag of the address spaces in which something was ever pinned
 * (include/linux/mm.h, mm/gup.c {@code try_grab_folio}, {@code gup_put_folio}).
 *
 * <p>Overview. A pin is a page reference ({@link Page#get}) plus one count here. The kernel
 * adds {@link #GUP_PIN_COUNTING_BIAS} (1024) references per pin of a small folio instead,
 * and {@code folio_maybe_dma_pinned} then guesses from the reference count, so a page with
 * 1024 ordinary references looks pinned too. The model counts pins exactly, beside the page
 * rather than in {@link Page} itself; {@link #folioMaybeDmaPinned} is true for a pinned page
 * and, to keep the kernel's false positive, for a page with at least
 * {@link #GUP_PIN_COUNTING_BIAS} references. {@link #refcountAsKernel} gives the count the
 * kernel would show. Pins of the shared zero page take nothing and count nothing, as in the
 * kernel.
 *
 * <p>Locking: none needed; the counts are atomics in a concurrent map, an entry is removed when
 * its count reaches 0. A pinned page cannot be freed (the pin holds a reference).
 *
 * <p>Lifetime: one per kernel ({@link #of}); {@code MMF_HAS_PINNED} is never cleared, as in
 * the kernel, and the set keeps the mm structures it names for the machine's lifetime.
 */
public final class FolioPins {
    /** {@code GUP_PIN_COUNTING_BIAS}: the references one pin of a small folio stands for in the kernel. */
    public static final int GUP_PIN_COUNTING_BIAS = 1024;

    private final Kernel kernel;
    private final Map<Page, AtomicInteger> pins = new ConcurrentHashMap<>();
    private final Set<MmStruct> hasPinned = ConcurrentHashMap.newKeySet();

    private FolioPins(Kernel kernel) {
        this.kernel = kernel;
    }

    /** The pin accounting of {@code kernel}'s machine. Look it up once per operation, not per page. */
    public static FolioPins of(Kernel kernel) {
        FolioPins existing = kernel.componentOrNull(FolioPins.class); // no capturing lambda once made
        return existing != null ? existing : kernel.component(FolioPins.class, () -> new FolioPins(kernel));
    }

    /**
     * {@code try_grab_folio(folio, 1, FOLL_PIN)} for a page whose reference the caller holds
     * or may take (a present entry under the page-table lock): takes a reference and counts a
     * pin. The zero page is not counted.
     */
    void pin(Page page) {
        if (page.isZeroPage()) {
            return;
        }
        page.get();
        pins.computeIfAbsent(page, p -> new AtomicInteger()).incrementAndGet();
    }

    /**
     * Turns a reference the caller already took ({@code folio_try_get} of the fast walk) into
     * a pin.
     */
    void pinGrabbed(Page page) {
        if (page.isZeroPage()) {
            page.put();
            return;
        }
        pins.computeIfAbsent(page, p -> new AtomicInteger()).incrementAndGet();
    }

    /**
     * {@code unpin_user_page}: drops a pin and its reference. An unpin of a page that is not
     * pinned is reported as a put without a get, and changes nothing.
     */
    public void unpin(Page page) {
        if (page.isZeroPage()) {
            return;
        }
        AtomicInteger count = pins.get(page);
        if (count == null || count.get() <= 0) {
            kernel.report(new Failure.RefcountError(page.reportName(), Failure.RefcountProblem.PUT_WITHOUT_GET,
                    "unpin_user_page of " + page + " which is not pinned (gup_put_folio)", kernel.site()));
            return;
        }
        if (count.decrementAndGet() == 0) {
            pins.remove(page, count);
        }
        page.put();
    }

    /** The number of pins of {@code page} ({@code folio->_pincount} of a large folio; exact here). */
    public int pincount(Page page) {
        AtomicInteger count = pins.get(page);
        return count == null ? 0 : count.get();
    }

    /** {@code folio_maybe_dma_pinned}: pinned, or (the kernel's heuristic) so many references that it may be. */
    public boolean folioMaybeDmaPinned(Page page) {
        return (!pins.isEmpty() && pincount(page) > 0) || page.refcount() >= GUP_PIN_COUNTING_BIAS;
    }

    /** The reference count the kernel would show: each pin is {@link #GUP_PIN_COUNTING_BIAS}, not 1. */
    public int refcountAsKernel(Page page) {
        return page.refcount() + pincount(page) * (GUP_PIN_COUNTING_BIAS - 1);
    }

    /** Pages pinned now, for end-of-run reports. */
    public int pinnedPages() {
        return pins.size();
    }

    /** {@code mm_set_has_pinned_flag}: something is (or was) pinned in {@code mm}. */
    void setHasPinned(MmStruct mm) {
        hasPinned.add(mm);
    }

    /** {@code test_bit(MMF_HAS_PINNED, &mm->flags)}. */
    public boolean mmHasPinned(MmStruct mm) {
        return !hasPinned.isEmpty() && hasPinned.contains(mm);
    }
}
