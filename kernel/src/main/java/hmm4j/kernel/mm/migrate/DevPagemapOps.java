package hmm4j.kernel.mm.migrate;

import hmm4j.kernel.mm.Fault;
import hmm4j.kernel.mm.Page;

/**
 * {@code struct dev_pagemap_ops} for {@code MEMORY_DEVICE_PRIVATE} memory: the two callbacks
 * the core makes into the driver that owns the device pages. Both are required (the kernel's
 * {@code memremap_pages} refuses a device-private pgmap without them).
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
}
