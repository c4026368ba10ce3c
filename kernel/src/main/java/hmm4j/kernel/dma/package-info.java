/**
 * DMA fences and reservation objects ({@code include/linux/dma-fence.h},
 * {@code drivers/dma-buf/dma-fence.c}, {@code include/linux/dma-resv.h},
 * {@code drivers/dma-buf/dma-resv.c}, Linux 6.x): {@code dma_fence_init},
 * {@code dma_fence_signal}, {@code dma_fence_wait_timeout}, {@code dma_fence_get/put},
 * callbacks; {@code dma_resv_lock/unlock}, {@code dma_resv_reserve_fences},
 * {@code dma_resv_add_fence}, {@code dma_resv_wait_timeout}. With the kernel's
 * fence-signalling lockdep annotations: the global {@code dma_fence_map} taken for read by
 * {@code dma_fence_begin_signalling} (and by every {@code dma_fence_signal}) and for write
 * by every wait, and the order {@code dma_resv_lockdep} primes at boot (mmap_lock, then
 * the reservation lock, {@code fs_reclaim}, the notifier invalidate map, then a fence wait),
 * so that an invalidate callback waiting on a fence whose signalling path takes a lock held
 * around the wait, the mmap lock, or allocates with reclaim is a lock-order report.
 */
@hmm4j.sim.ModelCode
package hmm4j.kernel.dma;
