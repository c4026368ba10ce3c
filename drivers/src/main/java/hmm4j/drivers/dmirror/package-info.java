/**
 * The HMM test device, dmirror, as lib/test_hmm.c (driver) and lib/test_hmm_uapi.h (its
 * private user API) build it (the ~6.15 driver, with the {@code FLAGS} command of the 2025
 * device-private THP series; docs/kernel-mapping.md maps its names): character devices
 * {@code /dev/hmm_dmirror0} and {@code /dev/hmm_dmirror1} with device-private memory, one
 * mirror per open file with a simulated device page table kept coherent with the CPU page
 * table through an interval notifier, and the commands the selftests drive (READ, WRITE,
 * MIGRATE_TO_DEV, MIGRATE_TO_SYS, SNAPSHOT, EXCLUSIVE, CHECK_EXCLUSIVE, RELEASE, FLAGS).
 *
 * <p>What a user sees: {@link hmm4j.drivers.dmirror.DmirrorDevice} (a device, with its
 * memory), {@link hmm4j.drivers.dmirror.DmirrorFile} (an open file: ioctl, close, mmap),
 * {@link hmm4j.drivers.dmirror.HmmDmirrorCmd} and {@link hmm4j.drivers.dmirror.HmmDmirrorUapi}
 * (the command record and numbers), and {@link hmm4j.drivers.dmirror.DmirrorProtocol} (the
 * correct device and the protocol mutants of scenario S5, real code variants at single points
 * of the fault path and the invalidation callback).
 *
 * <p>Checking. Every mirror's device page table is validated against the CPU page table
 * ({@code DmirrorValidator}, rule dmirror.no-stale-entry)
 * after every fault commit, when an invalidation callback returns, before every use of an
 * entry, at release and at quiescence.
 *
 * <p>Locks, in the order they nest: {@code mmap_lock} → {@code dmirror_device->devmem_lock}
 * → the invalidation map → {@code dmirror->mutex}; {@code mmap_lock} →
 * {@code dmirror_device->mirrors_lock} → {@code dmirror->mutex}; the spinlock
 * {@code dmirror_device->lock} (free list, backing links) is innermost and may be taken under
 * a page-table lock. The mirror mutex is never held across {@code mmu_interval_read_begin},
 * {@code hmm_range_fault}, a user access or a notifier insert/remove.
 *
 * <p>Nothing of lib/test_hmm.c is copied; the code follows its behaviour.
 */
package hmm4j.drivers.dmirror;
