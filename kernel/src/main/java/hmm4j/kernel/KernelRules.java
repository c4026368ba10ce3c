package hmm4j.kernel;

import static hmm4j.sim.failure.FailureKind.INVARIANT_VIOLATION;

import hmm4j.sim.rule.Rule;
import hmm4j.sim.rule.RuleSet;
import java.util.List;

/**
 * The rules the model of the kernel enforces: the {@code mm_struct} counters, the classic
 * and interval notifier protocols, {@code kthread_use_mm} and the contract of
 * {@code hmm_range_fault}. Each is reported as a
 * {@link hmm4j.sim.failure.Failure.InvariantViolation}; the pin rule, use-after-free, the
 * refcount problems and lockdep's reports are {@link hmm4j.sim.rule.SimRules}'.
 *
 * <p>A rule that follows a {@code BUG_ON}/{@code WARN_ON} of the kernel names the function
 * that has it; one the kernel states only as a contract (in a header or its documentation)
 * names the function the contract is about.
 */
public final class KernelRules {
    private static final String MMU_NOTIFIER = "mm/mmu_notifier.c";

    // ---- mm_struct ----

    /** {@code mm_users > 0} implies {@code mm_count >= 1}. */
    public static final Rule MM_COUNT_OUTLIVES_USERS = Rule.kernel("mm.count-outlives-users", INVARIANT_VIOLATION,
            "kernel/fork.c", "__mmput, mmdrop",
            "an mm loses its last mm_count reference only once mm_users is 0 and exit_mmap has run");

    // ---- classic notifiers ----

    /** {@code BUG_ON(mm_users <= 0)} in registration. */
    public static final Rule REGISTER_ON_LIVE_MM = Rule.kernel("notifier.register-on-live-mm", INVARIANT_VIOLATION,
            MMU_NOTIFIER, "__mmu_notifier_register", "a notifier is registered only on an mm whose mm_users is above 0");
    /** Registration excludes start/end sections. */
    public static final Rule NO_REGISTER_IN_SECTION = Rule.kernel("notifier.no-register-in-section",
            INVARIANT_VIOLATION, MMU_NOTIFIER, "__mmu_notifier_register",
            "no subscription is registered while an invalidate_range_start/end section is in flight on its mm");
    /** {@code BUG_ON(mm_count <= 0)} in unregister. */
    public static final Rule UNREGISTER_ON_GRABBED_MM = Rule.kernel("notifier.unregister-on-grabbed-mm",
            INVARIANT_VIOLATION, MMU_NOTIFIER, "mmu_notifier_unregister",
            "a notifier is unregistered only from an mm whose mm_count is still held");
    /** {@code BUG_ON(!hlist_empty)} when the mm's notifier state is freed. */
    public static final Rule DESTROY_EMPTY = Rule.kernel("notifier.destroy-empty", INVARIANT_VIOLATION,
            MMU_NOTIFIER, "__mmu_notifier_subscriptions_destroy",
            "an mm's notifier state is freed only once no subscription is registered on it");
    /** Only a non-blockable start may fail. */
    public static final Rule ONLY_NONBLOCK_START_FAILS = Rule.kernel("notifier.only-nonblock-start-fails",
            INVARIANT_VIOLATION, MMU_NOTIFIER, "mn_hlist_invalidate_range_start",
            "only a non-blockable invalidate_range_start may fail, and only with -EAGAIN");
    /** A subscription whose start can fail has no end. */
    public static final Rule FALLIBLE_START_NO_END = Rule.kernel("notifier.fallible-start-no-end",
            INVARIANT_VIOLATION, MMU_NOTIFIER, "mn_hlist_invalidate_range_start",
            "a subscription whose invalidate_range_start can fail has no invalidate_range_end");
    /** Start and end pair. */
    public static final Rule END_PAIRS_START = Rule.kernel("notifier.end-pairs-start", INVARIANT_VIOLATION,
            "include/linux/mmu_notifier.h", "mmu_notifier_invalidate_range_start, mmu_notifier_invalidate_range_end",
            "every invalidate_range_end on a range pairs with one successful invalidate_range_start on it");
    /** Calls that wait for callbacks, made from a callback. */
    public static final Rule NOT_FROM_CALLBACK = Rule.kernel("notifier.not-from-callback", INVARIANT_VIOLATION,
            MMU_NOTIFIER, "mmu_notifier_unregister, mmu_interval_notifier_remove",
            "a call that waits for notifier callbacks to finish (unregister, synchronize, interval remove) is "
                    + "never made from a notifier callback");

    // ---- interval notifiers ----

