package hmm4j.sim;

import java.util.ArrayList;
import java.util.List;

/**
 * The marks one kernel's run has hit: an open-addressing set of {@link Mark}s keyed by the
 * mark's hash, linear probing, at most half full.
 *
 * <p>The hot path ({@link #hit} of a mark already in the set) reads the volatile table and
 * compares references; it takes no lock and allocates nothing. A mark's first hit in the
 * kernel inserts it under this table's monitor (growing the table when needed) and
 * publishes the table again. Readers racing an insert either see the mark or take the
 * locked path, which finds it; all writers write the same reference, so both runtimes are
 * safe. The marks are read after the run, when every task is done.
 */
@HiddenFromSites
final class MarkTable {
    private volatile Mark[] slots = new Mark[32];
    // Guarded by this.
    private int size;

    /** Adds {@code mark} if it is not in the set yet. */
    void hit(Mark mark) {
        Mark[] s = slots;
        int mask = s.length - 1;
        for (int i = mark.hash & mask; ; i = (i + 1) & mask) {
            Mark m = s[i];
            if (m == mark) {
                return;
            }
            if (m == null) {
                break;
            }
        }
        insert(mark);
    }

    private synchronized void insert(Mark mark) {
        Mark[] s = slots;
        if (contains(s, mark)) {
            return;
        }
        if (2 * (size + 1) > s.length) {
            Mark[] bigger = new Mark[s.length * 2];
            for (Mark m : s) {
                if (m != null) {
                    put(bigger, m);
                }
            }
            put(bigger, mark);
            size++;
            slots = bigger;
            return;
        }
        put(s, mark);
        size++;
        slots = s;
    }

    private static boolean contains(Mark[] s, Mark mark) {
        int mask = s.length - 1;
        for (int i = mark.hash & mask; s[i] != null; i = (i + 1) & mask) {
            if (s[i] == mark) {
                return true;
            }
        }
        return false;
    }

    private static void put(Mark[] s, Mark mark) {
        int mask = s.length - 1;
        int i = mark.hash & mask;
        while (s[i] != null) {
            i = (i + 1) & mask;
        }
        s[i] = mark;
    }

    /** The marks hit so far, ordered by id. */
    synchronized List<Mark> snapshot() {
        List<Mark> all = new ArrayList<>(size);
        for (Mark m : slots) {
            if (m != null) {
                all.add(m);
            }
        }
        all.sort(Mark.BY_ID);
        return List.copyOf(all);
    }
}
