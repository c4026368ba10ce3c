package hmm4j.sim;

import java.util.AbstractList;
import java.util.Arrays;
import java.util.List;
import java.util.RandomAccess;

/**
 * The decisions of one controlled run, recorded compactly: per decision the chosen task's
 * id, the operation and where its enabled set starts in one shared pool of task ids; the
 * per-decision arrays are chunks of {@value #CHUNK}, so the record grows without copying.
 *
 * <p>Overview: a run takes thousands of decisions and a failure file or report reads them
 * only when the run failed, so a decision is three array writes, no object. The enabled set
 * is written to the pool only when it changed since the previous decision (the runtime
 * tells, from its count of task state changes); otherwise the decision points at the
 * previous one's. {@link #view()} is the decision list, built element by element when read
 * ({@link Decision} values equal to those a list of records would hold).
 *
 * <p>{@link #bytes()} is what the record holds, for the run's memory bound: a spawn bomb's
 * enabled sets grow with its tasks, and the bound turns that into a verdict, not an
 * {@code OutOfMemoryError}.
 */
@HiddenFromSites
final class DecisionLog {
    /** Decisions per chunk: the record grows by chunks, never copying what it holds. */
    private static final int CHUNK = 128;
    private static final int SHIFT = 7;

    /** Per chunk, per decision: the chosen task's id, and where its enabled set is in the pool. */
    private int[][] chosen = new int[4][];
    private int[][] enabledAt = new int[4][];
    private Op[][] ops = new Op[4][];
    private int size;
    /** The enabled sets: each is its length followed by its ids. */
    private int[] pool = new int[64];
    private int poolSize;
    private int lastEnabledAt;
    private long chunkBytes;

    /** Records a decision: {@code chosenId} among {@code enabled}; {@code changed} false reuses the last enabled set. */
    void add(int chosenId, List<Task> enabled, boolean changed, Op op) {
        int c = size >>> SHIFT;
        int i = size & (CHUNK - 1);
        if (i == 0) {
            if (c == chosen.length) {
                chosen = Arrays.copyOf(chosen, c * 2);
                enabledAt = Arrays.copyOf(enabledAt, c * 2);
                ops = Arrays.copyOf(ops, c * 2);
            }
            chosen[c] = new int[CHUNK];
            enabledAt[c] = new int[CHUNK];
            ops[c] = new Op[CHUNK];
            chunkBytes += 12L * CHUNK;
        }
        if (changed || size == 0) {
            int n = enabled.size();
            if (poolSize + n + 1 > pool.length) {
                pool = Arrays.copyOf(pool, Math.max(pool.length * 2, poolSize + n + 1));
            }
            pool[poolSize] = n;
            for (int k = 0; k < n; k++) {
                pool[poolSize + 1 + k] = enabled.get(k).id();
            }
            lastEnabledAt = poolSize;
            poolSize += n + 1;
        }
        enabledAt[c][i] = lastEnabledAt;
        chosen[c][i] = chosenId;
        ops[c][i] = op;
        size++;
    }

    int size() {
        return size;
    }

    /** The memory the record holds, in bytes (arrays' elements; the operations are the model's own). */
    long bytes() {
        return 4L * pool.length + chunkBytes;
    }

    /** The decisions as an immutable list whose elements are built when read. */
    List<Decision> view() {
        return new View(this, size);
    }

    /** The recorded decisions; immutable (it reads the first {@code size}, which never change). */
    static final class View extends AbstractList<Decision> implements RandomAccess {
        private final DecisionLog log;
        private final int size;

        View(DecisionLog log, int size) {
            this.log = log;
            this.size = size;
        }

        @Override
        public Decision get(int index) {
            if (index < 0 || index >= size) {
                throw new IndexOutOfBoundsException(index);
            }
            int c = index >>> SHIFT;
            int i = index & (CHUNK - 1);
            int at = log.enabledAt[c][i];
            Integer[] ids = new Integer[log.pool[at]];
            for (int k = 0; k < ids.length; k++) {
                ids[k] = log.pool[at + 1 + k];
            }
            return new Decision(index + 1, log.chosen[c][i], List.of(ids), log.ops[c][i]);
        }

        @Override
        public int size() {
            return size;
        }
    }
}
