package hmm4j.explore;

import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.locks.ReentrantLock;
import org.jetbrains.lincheck.datastructures.Operation;

/**
 * The lost-update counter of {@link LincheckComparisonTest} in plain {@code java.util.concurrent},
 * as Lincheck's model checker tests it: a Lincheck test class is a data structure whose
 * {@link Operation @Operation} methods Lincheck calls from its own threads and checks for
 * linearizability against a sequential run. It is the same program as the substrate's
 * version in the test: {@code inc()} reads the counter, then writes the value plus one.
 *
 * <p>Each class counts its instances: Lincheck's model checker creates one per invocation
 * (one explored interleaving), which is how the comparison counts Lincheck's schedules.
 */
final class LincheckCounters {
    private LincheckCounters() {
    }

    /** The bug: read, then write, without a lock; two concurrent increments can both return 1. */
    public static final class LostUpdate {
        static final AtomicLong INSTANCES = new AtomicLong();
        private volatile int count;

        public LostUpdate() {
            INSTANCES.incrementAndGet();
        }

        /** Increments the counter and returns its new value. */
        @Operation
        public int inc() {
            int v = count;
            count = v + 1;
            return v + 1;
        }
    }

    /** The correct twin: the same read and write under a lock. */
    public static final class Locked {
        static final AtomicLong INSTANCES = new AtomicLong();
        private final ReentrantLock lock = new ReentrantLock();
        private volatile int count;

        public Locked() {
            INSTANCES.incrementAndGet();
        }

        /** Increments the counter under the lock and returns its new value. */
        @Operation
        public int inc() {
            lock.lock();
            try {
                int v = count;
                count = v + 1;
                return v + 1;
            } finally {
                lock.unlock();
            }
        }
    }
}
