package hmm4j.kernel.dma;

/**
 * {@code enum dma_resv_usage} (include/linux/dma-resv.h): how a fence in a reservation object
 * uses the buffer. The order matters: a query for one usage also returns every fence of a
 * lower one ({@code KERNEL < WRITE < READ < BOOKKEEP}).
 */
public enum DmaResvUsage {
    /** {@code DMA_RESV_USAGE_KERNEL}: kernel memory management (moves, clears). */
    KERNEL,
    /** {@code DMA_RESV_USAGE_WRITE}: implicit-sync writers. */
    WRITE,
    /** {@code DMA_RESV_USAGE_READ}: implicit-sync readers. */
    READ,
    /** {@code DMA_RESV_USAGE_BOOKKEEP}: no implicit sync (e.g. page-table updates, user-mode queues). */
    BOOKKEEP;

    /** {@code dma_resv_usage_rw}: the usage a new access must wait for ({@code write ? READ : WRITE}). */
    public static DmaResvUsage rw(boolean write) {
        return write ? READ : WRITE;
    }
}
