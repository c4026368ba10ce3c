package hmm4j.sim;

/**
 * Scheduling points for tests that need a point of their own: an operation of its own kind
 * (a write) on an object of its own, labelled {@code label}.
 */
public final class TestOps {
    private TestOps() {
    }

    /** An operation labelled {@code label}, of kind {@code label}, writing a new target of {@code kernel}. */
    public static Op op(Kernel kernel, String label) {
        return new Op(new Op.Kind(label, Op.Access.WRITE), kernel.newTarget(label), label);
    }

    /** A scheduling point before {@link #op(Kernel, String)}. */
    public static void point(Kernel kernel, String label) {
        kernel.point(op(kernel, label));
    }
}
