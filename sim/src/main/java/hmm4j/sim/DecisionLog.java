package hmm4j.sim;

import java.util.AbstractList;
import java.util.Arrays;
import java.util.List;
import java.util.RandomAccess;

/**
 * The decisions of one controlled run, recorded compactly: per decision the chosen task's
 * id, the operation and where its enabled set starts in one shared pool of task ids.
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
    private int[] chosen = new int[64];
    private int[] enabledStart = new int[64];
    private int[] enabledLength = new int[64];
    private Op[] ops = new Op[64];
    private int size;
    private int[] pool = new int[64];
    private int poolSize;

    /** Records a decision: {@code chosenId} among {@code enabled}; {@code changed} false reuses the last enabled set. */
    void add(int chosenId, List<Task> enabled, boolean changed, Op op) {
        if (size == chosen.length) {
            int n = size * 2;
            chosen = Arrays.copyOf(chosen, n);
            enabledStart = Arrays.copyOf(enabledStart, n);
            enabledLength = Arrays.copyOf(enabledLength, n);
            ops = Arrays.copyOf(ops, n);
        }
        int n = enabled.size();
        if (changed || size == 0) {
            if (poolSize + n > pool.length) {
                pool = Arrays.copyOf(pool, Math.max(pool.length * 2, poolSize + n));
            }
            for (int i = 0; i < n; i++) {
                pool[poolSize + i] = enabled.get(i).id();
            }
            enabledStart[size] = poolSize;
            poolSize += n;
        } else {
            enabledStart[size] = enabledStart[size - 1];
        }
        enabledLength[size] = n;
        chosen[size] = chosenId;
        ops[size] = op;
        size++;
    }

    int size() {
        return size;
    }

    /** The memory the record holds, in bytes (arrays' elements; the operations are the model's own). */
    long bytes() {
        return 4L * pool.length + 20L * chosen.length;
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
            int start = log.enabledStart[index];
            Integer[] ids = new Integer[log.enabledLength[index]];
            for (int i = 0; i < ids.length; i++) {
                ids[i] = log.pool[start + i];
            }
            return new Decision(index + 1, log.chosen[index], List.of(ids), log.ops[index]);
        }

        @Override
        public int size() {
            return size;
        }
    }
}
