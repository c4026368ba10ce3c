/**
 * The device-mapping checker: a public API through which a driver declares what its device
 * maps (address → page, read or write, the owner of its device-private pages), and the checks
 * of those declarations against the CPU page table where the kernel's contract says they must
 * hold (include/linux/mmu_notifier.h, Documentation/mm/hmm.rst, current mainline ≈v6.16).
 *
 * <p>{@link hmm4j.kernel.mm.devmap.DeviceMap} is the driver's declared table (the model of a
 * device page table or of a secondary TLB); {@link hmm4j.kernel.mm.devmap.DeviceMapChecker}
 * holds the maps of one machine, follows every invalidation from its start to its end and
 * judges the entries: after the end of each invalidation (rule
 * devmap.no-entry-survives-invalidation, then devmap.names-cpu-page and
 * devmap.write-needs-cpu-write on the range), before each declared device access, and at
 * quiescence. {@link hmm4j.kernel.mm.devmap.DeviceMapChecker#compare} is the judgement of one
 * entry against one CPU entry, for drivers with a table of their own (dmirror).
 *
 * <p>It lives in {@code kernel}, not {@code check}, because it reads the model's page tables
 * and follows {@link hmm4j.kernel.mm.notifier.MmuNotifierRange}s; and in a package of its own,
 * not {@code hmm}, because drivers that never call {@code hmm_range_fault} (ODP, KVM-like
 * secondary MMUs) keep device mappings too.
 */
@hmm4j.sim.ModelCode
package hmm4j.kernel.mm.devmap;
