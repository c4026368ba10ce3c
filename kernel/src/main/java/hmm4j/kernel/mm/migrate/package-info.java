/**
 * Device-private and device-coherent memory and migration to and from it ({@link
 * hmm4j.kernel.mm.migrate.ZoneDevice} tells them apart): {@code struct dev_pagemap} and
 * {@code memremap_pages} ({@code include/linux/memremap.h}, {@code mm/memremap.c}), the
 * {@code migrate_vma} and {@code migrate_device} calls ({@code include/linux/migrate.h},
 * {@code mm/migrate_device.c}), and {@code make_device_exclusive} ({@code mm/rmap.c}), as in
 * Linux 6.15 (the newest {@code MIGRATE_PFN_*} values; the one-page
 * {@code make_device_exclusive}).
 *
 * <p>What a driver uses, in the shape of lib/test_hmm.c:
 * <ul>
 *   <li>{@link hmm4j.kernel.mm.migrate.DevPagemap}: creates its device pages
 *       ({@code memremapPages}), hands them out ({@code zoneDevicePageInit}) and gets them
 *       back through its {@link hmm4j.kernel.mm.migrate.DevPagemapOps} ({@code pageFree};
 *       {@code migrateToRam} on a CPU fault);</li>
 *   <li>{@link hmm4j.kernel.mm.migrate.MigrateVma} and
 *       {@link hmm4j.kernel.mm.migrate.MigrateDevice}: setup, pages, finalize, with the
 *       {@link hmm4j.kernel.mm.migrate.MigratePfn} encoding; the device-range calls for
 *       eviction;</li>
 *   <li>{@link hmm4j.kernel.mm.migrate.DeviceExclusive}: exclusive access for device
 *       atomics.</li>
 * </ul>
 * The CPU side lives in {@code hmm4j.kernel.mm}: the fault handler calls
 * {@code migrate_to_ram} and restores device-exclusive entries, fork shares device pages
 * copy-on-write, zap releases them.
 *
 * <p>Conventions. Calls that may sleep say so; page locks are taken with trylock under a
 * page-table lock and with the sleeping {@code lock_page} elsewhere; every invalidation is
 * issued with no spinlock held. Where the kernel walks a page's {@code anon_vma}, the model
 * walks the device rmap of {@link hmm4j.kernel.mm.migrate.DevPagemap} (device pages only; an
 * ordinary page still mapped in another address space is not migrated).
 */
@hmm4j.sim.ModelCode
package hmm4j.kernel.mm.migrate;