    /** {@code WARN_ON(mm_users <= 0)} in insert. */
    public static final Rule INSERT_ON_LIVE_MM = Rule.kernel("interval.insert-on-live-mm", INVARIANT_VIOLATION,
            MMU_NOTIFIER, "mmu_interval_notifier_insert",
            "an interval notifier is inserted only on an mm whose mm_users is above 0");
    /** Remove pairs with insert. */
    public static final Rule REMOVE_PAIRS_INSERT = Rule.kernel("interval.remove-pairs-insert", INVARIANT_VIOLATION,
            MMU_NOTIFIER, "mmu_interval_notifier_remove", "every interval notifier remove pairs with one insert");
    /** {@code invalidate} returns false only when not blockable. */
    public static final Rule FALSE_ONLY_NONBLOCKABLE = Rule.kernel("interval.false-only-nonblockable",
            INVARIANT_VIOLATION, MMU_NOTIFIER, "mn_itree_invalidate",
            "an interval notifier's invalidate returns false only for a non-blockable range");
    /** The global sequence is even when idle. */
    public static final Rule SEQ_EVEN_WHEN_IDLE = Rule.kernel("interval.seq-even-when-idle", INVARIANT_VIOLATION,
            MMU_NOTIFIER, "mn_itree_inv_end", "invalidate_seq is even whenever no invalidation is active");
    /** The whole interval state once every task is done. */
    public static final Rule QUIESCENT_STATE = Rule.own("interval.quiescent-state", INVARIANT_VIOLATION,
            "at the end of a run no invalidation is in flight, invalidate_seq is even, the deferred list is empty "
                    + "and every subscription's sequence is odd and unequal to the global one");

    /**
     * hmm4j's own: an interval callback of a non-blockable range sleeps. The kernel runs
     * interval callbacks outside {@code non_block_start} and prints nothing; its symptom is
     * the OOM reaper stalled in the callback (or a deadlock with the lock the callback waits for).
     */
    public static final Rule INTERVAL_NONBLOCK_SLEEP = Rule.own("interval.nonblockable-sleep", INVARIANT_VIOLATION,
            "an interval notifier's invalidate of a non-blockable range does not sleep"
                    + " (blocking there stalls the OOM reaper)");

    // ---- kthreads ----

    /** {@code kthread_use_mm} by a kernel thread without an mm. */
    public static final Rule KTHREAD_USE_MM = Rule.kernel("kthread.use-mm", INVARIANT_VIOLATION,
            "kernel/kthread.c", "kthread_use_mm", "kthread_use_mm is called by a kernel thread that has no mm");
    /** {@code kthread_unuse_mm} of the mm in use. */
    public static final Rule KTHREAD_UNUSE_MM = Rule.kernel("kthread.unuse-mm", INVARIANT_VIOLATION,
            "kernel/kthread.c", "kthread_unuse_mm", "kthread_unuse_mm is called by the kernel thread using that mm");

    // ---- the OOM reaper ----

    /** {@code pr_info("oom_reaper: unable to reap ...")} in {@code oom_reap_task}. */
    public static final Rule OOM_REAPER_UNABLE_TO_REAP = Rule.kernel("oom.reaper-unable-to-reap",
            INVARIANT_VIOLATION, "mm/oom_kill.c", "oom_reap_task",
            "the OOM reaper reaps a victim's address space within MAX_OOM_REAP_RETRIES attempts: no notifier "
                    + "refuses its non-blockable invalidation every time, and the mmap lock is not held throughout");

    // ---- hmm_range_fault ----

    /** The output of a successful {@code hmm_range_fault} meets the request. */
    public static final Rule RANGE_FAULT_MEETS_REQUEST = Rule.kernel("hmm.range-fault-meets-request",
            INVARIANT_VIOLATION, "mm/hmm.c", "hmm_range_fault",
            "when hmm_range_fault returns 0, every page that asked for a fault is VALID (and WRITE if asked), "
                    + "never ERROR, except device-private pages of the caller's owner, reported as they are");

    // ---- pages and device memory ----

