package hmm4j.sim;

import java.util.Objects;

/**
 * The operation at a scheduling point: what is about to happen ({@link #kind()}), to which
 * object ({@link #target()}) and whether it reads or writes that object ({@link #access()}).
 * {@link #label()} is the text reports show, e.g. {@code mutex_lock(dmirror->mutex)}; it is
 * for people only: no strategy, replay or checker reads meaning out of it.
 *
 * <p>Overview: a primitive builds its operations once, when it is created, and passes the
 * same {@code Op} at every call ({@code kernel.point(lockOp)}), so a scheduling point
 * allocates nothing. Its {@link Target} comes from {@link Kernel#newTarget}: a number
 * allocated by the kernel in creation order (the same seed gives the same numbers) and a
 * label for printing; two objects with the same label have different numbers and are
 * different targets. An operation whose label has a per-call part ({@code copy_from_user}
 * at an address, {@code block} with the holders of a lock) is built at the call with the
 * object's target and kind; only its label differs.
 *
 * <p>Who compares what: partial-order sampling (POS) treats two pending operations as racing
 * when they have the same target and at least one of them writes; replay checks, at every
 * step, that the operation has the recorded kind, target number and access. Values:
 * operations, kinds and targets are compared by their components, so the decisions of two
 * runs with the same seed are equal.
 *
 * <p>An operation built by {@link #of} makes its label ({@code kind(target)}) when it is
 * first read: a machine's primitives build many operations at set-up, most of which a run
 * never reaches. Otherwise a value like a record of {@code kind}, {@code target} and
 * {@code label}.
 */
@HiddenFromSites
public final class Op {
    private final Kind kind;
    private final Target target;
    /**
     * The label (a {@code String}); or, until first read, null for an operation built by
     * {@link #of}, or what {@link #block} and {@link #at} make it from (one field, so that an
     * operation stays three references).
     */
    private Object label;

    /** The parts of a label made on first read: {@code "block " + part}, or {@code kind(part, 0xaddr)}. */
    private record LabelParts(String part, long addr, boolean at) {
    }

    /** Whether an operation reads or writes its target. Locking, unlocking and read-modify-write count as writes. */
    public enum Access {
        /** Observes the target without changing it ({@code READ_ONCE}, {@code atomic_read}, waiting on it). */
        READ,
        /** Changes the target ({@code WRITE_ONCE}, any lock or unlock, an atomic increment, a spawn). */
        WRITE
    }

    /**
     * A kind of operation, a constant declared once next to the code that performs it (e.g.
     * {@code mutex_lock} in {@code Mutex}); compared by value, so a kind read back from a
     * failure file equals the live one.
     *
     * @param name   the kernel's name of the operation, e.g. {@code mutex_lock}
     * @param access whether operations of this kind read or write their target
     */
    public record Kind(String name, Access access) {
        /** The first decision of a run (target: the machine) and a task's start before its first point (target: the task). */
        public static final Kind START = new Kind("start", Access.WRITE);
        /** Starting a task from a running one; target: the new task. */
        public static final Kind SPAWN = new Kind("spawn", Access.WRITE);
        /** Waiting for a task to exit; target: the joined task. */
        public static final Kind JOIN = new Kind("join", Access.READ);
        /** A task's body returned; target: the task. */
        public static final Kind EXIT = new Kind("exit", Access.WRITE);
        /** Going to sleep on the virtual clock; target: the sleeping task. */
        public static final Kind SLEEP = new Kind("sleep", Access.WRITE);
        /** The scheduling point before a sleep on the virtual clock; target: the sleeping task. */
        public static final Kind MSLEEP = new Kind("msleep", Access.WRITE);
        /** Could not go on; target: what the task waits for (the lock, queue, completion or task). */
        public static final Kind BLOCK = new Kind("block", Access.READ);

        public Kind {
            Objects.requireNonNull(name, "name");
            Objects.requireNonNull(access, "access");
        }

