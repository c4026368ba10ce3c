package hmm4j.kernel.mm.migrate;

import hmm4j.kernel.mm.Fault;
import hmm4j.kernel.mm.Page;

/**
 * {@code struct dev_pagemap_ops} for {@code MEMORY_DEVICE_PRIVATE} memory: the callbacks the
 * core makes into the driver that owns the device pages. {@code migrate_to_ram} and
 * {@code page_free} are required (the kernel's {@code memremap_pages} refuses a device-private
 * pgmap without them); {@code folio_free} and {@code folio_split} only for a driver that hands
 * out large folios (device-private THP, Linux 6.19).
 */
public interface DevPagemapOps {

    /**
     * {@code ->migrate_to_ram}: the CPU touched a device-private entry. The driver moves the
     * data back to system memory with {@link MigrateDevice#migrateVmaSetup} (flags
     * {@link MigrateVma#MIGRATE_VMA_SELECT_DEVICE_PRIVATE}, its own pgmap owner, and
     * {@code vmf.page()} as the fault page), {@link MigrateDevice#migrateVmaPages} and
     * {@link MigrateDevice#migrateVmaFinalize}, then returns.
     *
     * <p>Context: called from {@link Fault#handleMmFault} with the mmap lock held (read), the
     * page-table lock dropped, and the fault page locked and referenced by the fault handler
     * (which unlocks and releases it after the return). May sleep.
     *
     * @return 0 (the faulting access is retried: it finds the migrated page, or faults again),
     *         or a {@code VM_FAULT_*} error such as {@link Fault#VM_FAULT_SIGBUS} or
     *         {@link Fault#VM_FAULT_OOM}
     */
    int migrateToRam(Fault.VmFault vmf);

    /**
     * {@code ->page_free}: the last reference of {@code page} was dropped; the page is idle
     * ({@link Page.State#DEVICE_IDLE}) and the driver may hand it out again (after
     * {@link DevPagemap#zoneDevicePageInit}). May be called in atomic context (under a
     * page-table spinlock, from a zap): must not sleep.
     */
    void pageFree(Page page);

    /**
     * {@code ->folio_free} of a large folio: every page of the folio of {@code 2^order} pages
     * at {@code head} is idle again (the model counts references per page; the kernel has one
     * folio reference). Same context as {@link #pageFree}. A driver that never hands out large
     * folios need not implement it.
     */
    default void folioFree(Page head, int order) {
        throw new UnsupportedOperationException("a large device folio freed by a driver without folio_free: " + head);
    }

    /**
     * {@code ->folio_split}: the large device folio at {@code head} is being split into base
     * folios; called once for each new folio {@code tail} (the driver moves its per-page data,
     * e.g. {@code zone_device_data}, to it) and last with {@code tail == null} (the head is an
     * order-0 folio now). Called with the folio locked and unmapped or under split; must not
     * sleep. The default does nothing.
     */
    default void folioSplit(Page head, Page tail) {
    }
}
