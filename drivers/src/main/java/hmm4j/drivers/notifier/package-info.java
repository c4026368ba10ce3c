/**
 * Notifier users from the 2019–2020 threads (scenarios S3 and S4), each in
 * the design that had the bug and in the design that fixed it: the 2019 {@code struct hmm}
 * mirror and the amdkfd process (freeing without a grace period), the ODP umem
 * (non-blocking start that fails holding a lock), the ODP implicit child (registration from
 * a work item without {@code mmget}) and the 2020 {@code mmu_interval_notifier_find} mirror;
 * and (D1) a mirror that ignores protection events, checked through the device-mapping
 * checker ({@link hmm4j.kernel.mm.devmap.DeviceMap}), and its fix.
 * They follow drivers/gpu/drm/amd/amdkfd/kfd_process.c, drivers/infiniband/core/umem_odp.c,
 * mm/hmm.c (v5.2) and lib/test_hmm.c in spirit; none of their code is copied.
 */
package hmm4j.drivers.notifier;
