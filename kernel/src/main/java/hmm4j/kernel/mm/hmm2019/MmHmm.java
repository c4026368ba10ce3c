package hmm4j.kernel.mm.hmm2019;

import hmm4j.kernel.mm.MmStruct;
import hmm4j.sim.Kernel;
import hmm4j.sim.Op;
import java.util.IdentityHashMap;
import java.util.Map;
import java.util.Objects;

/**
 * {@code mm->hmm} (v5.1 to v5.3, CONFIG_HMM_MIRROR) and the configuration of the 2019 API, per
 * mm, kept beside {@link MmStruct} rather than in it: one slot per mm, made on first use.
 *
 * <p>Locking: the pointer is written under {@code mm->page_table_lock}; v5.2 reads it without
 * a lock ({@link #readOnce}, a scheduling point), v5.3 under the lock ({@link #getLocked}).
 * It carries no reference. Every access checks that the mm itself is allocated (the field is
 * part of the mm_struct).
 *
 * <p>Differences from the kernel: {@code hmm_mm_init} and {@code hmm_mm_destroy} are not
 * hooked into fork and {@code __mmdrop}: a fresh mm has no slot (NULL), and in v5.2 the
 * destroy hook only ever found a kref-0 hmm and cleared the pointer of an mm being freed.
 */
public final class MmHmm {
    private static final Op.Kind READ_ONCE = new Op.Kind("READ_ONCE", Op.Access.READ);
    private static final Op.Kind WRITE = new Op.Kind("WRITE_ONCE", Op.Access.WRITE);

    private final MmStruct mm;
    private final Op readOp;
    private final Op writeOp;
    private volatile Hmm2019 hmm;
    private volatile Hmm2019Config config;

    private MmHmm(MmStruct mm, Hmm2019Config config) {
        this.mm = mm;
        this.config = config;
        Op.Target target = mm.kernel().newTarget(mm.name() + "->hmm");
        this.readOp = Op.of(READ_ONCE, target);
        this.writeOp = Op.of(WRITE, target);
    }

    /** Per kernel: the default configuration and the slots. */
    private static final class Slots {
        volatile Hmm2019Config defaultConfig = Hmm2019Config.of(Hmm2019Version.V5_2);
        final Map<MmStruct, MmHmm> byMm = new IdentityHashMap<>();
    }

    private static Slots slots(Kernel k) {
        return k.component(Slots.class, Slots::new);
    }

    /** Sets the configuration every mm without its own uses on {@code k} (default: v5.2). */
    public static void setKernelConfig(Kernel k, Hmm2019Config config) {
        slots(k).defaultConfig = Objects.requireNonNull(config);
    }

    /** The slot of {@code mm}, made on first use with the kernel's configuration. */
    public static MmHmm of(MmStruct mm) {
        Slots s = slots(mm.kernel());
        synchronized (s) {
            return s.byMm.computeIfAbsent(mm, m -> new MmHmm(m, s.defaultConfig));
        }
    }

    /** Sets the configuration of {@code mm}; call before the first mirror is registered on it. */
    public static void setConfig(MmStruct mm, Hmm2019Config config) {
        of(mm).config = Objects.requireNonNull(config);
    }

    /** The configuration of this mm. */
    public Hmm2019Config config() {
        return config;
    }

    /** The mm. */
    public MmStruct mm() {
        return mm;
    }

    /** {@code READ_ONCE(mm->hmm)}: an unlocked read (v5.2's mm_get_hmm). A scheduling point. */
    public Hmm2019 readOnce() {
        mm.kernel().point(readOp);
        mm.checkAccess("READ_ONCE(mm->hmm)");
        return hmm;
    }

    /** {@code mm->hmm} read under {@code page_table_lock} (v5.3). */
    public Hmm2019 getLocked() {
        mm.pageTableLock().assertHeld();
        return hmm;
    }

    /** Writes {@code mm->hmm}; the caller holds {@code page_table_lock} (asserted). */
    void setLocked(Hmm2019 value) {
        mm.pageTableLock().assertHeld();
        mm.kernel().point(writeOp);
        hmm = value;
    }

    /** {@code mm->hmm} without a scheduling point or lock (checkers, tests). */
    public Hmm2019 peek() {
        return hmm;
    }
}
