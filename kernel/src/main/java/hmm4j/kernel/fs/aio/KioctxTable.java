package hmm4j.kernel.fs.aio;

import hmm4j.sim.Kernel;
import hmm4j.sim.sync.SpinLock;
import java.util.ArrayList;
import java.util.List;

/**
 * {@code struct kioctx_table} and {@code mm->ioctx_lock}: the slots of an mm's AIO
 * contexts, indexed by {@code ctx->id}; a killed context's slot is cleared.
 *
 * <p>Locking: the slots are guarded by {@link #ioctxLock()}; {@code exit_aio} reads them
 * without it, as the kernel does, when no task can use the mm any more.
 *
 * <p>Differences from the kernel: the lock is created with the table at the first
 * {@code io_setup} (in the kernel it is a field of {@code mm_struct}); the table only grows
 * and is never reallocated under RCU.
 */
public final class KioctxTable {
    private final SpinLock ioctxLock;
    private final List<Kioctx> table = new ArrayList<>(); // guarded by ioctxLock

    KioctxTable(Kernel kernel, String mmName) {
        this.ioctxLock = new SpinLock(kernel, "mm->ioctx_lock", mmName + "->ioctx_lock");
    }

    /** {@code mm->ioctx_lock}. */
    public SpinLock ioctxLock() {
        return ioctxLock;
    }

    /** {@code table->nr}: the number of slots. Caller holds the lock or is {@code exit_aio}. */
    int nr() {
        return table.size();
    }

    /** {@code table->table[i]}, or null for a free slot. Caller holds the lock or is {@code exit_aio}. */
    Kioctx get(int i) {
        return table.get(i);
    }

    /** {@code ioctx_add_table}'s slot search: the first free slot, or a new one. Caller holds the lock. */
    int add(Kioctx ctx) {
        for (int i = 0; i < table.size(); i++) {
            if (table.get(i) == null) {
                table.set(i, ctx);
                return i;
            }
        }
        table.add(ctx);
        return table.size() - 1;
    }

    /** Clears the slot of a killed context. Caller holds the lock. */
    void clear(int i) {
        table.set(i, null);
    }

    /** True when {@code ctx} is in its slot (lookup by identity, never touching {@code ctx}). Caller holds the lock. */
    boolean holds(Kioctx ctx, int id) {
        return id >= 0 && id < table.size() && table.get(id) == ctx;
    }
}
