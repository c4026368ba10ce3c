package hmm4j.kernel.dma;

/**
 * {@code struct dma_fence_ops}: the driver's callbacks of a fence (include/linux/dma-fence.h).
 * Only the two names are required; every other callback has the kernel's default.
 */
public interface DmaFenceOps {

    /** {@code get_driver_name}. */
    String getDriverName(DmaFence fence);

    /** {@code get_timeline_name}. */
    String getTimelineName(DmaFence fence);

    /**
     * {@code enable_signaling}: called once, under the fence's lock, when someone first needs
     * the fence to signal (a waiter or a callback). Returning false means the fence has
     * already signalled and is signalled now. The default does nothing and returns true.
     */
    default boolean enableSignaling(DmaFence fence) {
        return true;
    }

    /**
     * {@code signaled}: an optional poll of the hardware; true makes
     * {@code dma_fence_is_signaled} signal the fence. The default says no.
     */
    default boolean signaled(DmaFence fence) {
        return false;
    }

    /** {@code release}: called on the last put; the default frees the fence ({@code dma_fence_free}). */
    default void release(DmaFence fence) {
        fence.dmaFenceFree();
    }
}
