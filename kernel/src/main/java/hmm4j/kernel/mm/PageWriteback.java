package hmm4j.kernel.mm;

/**
 * Marking pages dirty (mm/page-writeback.c), the two calls a driver makes when it gives back
 * a page its device wrote: {@code set_page_dirty_lock}, which takes the page lock around the
 * marking, and {@code set_page_dirty}, which does not and relies on the caller to keep the
 * page's mapping stable (a notifier callback does, through its own lock).
 *
 * <p>Differences from the kernel: no address-space {@code dirty_folio} operation and no
 * writeback accounting: marking sets {@link Page#PG_DIRTY}.
 */
public final class PageWriteback {
    private PageWriteback() {
    }

    /** {@code set_page_dirty}: marks the page dirty without taking its lock. */
    public static void setPageDirty(Page page) {
        page.setFlag(Page.PG_DIRTY);
    }

    /**
     * {@code set_page_dirty_lock}: {@code lock_page}, mark dirty, {@code unlock_page}. May
     * sleep for the page lock, so it must not be called with that page's lock held — which an
     * invalidation issued by reclaim or migration does ({@link Rmap}).
     */
    public static void setPageDirtyLock(Page page) {
        page.lock();
        try {
            setPageDirty(page);
        } finally {
            page.unlock();
        }
    }
}