        @Override
        public String toString() {
            return name;
        }
    }

    /**
     * An object operations act on: {@code id} is allocated by {@link Kernel#newTarget} in
     * creation order and is unique within its kernel; {@code label} is for printing only.
     * Live objects take their target from the kernel; the constructor is for operations read
     * back from a recorded schedule (a failure file) and for tests.
     *
     * @param id    the object's number within its kernel (from 1)
     * @param label its name in reports, e.g. {@code dmirror->mutex}
     */
    public record Target(int id, String label) {
        public Target {
            Objects.requireNonNull(label, "label");
        }

        @Override
        public String toString() {
            return label + "#" + id;
        }
    }

    /**
     * An operation with its label given.
     *
     * @param kind   what the operation is
     * @param target the object it acts on
     * @param label  its text for reports
     */
    public Op(Kind kind, Target target, String label) {
        this(kind, target);
        this.label = Objects.requireNonNull(label, "label");
    }

    private Op(Kind kind, Target target) {
        this.kind = Objects.requireNonNull(kind, "kind");
        this.target = Objects.requireNonNull(target, "target");
    }

    /** What the operation is. */
    public Kind kind() {
        return kind;
    }

    /** The object it acts on. */
    public Target target() {
        return target;
    }

    /**
     * Its text for reports. Made on first read for an operation of {@link #of}; racing
     * readers may each make it, equal strings either way.
     */
    public String label() {
        Object l = label;
        if (l instanceof String text) {
            return text;
        }
        String text;
        if (l instanceof LabelParts p) {
            text = p.at() ? kind.name() + "(" + p.part() + ", 0x" + Long.toHexString(p.addr()) + ")" : "block " + p.part();
        } else {
            text = kind.name() + "(" + target.label() + ")";
        }
        label = text;
        return text;
    }

    /**
     * {@code block <reason>}: a task blocking on {@code target}; the label is made on first
     * read (an exploration's runs block often and print nothing).
     */
    static Op block(Target target, String reason) {
        Op op = new Op(Kind.BLOCK, target);
        op.label = new LabelParts(reason, 0, false);
        return op;
    }

    /**
     * {@code kind(what, 0xaddr)}: an operation at an address (e.g. {@code copy_to_user(mm#1,
     * 0x1000)}), for a call made per access; the label is made on first read, so a run that
     * prints nothing builds no string.
     */
    public static Op at(Kind kind, Target target, String what, long addr) {
        Op op = new Op(kind, target);
        op.label = new LabelParts(Objects.requireNonNull(what, "what"), addr, true);
        return op;
    }

    /** The usual form, {@code kind(target)}: e.g. {@code mutex_lock(dmirror->mutex)}. */
    public static Op of(Kind kind, Target target) {
        return new Op(kind, target);
    }

    /** Whether this operation reads or writes its target (its kind's access). */
    public Access access() {
        return kind.access();
    }

    /** True when this operation changes its target. */
    public boolean writes() {
        return kind.access() == Access.WRITE;
    }

    /**
     * True when this operation and {@code other}, both pending in one run, race: the same
     * target and at least one of them writes (the racing operations of POS).
     */
    public boolean racesWith(Op other) {
        return target.id() == other.target.id() && (writes() || other.writes());
    }

    /**
     * True when {@code other} is the same operation as far as a schedule is concerned: the
     * same kind, target number and access. Labels are not compared. This is replay's check.
     */
    public boolean sameAs(Op other) {
        return kind.equals(other.kind) && target.id() == other.target.id();
    }

    /** Equal when kind, target and label are. */
    @Override
    public boolean equals(Object o) {
        return o instanceof Op op && kind.equals(op.kind) && target.equals(op.target) && label().equals(op.label());
    }

    @Override
    public int hashCode() {
        return Objects.hash(kind, target, label());
    }

    /** The label; the text reports show. */
    @Override
    public String toString() {
        return label();
    }
}