    /** {@code VM_BUG_ON_FOLIO(!folio_test_locked)} in {@code folio_unlock}. */
    public static final Rule UNLOCK_LOCKED_PAGE = Rule.kernel("page.unlock-locked", INVARIANT_VIOLATION,
            "mm/filemap.c", "folio_unlock", "unlock_page is called only on a page that is locked");
    /** {@code bad_page} in {@code free_pages_prepare}: {@code PG_locked} is among {@code PAGE_FLAGS_CHECK_AT_FREE}. */
    public static final Rule FREE_UNLOCKED_PAGE = Rule.kernel("page.free-unlocked", INVARIANT_VIOLATION,
            "mm/page_alloc.c", "free_pages_prepare",
            "the last reference of an ordinary page is not dropped while the page is locked");
    /** The shared zero page is mapped read-only everywhere. */
    public static final Rule ZERO_PAGE_READ_ONLY = Rule.own("page.zero-page-read-only", INVARIANT_VIOLATION,
            "the contents of the shared zero page are never written");
    /** {@code percpu_ref_kill} called twice, from {@code memunmap_pages}. */
    public static final Rule MEMUNMAP_PAIRS_MEMREMAP = Rule.kernel("pgmap.memunmap-pairs-memremap",
            INVARIANT_VIOLATION, "mm/memremap.c", "memunmap_pages",
            "memunmap_pages is called once for each memremap_pages of a dev_pagemap");
    /** {@code WARN_ON_ONCE(!percpu_ref_tryget_live)} in {@code zone_device_page_init}. */
    public static final Rule PAGE_INIT_LIVE_PGMAP = Rule.kernel("pgmap.page-init-live", INVARIANT_VIOLATION,
            "mm/memremap.c", "zone_device_page_init",
            "zone_device_page_init is called only on a page of a live dev_pagemap");
    /** A device page handed out twice. */
    public static final Rule PAGE_INIT_FREE_PAGE = Rule.own("pgmap.page-init-free", INVARIANT_VIOLATION,
            "zone_device_page_init is called only on a device page that is free (not already handed out)");
    /** The destination pages of a device migration are locked ({@code migrate_device_finalize} unlocks them). */
    public static final Rule MIGRATE_DESTINATION_LOCKED = Rule.kernel("migrate.destination-locked",
            INVARIANT_VIOLATION, "mm/migrate_device.c", "migrate_vma_pages, migrate_device_finalize",
            "every destination page a driver gives migrate_vma_pages is locked");
    /** A {@code migrate_vma} that was set up is finalized. */
    public static final Rule MIGRATE_FINALIZED = Rule.kernel("migrate.finalized", INVARIANT_VIOLATION,
            "mm/migrate_device.c", "migrate_vma_setup, migrate_vma_finalize",
            "every migrate_vma_setup that succeeded is followed by migrate_vma_pages and migrate_vma_finalize "
                    + "before the end of the run");
    /** No migration entry outlives its migration. */
    public static final Rule NO_MIGRATION_ENTRY_LEFT = Rule.kernel("migrate.no-entry-left", INVARIANT_VIOLATION,
            "mm/migrate.c", "remove_migration_ptes",
            "at the end of a run no page table of a live address space holds a migration entry");
    /** Every page lock is released. */
    public static final Rule NO_PAGE_LEFT_LOCKED = Rule.kernel("page.none-locked-at-end", INVARIANT_VIOLATION,
            "mm/filemap.c", "folio_lock, folio_unlock", "at the end of a run no page is locked");
    /** Every page reference beyond the page's mappings is dropped. */
    public static final Rule NO_PAGE_REFERENCE_LEFT = Rule.kernel("page.no-reference-left", INVARIANT_VIOLATION,
            "mm/swap.c", "get_page, put_page",
            "at the end of a run an anonymous page holds no reference beyond its mappings and the page cache");
    /** Insert pairs with remove. */
    public static final Rule INSERT_PAIRS_REMOVE = Rule.own("interval.insert-pairs-remove", INVARIANT_VIOLATION,
            "an interval notifier is inserted once before each remove, never twice");

    // ---- device mappings (hmm4j.kernel.mm.devmap) ----

    /** A device entry left in place by an invalidation that covered it. */
    public static final Rule DEVMAP_NO_ENTRY_SURVIVES = Rule.kernel("devmap.no-entry-survives-invalidation",
            INVARIANT_VIOLATION, "include/linux/mmu_notifier.h", "mmu_notifier_invalidate_range_end",
            "once an invalidation of a range has ended, no device entry made before it began remains in the range "
                    + "(a read-only entry may outlive a protection or soft-dirty change; the driver's own "
                    + "migration or exclusive conversion is its own to finish)");
    /** A writable device entry over a read-only CPU entry. */
    public static final Rule DEVMAP_WRITE_NEEDS_CPU_WRITE = Rule.kernel("devmap.write-needs-cpu-write",
            INVARIANT_VIOLATION, "Documentation/mm/hmm.rst", "hmm_range_fault",
            "a writable device entry maps a page only while the CPU maps that page writable at that address");
    /** A device entry naming a page the CPU does not map there. */
    public static final Rule DEVMAP_NAMES_CPU_PAGE = Rule.kernel("devmap.names-cpu-page", INVARIANT_VIOLATION,
            "Documentation/mm/hmm.rst", "hmm_range_fault",
            "a device entry names the page the CPU maps at its address now (for a device-private page: the "
                    + "device-private entry of that page, of the map's owner), unless the page is under migration");

