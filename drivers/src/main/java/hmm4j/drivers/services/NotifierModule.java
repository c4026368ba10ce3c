package hmm4j.drivers.services;

import hmm4j.check.lifetime.KObject;
import hmm4j.kernel.mm.ErrPtr;
import hmm4j.kernel.mm.Errno;
import hmm4j.kernel.mm.MmStruct;
import hmm4j.kernel.mm.notifier.MmuNotifier;
import hmm4j.kernel.mm.notifier.MmuNotifierOps;
import hmm4j.kernel.mm.notifier.MmuNotifierRange;
import hmm4j.kernel.module.Module;
import hmm4j.sim.Kernel;

/**
 * A loadable driver module that mirrors process address spaces through
 * {@code mmu_notifier_get} / {@code mmu_notifier_put}, with an exit function in two designs.
 *
 * <p>Every op of its table is module code ({@link Module#checkText}) and uses the module's
 * global state (a {@link KObject} freed by the exit function). A close drops the
 * subscription with {@code mmu_notifier_put}, whose {@code ->free_notifier} runs later from
 * the SRCU callback thread, and then the module reference; so {@code delete_module} can
 * succeed while a free is still queued. The exit function waits for it in one of three ways
 * ({@link ExitWait}): not at all (frees the state and lets the module go at once: the queued
 * {@code ->free_notifier} runs on freed code and state); with {@code mmu_notifier_synchronize},
 * as the kernel documents for any module using {@code mmu_notifier_put} — which is
 * {@code synchronize_srcu} and does not wait for the queued free to have run, so the same
 * use-after-free remains; or with an {@code srcu_barrier} of the notifier SRCU domain, which
 * does (the kernel exports none: it is what {@code mmu_notifier_synchronize} must do).
 */
public final class NotifierModule {
    /** How the module's exit function waits for the frees queued by {@code mmu_notifier_put}. */
    public enum ExitWait {
        /** Not at all. */
        NONE,
        /** {@code mmu_notifier_synchronize()} ({@code synchronize_srcu}). */
        SYNCHRONIZE,
        /** {@code srcu_barrier} of the notifier domain ({@link MmuNotifier#mmuNotifierSrcuBarrier}). */
        SRCU_BARRIER
    }

    private final Module module;
    private final DriverState state;
    private final MmuNotifierOps ops;
    /** The subscription of the open file (one open at a time). */
    private MmuNotifier opened;

    /** The module's global state ({@code static struct drv_state *}), allocated by its init. */
    private static final class DriverState extends KObject {
        int mirrors;

        DriverState(Kernel kernel) {
            super(kernel, "drv-state");
        }
    }

    /** A per-mm mirror embedding the subscription. */
    private static final class Mirror extends KObject {
        final MmuNotifier notifier;

        Mirror(Kernel kernel, MmuNotifierOps ops) {
            super(kernel, "drv-mirror");
            this.notifier = new MmuNotifier(this, "drv-mirror->mn", ops);
        }
    }

    private NotifierModule(Kernel kernel, ExitWait exitWait) {
        DriverState[] allocated = new DriverState[1];
        this.module = Module.load(kernel, "drv_mirror", m -> {
            allocated[0] = new DriverState(kernel);
            return 0;
        }, m -> exit(m, exitWait));
        this.state = allocated[0];
        this.ops = new MmuNotifierOps() {
            @Override
            public ErrPtr<MmuNotifier> allocNotifier(MmStruct mm) {
                module.checkText("alloc_notifier");
                state.checkAccess("alloc_notifier");
                state.mirrors++;
                return ErrPtr.of(new Mirror(mm.kernel(), this).notifier);
            }

            @Override
            public void freeNotifier(MmuNotifier subscription) {
                module.checkText("free_notifier");
                state.checkAccess("free_notifier");
                state.mirrors--;
                subscription.container().kfree();
            }

            @Override
            public int invalidateRangeStart(MmuNotifier subscription, MmuNotifierRange range) {
                module.checkText("invalidate_range_start");
                subscription.container().checkAccess("invalidate_range_start");
                return 0;
            }
        };
    }

    /** {@code modprobe}: loads the module; its exit waits for queued frees as {@code exitWait} says. */
    public static NotifierModule load(Kernel kernel, ExitWait exitWait) {
        return new NotifierModule(kernel, exitWait);
    }

    private void exit(Module m, ExitWait exitWait) {
        switch (exitWait) {
            case NONE -> { }
            case SYNCHRONIZE -> MmuNotifier.mmuNotifierSynchronize(m.kernel());
            case SRCU_BARRIER -> MmuNotifier.mmuNotifierSrcuBarrier(m.kernel());
        }
        state.kfree();
    }

    /** The module. */
    public Module module() {
        return module;
    }

    /**
     * The driver's open: takes a module reference and the mm's subscription. Returns 0 or a
     * negated errno ({@code -ENODEV} once the module is going).
     */
    public int open(MmStruct mm) {
        if (!module.tryModuleGet()) {
            return -Errno.ENODEV;
        }
        module.checkText("open");
        ErrPtr<MmuNotifier> sub = MmuNotifier.mmuNotifierGet(ops, mm);
        if (sub.isErr()) {
            module.modulePut();
            return sub.ptrErr();
        }
        opened = sub.get();
        return 0;
    }

    /** The driver's release: drops the subscription (its free is queued) and the module reference. */
    public void release() {
        module.checkText("release");
        opened.mmuNotifierPut();
        opened = null;
        module.modulePut();
    }
}
