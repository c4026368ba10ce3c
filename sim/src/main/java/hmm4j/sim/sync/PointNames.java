package hmm4j.sim.sync;

import hmm4j.sim.HiddenFromSites;

/**
 * The scheduling-point names of one primitive object ({@code "spin_lock(mm#1->page_table_lock)"}),
 * built once per operation and object instead of concatenated at every call: a point's name
 * is recorded in every decision, so building it per call was the largest allocation of a
 * scheduling decision.
 *
 * <p>Callers pass the operation as a string literal, so the lookup compares identities. The
 * table is copy-on-write behind one volatile reference: lookups take no lock, and two threads
 * racing to add the same name both produce an equal string.
 */
@HiddenFromSites
final class PointNames {
    private static final String[][] EMPTY = {new String[0], new String[0]};

    private final String object;
    private volatile String[][] table = EMPTY;

    PointNames(String object) {
        this.object = object;
    }

    /** {@code op + "(" + object + ")"}, {@code op} being a string literal. */
    String of(String op) {
        String[][] t = table;
        String[] ops = t[0];
        for (int i = 0; i < ops.length; i++) {
            if (ops[i] == op) {
                return t[1][i];
            }
        }
        String name = op + "(" + object + ")";
        String[] newOps = java.util.Arrays.copyOf(ops, ops.length + 1);
        String[] newNames = java.util.Arrays.copyOf(t[1], ops.length + 1);
        newOps[ops.length] = op;
        newNames[ops.length] = name;
        table = new String[][] {newOps, newNames};
        return name;
    }
}
