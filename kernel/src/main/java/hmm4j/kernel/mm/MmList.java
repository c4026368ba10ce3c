package hmm4j.kernel.mm;

import hmm4j.sim.Kernel;
import hmm4j.sim.sync.SpinLock;
import java.util.ArrayList;
import java.util.List;

/**
 * Every address space of a machine, {@code init_mm.mmlist} under {@code mmlist_lock}
 * (mm/swapfile.c's walk of it in {@code try_to_unuse}: {@code mmget_not_zero} of each under the
 * lock). The model uses it where the kernel walks a file's {@code i_mmap} tree of VMAs
 * ({@link Truncate}): it keeps no reverse map of file VMAs, so a walker pins every live mm and
 * looks at its VMAs.
 *
 * <p>Locking: {@code mmlist_lock} is a spinlock; {@link #pinAll} takes {@code mm_users}
 * references under it, so an mm found there is not freed under the walker; {@code __mmput}
 * takes an mm out under it. Until the first walk the lock is not taken (no walker can be
 * racing), so kernels that never walk the list run exactly as without it.
 */
final class MmList {
    private final SpinLock lock;
    private final List<MmStruct> mms = new ArrayList<>();
    private boolean walked;

    private MmList(Kernel kernel) {
        this.lock = new SpinLock(kernel, "mmlist_lock", "mmlist_lock");
    }

    static MmList of(Kernel kernel) {
        MmList existing = kernel.componentOrNull(MmList.class); // no capturing lambda once made
        return existing != null ? existing : kernel.component(MmList.class, () -> new MmList(kernel));
    }

    /** A new mm joins the list (nobody else can see it yet). */
    synchronized void add(MmStruct mm) {
        mms.add(mm);
    }

    /** {@code __mmput}: the mm leaves the list. */
    void remove(MmStruct mm) {
        synchronized (this) {
            if (!walked) {
                mms.remove(mm);
                return;
            }
        }
        lock.lock();
        try {
            synchronized (this) {
                mms.remove(mm);
            }
        } finally {
            lock.unlock();
        }
    }

    /**
     * Every mm whose address space is alive, each with an {@code mm_users} reference for the
     * caller, taken under {@code mmlist_lock}; the caller drops them with {@code mmput_async}.
     */
    List<MmStruct> pinAll() {
        synchronized (this) {
            walked = true;
        }
        List<MmStruct> pinned = new ArrayList<>();
        lock.lock();
        try {
            List<MmStruct> snapshot;
            synchronized (this) {
                snapshot = List.copyOf(mms);
            }
            for (MmStruct mm : snapshot) {
                if (mm.mmgetNotZero()) {
                    pinned.add(mm);
                }
            }
        } finally {
            lock.unlock();
        }
        return pinned;
    }
}
