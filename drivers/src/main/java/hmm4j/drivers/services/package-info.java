/**
 * Drivers written against the model's kernel services (workqueues, module lifetime), each
 * in a design with a known bug and the design that fixes it: a device whose refresh work
 * takes the device lock, torn down with {@code flush_work} under that lock or with
 * {@code cancel_work_sync} outside it (kernel/workqueue.c), and a module whose notifier
 * {@code ->free_notifier} may still be queued in SRCU when the module exits, removed with or
 * without {@code mmu_notifier_synchronize} (kernel/module/main.c, mm/mmu_notifier.c). A
 * user-pointer GPU device ({@link hmm4j.drivers.services.UserptrFenceDevice}) whose
 * invalidate waits under its notifier lock for the fences of its buffer's reservation object
 * (drivers/dma-buf/dma-resv.c, as amdgpu and xe do), with a completion path that takes that
 * lock inside its fence-signalling section, or not. They follow common driver patterns; none of their code is copied.
 */
package hmm4j.drivers.services;