    // ---- kernel services (hmm4j.kernel.workqueue, hmm4j.kernel.module, hmm4j.kernel.fs.aio) ----

    /** {@code WARN_ON_ONCE} in {@code __queue_work} on a workqueue being destroyed. */
    public static final Rule WQ_QUEUE_ON_DESTROYED = Rule.kernel("workqueue.queue-on-destroyed", INVARIANT_VIOLATION,
            "kernel/workqueue.c", "__queue_work, destroy_workqueue",
            "no work is queued on a destroyed workqueue, and none has its timer armed when the workqueue is destroyed");
    /** {@code WARN_ON(ret < 0)} in {@code module_put}. */
    public static final Rule MODULE_PUT_PAIRS_GET = Rule.kernel("module.put-pairs-get", INVARIANT_VIOLATION,
            "kernel/module/main.c", "module_put",
            "every module_put drops a reference taken by try_module_get or __module_get");

    /** {@code WARN_ON_ONCE} in {@code kiocb_set_cancel_fn} on an iocb already on the active list. */
    public static final Rule KIOCB_CANCEL_FN_TWICE = Rule.kernel("aio.cancel-fn-once", INVARIANT_VIOLATION,
            "fs/aio.c", "kiocb_set_cancel_fn",
            "a driver sets an iocb's cancel callback at most once, while the iocb is in flight");

    // ---- DMA fences and reservation objects (hmm4j.kernel.dma) ----

    /** {@code WARN} in {@code dma_fence_release}: released with pending signals. */
    public static final Rule DMA_FENCE_SIGNAL_BEFORE_RELEASE = Rule.kernel("dma-fence.signal-before-release",
            INVARIANT_VIOLATION, "drivers/dma-buf/dma-fence.c", "dma_fence_release",
            "a fence with callbacks queued signals before its last reference is dropped");
    /** {@code BUG_ON(num_fences >= max_fences)} in {@code dma_resv_add_fence}. */
    public static final Rule DMA_RESV_FENCE_RESERVED = Rule.kernel("dma-resv.fence-reserved", INVARIANT_VIOLATION,
            "drivers/dma-buf/dma-resv.c", "dma_resv_add_fence, dma_resv_reserve_fences",
            "a fence is added to a reservation object only into a slot reserved in the same hold of its lock");

    /** The set, for the catalogue. */
    public static final RuleSet SET = new RuleSet("Kernel model (kernel)",
            "Checked by the model of mm_struct, the classic and interval notifiers, kthreads and HMM; "
                    + "hmm.range-fault-meets-request is checked by its callers (the dmirror fault path), the devmap "
                    + "rules by hmm4j.kernel.mm.devmap on the maps drivers declare.",
            List.of(MM_COUNT_OUTLIVES_USERS, REGISTER_ON_LIVE_MM, NO_REGISTER_IN_SECTION, UNREGISTER_ON_GRABBED_MM,
                    DESTROY_EMPTY, ONLY_NONBLOCK_START_FAILS, FALLIBLE_START_NO_END, END_PAIRS_START,
                    NOT_FROM_CALLBACK, INSERT_ON_LIVE_MM, REMOVE_PAIRS_INSERT, FALSE_ONLY_NONBLOCKABLE,
                    SEQ_EVEN_WHEN_IDLE, QUIESCENT_STATE, INTERVAL_NONBLOCK_SLEEP, KTHREAD_USE_MM, KTHREAD_UNUSE_MM,
                    OOM_REAPER_UNABLE_TO_REAP,
                    RANGE_FAULT_MEETS_REQUEST,
                    DEVMAP_NO_ENTRY_SURVIVES, DEVMAP_WRITE_NEEDS_CPU_WRITE, DEVMAP_NAMES_CPU_PAGE,
                    UNLOCK_LOCKED_PAGE, FREE_UNLOCKED_PAGE, ZERO_PAGE_READ_ONLY, MEMUNMAP_PAIRS_MEMREMAP,
                    PAGE_INIT_LIVE_PGMAP, PAGE_INIT_FREE_PAGE, MIGRATE_DESTINATION_LOCKED, INSERT_PAIRS_REMOVE,
                    WQ_QUEUE_ON_DESTROYED, MODULE_PUT_PAIRS_GET, KIOCB_CANCEL_FN_TWICE,
                    DMA_FENCE_SIGNAL_BEFORE_RELEASE, DMA_RESV_FENCE_RESERVED,
                    MIGRATE_FINALIZED, NO_MIGRATION_ENTRY_LEFT, NO_PAGE_LEFT_LOCKED, NO_PAGE_REFERENCE_LEFT));

    private KernelRules() {
    }
}
