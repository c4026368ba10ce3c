package hmm4j.kernel.module;

import hmm4j.check.lifetime.KObject;
import hmm4j.kernel.KernelRules;
import hmm4j.kernel.mm.Errno;
import hmm4j.sim.Kernel;
import hmm4j.sim.Op;
import hmm4j.sim.failure.Failure;
import java.util.Objects;

/**
 * {@code struct module}: a loaded driver with a state, a reference count and its init and
 * exit functions (kernel/module/main.c).
 *
 * <p>Overview: {@link #load} runs the init function in state COMING and leaves the module
 * LIVE (or frees it if init fails). {@link #tryModuleGet} takes a reference only while the
 * module is LIVE; {@link #modulePut} drops one. {@link #deleteModule} refuses a module with
 * references ({@code -EWOULDBLOCK}), else marks it GOING, runs the exit function and frees the
 * module: its memory, code included, is gone. Driver code that runs as a callback (an ops
 * table the core calls later, a work function, an SRCU callback) calls {@link #checkText}
 * first, so a call into the module after it was freed is a use-after-free naming the call,
 * the load and the removal.
 *
 * <p>Locking: the state and the count change together under this object's monitor, as the
 * kernel checks the count and sets GOING under {@code stop_machine}; each operation is one
 * scheduling point before the change.
 *
 * <p>Lifetime: allocated by {@link #load}, freed at the end of {@link #deleteModule}.
 *
 * <p>Differences from the kernel: the count is one counter, not per-CPU; no symbol
 * resolution, parameters or {@code kobject}; {@code delete_module} behaves as with
 * {@code O_NONBLOCK} (it fails instead of waiting for the count to drop).
 */
public final class Module extends KObject {
    private static final Op.Kind TRY_MODULE_GET = new Op.Kind("try_module_get", Op.Access.WRITE);
    private static final Op.Kind MODULE_PUT = new Op.Kind("module_put", Op.Access.WRITE);
    private static final Op.Kind DELETE_MODULE = new Op.Kind("delete_module", Op.Access.WRITE);

    /** A module's {@code module_init} function: 0 or a negated errno. */
    @FunctionalInterface
    public interface InitFunction {
        int init(Module module);
    }

    /** A module's {@code module_exit} function. */
    @FunctionalInterface
    public interface ExitFunction {
        void exit(Module module);
    }

    private final ExitFunction exit;
    private final Op getOp;
    private final Op putOp;
    private final Op deleteOp;
    private ModuleState state = ModuleState.COMING;
    private int refcnt;

    private Module(Kernel kernel, String name, ExitFunction exit) {
        super(kernel, "module " + name);
        this.exit = Objects.requireNonNull(exit, "exit");
        this.getOp = Op.of(TRY_MODULE_GET, target());
        this.putOp = Op.of(MODULE_PUT, target());
        this.deleteOp = Op.of(DELETE_MODULE, target());
    }

    /**
     * {@code load_module} + {@code do_init_module}: allocates the module, runs {@code init}
     * and leaves the module LIVE. If init fails, the module goes GOING and is freed (its exit
     * function is not called) and null is returned. May sleep.
     */
    public static Module load(Kernel kernel, String name, InitFunction init, ExitFunction exit) {
        Module m = new Module(kernel, name, exit);
        int ret = init.init(m);
        synchronized (m) {
            m.state = ret == 0 ? ModuleState.LIVE : ModuleState.GOING;
        }
        if (ret != 0) {
            m.kfree();
            return null;
        }
        return m;
    }

    /** The module's state. */
    public synchronized ModuleState moduleState() {
        return state;
    }

    /** {@code module_refcount}. */
    public synchronized int moduleRefcount() {
        return refcnt;
    }

    /**
     * {@code try_module_get}: takes a reference if the module is LIVE and returns true;
     * returns false while it is COMING or GOING. Does not sleep.
     */
    public boolean tryModuleGet() {
        checkAccess("try_module_get");
        kernel().point(getOp);
        synchronized (this) {
            if (state != ModuleState.LIVE) {
                return false;
            }
            refcnt++;
            return true;
        }
    }

    /**
     * {@code module_put}: drops a reference taken by {@link #tryModuleGet}. A put with no
     * reference held is the kernel's WARN, reported (rule module.put-pairs-get). Does not sleep.
     */
    public void modulePut() {
        checkAccess("module_put");
        kernel().point(putOp);
        boolean underflow;
        synchronized (this) {
            underflow = refcnt == 0;
            if (!underflow) {
                refcnt--;
            }
        }
        if (underflow) {
            kernel().report(new Failure.InvariantViolation(KernelRules.MODULE_PUT_PAIRS_GET,
                    "module_put(" + name() + ") with no reference held", kernel().site()));
        }
    }

    /**
     * The {@code delete_module} system call: returns {@code -EBUSY} if the module is not
     * LIVE, {@code -EWOULDBLOCK} if it has references; otherwise marks it GOING, runs its exit
     * function, frees it and returns 0. May sleep (the exit function may).
     */
    public int deleteModule() {
        checkAccess("delete_module");
        kernel().point(deleteOp);
        synchronized (this) {
            if (state != ModuleState.LIVE) {
                return -Errno.EBUSY;
            }
            if (refcnt != 0) {
                return -Errno.EWOULDBLOCK;
            }
            state = ModuleState.GOING;
        }
        exit.exit(this);
        kfree();
        return 0;
    }

    /**
     * Asserts that the module's code is still there before a call into it: every callback a
     * driver gives the core calls this first. A call after {@link #deleteModule} freed the
     * module is a use-after-free. Not a scheduling point.
     *
     * @param function the module function being called, e.g. {@code "free_notifier"}
     */
    public void checkText(String function) {
        checkAccess("call into the module's code: " + function);
    }
}
