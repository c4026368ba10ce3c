package hmm4j.cli;

import hmm4j.scenarios.selftest.Selftest;
import hmm4j.scenarios.selftest.SelftestResult;
import hmm4j.scenarios.selftest.TestCase;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Consumer;
import java.util.function.Function;

/**
 * Runs selftests a few at a time and hands their results over in the suite's order.
 *
 * <p>Each test runs on a fresh machine of its own and its result is a function of its seed,
 * so tests may run at once on separate threads: {@code jobs} platform threads take the next
 * test in the suite's order, and a finished result is handed to the consumer as soon as every
 * test before it has been handed over (so the consumer sees exactly the serial order, from
 * one thread at a time). A test with a longer {@code TEST_F_TIMEOUT} than kselftest's default
 * (the long benchmarks, which also hold the most memory) never runs beside another such test:
 * a thread whose next candidate is one while another runs takes the next ordinary test
 * instead, or waits. With one job, or one test, everything runs on the caller's thread.
 */
final class TestRunner {
    private final List<Selftest> tests;
    private final Function<Selftest, SelftestResult> run;
    private final Consumer<SelftestResult> consumer;
    private final SelftestResult[] done;
    private final boolean[] taken;
    // Guarded by this.
    private int handedOver;
    private boolean longRunning;
    private Throwable failure;

    private TestRunner(List<Selftest> tests, Function<Selftest, SelftestResult> run,
                       Consumer<SelftestResult> consumer) {
        this.tests = tests;
        this.run = run;
        this.consumer = consumer;
        this.done = new SelftestResult[tests.size()];
        this.taken = new boolean[tests.size()];
    }

    /** Runs {@code tests} with {@code run}, {@code jobs} at a time, handing results to {@code consumer} in order. */
    static void run(List<Selftest> tests, Function<Selftest, SelftestResult> run, int jobs,
                    Consumer<SelftestResult> consumer) {
        if (jobs <= 1 || tests.size() <= 1) {
            tests.forEach(t -> consumer.accept(run.apply(t)));
            return;
        }
        TestRunner r = new TestRunner(tests, run, consumer);
        List<Thread> threads = new ArrayList<>();
        for (int i = 0; i < Math.min(jobs, tests.size()); i++) {
            threads.add(Thread.ofPlatform().daemon().name("hmm4j-selftest-" + (i + 1)).start(r::work));
        }
        boolean interrupted = false;
        for (Thread t : threads) {
            while (true) {
                try {
                    t.join();
                    break;
                } catch (InterruptedException e) {
                    interrupted = true;
                }
            }
        }
        if (interrupted) {
            Thread.currentThread().interrupt();
        }
        synchronized (r) {
            if (r.failure instanceof RuntimeException e) {
                throw e;
            }
            if (r.failure instanceof Error e) {
                throw e;
            }
        }
    }

    private static boolean isLong(Selftest t) {
        return t.testCase().timeout() > TestCase.DEFAULT_TIMEOUT;
    }

    private void work() {
        while (true) {
            int i = next();
            if (i < 0) {
                return;
            }
            try {
                finished(i, run.apply(tests.get(i)), null);
            } catch (RuntimeException | Error e) {
                finished(i, null, e);
                return;
            }
        }
    }

    /** The next test to run (marked taken), or -1 when none is left or a test failed to run. */
    private synchronized int next() {
        while (true) {
            if (failure != null) {
                return -1;
            }
            boolean left = false;
            for (int i = 0; i < tests.size(); i++) {
                if (taken[i]) {
                    continue;
                }
                left = true;
                boolean isLong = isLong(tests.get(i));
                if (!isLong || !longRunning) {
                    taken[i] = true;
                    longRunning |= isLong;
                    return i;
                }
            }
            if (!left) {
                return -1;
            }
            try {
                wait();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                failure = new IllegalStateException("interrupted while waiting for a test to finish");
                notifyAll();
                return -1;
            }
        }
    }

    /**
     * Test {@code i} ended, with {@code result} or, when it could not be run, {@code error}
     * (which stops the others): records it and hands over every result now in order.
     */
    private synchronized void finished(int i, SelftestResult result, Throwable error) {
        if (isLong(tests.get(i))) {
            longRunning = false;
        }
        if (error != null) {
            if (failure == null) {
                failure = error;
            }
            notifyAll();
            return;
        }
        done[i] = result;
        while (handedOver < done.length && done[handedOver] != null) {
            consumer.accept(done[handedOver]);
            done[handedOver++] = null;
        }
        notifyAll();
    }
}
