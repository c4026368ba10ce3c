package hmm4j.kernel.dma;

import java.util.Objects;

/**
 * {@code struct dma_fence_cb}: a callback added with {@link DmaFence#dmaFenceAddCallback}, run once
 * when the fence signals, under the fence's lock (atomic context: it must not sleep).
 */
public final class DmaFenceCb {
    /** {@code dma_fence_func_t}. */
    @FunctionalInterface
    public interface Func {
        /** Runs with the fence's spinlock held. */
        void call(DmaFence fence, DmaFenceCb cb);
    }

    final Func func;
    /** The fence this callback is queued on, or null (guarded by that fence's lock). */
    DmaFence queuedOn;

    public DmaFenceCb(Func func) {
        this.func = Objects.requireNonNull(func, "func");
    }
}
