package hmm4j.scenarios;

import hmm4j.drivers.services.NotifierModule;
import hmm4j.drivers.services.RefreshDevice;
import hmm4j.drivers.services.UserptrFenceDevice;
import hmm4j.kernel.dma.DmaFence;
import hmm4j.kernel.mm.Errno;
import hmm4j.kernel.mm.MmStruct;
import hmm4j.kernel.mm.Mmap;
import hmm4j.kernel.mm.Pte;
import hmm4j.kernel.mm.UserAccess;
import hmm4j.kernel.mm.notifier.MmuNotifier;
import hmm4j.kernel.sched.Process;
import hmm4j.kernel.workqueue.WorkStruct;
import hmm4j.sim.Kernel;
import hmm4j.sim.Task;
import hmm4j.sim.sync.Completion;
import hmm4j.sim.rule.SimRules;
import java.util.List;

/**
 * Drivers using the kernel's services, each in its buggy and its fixed design: W1, a device
 * whose refresh work takes the device lock, torn down with {@code flush_work} under that lock
 * (found by lockdep's work map) or with {@code cancel_work_sync} outside it; M1, a notifier
 * module whose exit runs while a {@code ->free_notifier} is still queued in SRCU, without
 * {@code mmu_notifier_synchronize} (a use-after-free of the module) or with it; F1, a
 * user-pointer device whose invalidate waits under its notifier lock for its buffer's fences,
 * with a job-completion path that takes that lock inside its fence-signalling section (found
 * by lockdep's fence annotations) or only its ring's lock.
 */
public final class ServiceScenarios {
    private static final long PAGE = Pte.PAGE_SIZE;

    private ServiceScenarios() {
    }

    public static List<Scenario> all() {
        return List.of(
                new DesignScenario("W1-flush-under-lock", "device teardown: flush_work under the lock its work takes",
                        Expectation.finds(SimRules.LOCK_ORDER), k -> refresh(k, false)),
                new DesignScenario("W1-cancel-outside-lock", "device teardown: mark dead under the lock, cancel_work_sync outside it",
                        Expectation.clean().reaching(WorkStruct.CANCEL_UNQUEUED, WorkStruct.CANCEL_WAITED),
                        k -> refresh(k, true)),
                new DesignScenario("M1-exit-no-synchronize", "module exit frees its state while free_notifier is queued in SRCU",
                        Expectation.finds(SimRules.USE_AFTER_FREE_RULE), k -> moduleExit(k, NotifierModule.ExitWait.NONE)),
                new DesignScenario("M1-exit-synchronize", "module exit calls mmu_notifier_synchronize (synchronize_srcu) first",
                        Expectation.finds(SimRules.USE_AFTER_FREE_RULE), k -> moduleExit(k, NotifierModule.ExitWait.SYNCHRONIZE)),
                new DesignScenario("M1-exit-srcu-barrier", "module exit waits with srcu_barrier on the notifier SRCU domain",
                        Expectation.clean().reaching(MmuNotifier.SRCU_FREE), k -> moduleExit(k, NotifierModule.ExitWait.SRCU_BARRIER)),
                new DesignScenario("F1-signal-under-notifier-lock",
                        "invalidate waits for the buffer's fences under notifier_lock; job completion takes it too",
                        Expectation.finds(SimRules.LOCK_ORDER), k -> userptrFence(k, false)),
                new DesignScenario("F1-signal-under-ring-lock",
                        "invalidate waits for the buffer's fences under notifier_lock; job completion takes the ring lock",
                        Expectation.clean().reaching(DmaFence.WAITED), k -> userptrFence(k, true)));
    }

    /** W1: interrupts queue the refresh work; after they stop (free_irq), the device is torn down. */
    private static void refresh(Kernel k, boolean fixed) {
        RefreshDevice dev = new RefreshDevice(k);
        Task irq = k.spawnKthread("irq", t -> {
            for (int i = 0; i < 2; i++) {
                dev.interrupt();
            }
        });
        k.spawnKthread("teardown", t -> {
            irq.join();
            if (fixed) {
                dev.teardown();
            } else {
                dev.teardownFlushUnderLock();
            }
        });
    }

    /**
     * F1: a process maps its buffer, the device submits a job on it and the ring completes
     * the job while the process unmaps the first page (an invalidation that waits for the
     * job's fence).
     */
    private static void userptrFence(Kernel k, boolean fixed) {
        Process.spawn(k, "process", self -> {
            MmStruct mm = MmStruct.of(self);
            long base = Mmap.mmapAnonymous(mm, 2 * PAGE, Mmap.PROT_READ | Mmap.PROT_WRITE);
            if (Errno.isError(base) || UserAccess.copyToUser(k, base, new byte[(int) (2 * PAGE)]) != 0) {
                throw new IllegalStateException("process could not set up its mapping: " + base);
            }
            UserptrFenceDevice dev = fixed
                    ? UserptrFenceDevice.completionUnderRingLock(k, mm, base, 2 * PAGE)
                    : UserptrFenceDevice.completionUnderNotifierLock(k, mm, base, 2 * PAGE);
            DmaFence job = dev.submit();
            Task ring = k.spawnKthread("ring", t -> dev.complete(job));
            Mmap.munmap(mm, base, PAGE);
            ring.join();
            dev.release();
        });
    }

    /**
     * M1: a process opens the driver, touches its memory and closes it; rmmod removes the
     * module once the file is closed (the free queued by the close may not have run yet).
     */
    private static void moduleExit(Kernel k, NotifierModule.ExitWait exitWait) {
        NotifierModule drv = NotifierModule.load(k, exitWait);
        Completion closed = new Completion(k, "closed");
        Process.spawn(k, "process", self -> {
            MmStruct mm = MmStruct.of(self);
            long base = Mmap.mmapAnonymous(mm, 2 * PAGE, Mmap.PROT_READ | Mmap.PROT_WRITE);
            if (Errno.isError(base) || UserAccess.copyToUser(k, base, new byte[(int) (2 * PAGE)]) != 0) {
                throw new IllegalStateException("process could not set up its mapping: " + base);
            }
            if (drv.open(mm) != 0) {
                throw new IllegalStateException("open of the live module failed");
            }
            Mmap.munmap(mm, base, PAGE);
            drv.release();
            closed.complete();
            Mmap.munmap(mm, base + PAGE, PAGE);
        });
        k.spawnKthread("rmmod", t -> {
            closed.waitForCompletion();
            int ret = drv.module().deleteModule();
            if (ret != 0) {
                throw new IllegalStateException("delete_module failed: " + ret);
            }
        });
    }
}
