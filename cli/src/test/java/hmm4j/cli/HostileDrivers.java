package hmm4j.cli;

import hmm4j.scenarios.Expectation;
import hmm4j.scenarios.Scenario;
import hmm4j.sim.Kernel;
import hmm4j.sim.Op;
import hmm4j.sim.Task;
import hmm4j.sim.sync.Completion;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.Pipe;
import java.util.List;
import java.util.concurrent.locks.LockSupport;
import java.util.concurrent.locks.ReentrantLock;
import java.util.function.Consumer;

/**
 * Drivers that attack the tool rather than the model, as catalogue entries for
 * {@link FaultInjectionTest}: a loop without a scheduling point, waits outside the model
 * (a real sleep, a {@code java.util.concurrent} lock, {@code Object.wait}, a read of a pipe),
 * a deadlock, every kind of throwable in a task and in the set-up, a spawn bomb. Each is
 * explored through the command line like any scenario.
 */
final class HostileDrivers {
    private HostileDrivers() {
    }

    /** A lock held for ever by a thread of its own, so that a task's {@code lock()} never returns. */
    private static final class Held implements Runnable {
        private static final ReentrantLock LOCK = new ReentrantLock();
        private static boolean started;

        /** The lock, once its holder has it (the holder is started by the first call). */
        static synchronized ReentrantLock lock() {
            if (!started) {
                started = true;
                Thread.ofPlatform().daemon().name("hmm4j-test-lock-holder").start(new Held());
            }
            while (!LOCK.isLocked()) {
                Thread.onSpinWait();
            }
            return LOCK;
        }

        @Override
        public void run() {
            LOCK.lock();
            while (true) {
                LockSupport.park();
            }
        }
    }

    private static Scenario scenario(String id, String title, Consumer<Kernel> setUp) {
        return new Scenario() {
            @Override
            public String id() {
                return id;
            }

            @Override
            public String title() {
                return title;
            }

            @Override
            public Expectation expectation() {
                return Expectation.clean();
            }

            @Override
            public void setUp(Kernel kernel) {
                setUp.accept(kernel);
            }
        };
    }

    static void point(Kernel kernel, String label) {
        kernel.point(new Op(new Op.Kind(label, Op.Access.WRITE), kernel.newTarget(label), label));
    }

    /** A driver of one task {@code name} doing {@code body} after a scheduling point, beside a quiet task. */
    private static Scenario task(String id, String title, String name, Consumer<Task> body) {
        return scenario(id, title, k -> {
            k.spawnKthread(name, self -> {
                point(self.kernel(), "before");
                body.accept(self);
            });
            k.spawnKthread("other", self -> point(self.kernel(), "p"));
        });
    }

    private static int depth(int n) {
        return depth(n + 1) + 1;
    }

    @SuppressWarnings("unchecked")
    private static <T extends Throwable> void sneak(Throwable t) throws T {
        throw (T) t;
    }

    /** Throws {@code kind}: a real stack overflow, a real {@code OutOfMemoryError}, or the one given. */
    static void raise(String kind) {
        switch (kind) {
            case "StackOverflowError" -> depth(0);
            case "OutOfMemoryError" -> {
                long[] huge = new long[Integer.MAX_VALUE]; // larger than the VM allows: thrown at once
                huge[0] = 1;
            }
            case "Error" -> throw new Error("injected error");
            case "IOException" -> HostileDrivers.<RuntimeException>sneak(new IOException("injected checked exception"));
            default -> throw new IllegalStateException("injected runtime exception");
        }
    }

    static final List<String> THROWABLES = List.of("IllegalStateException", "IOException", "Error",
            "StackOverflowError", "OutOfMemoryError");

    static final List<Scenario> ALL = build();

    private static List<Scenario> build() {
        java.util.ArrayList<Scenario> all = new java.util.ArrayList<>(List.of(
            task("F-runaway", "a task that loops without a scheduling point", "spinner", self -> {
                while (!Thread.currentThread().isInterrupted()) {
                    Thread.onSpinWait();
                }
            }),
            task("F-sleep", "a task in a real Thread.sleep", "sleeper", self -> {
                try {
                    Thread.sleep(600_000);
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
            }),
            task("F-juc-lock", "a task waiting for a java.util.concurrent lock held outside the model", "locker",
                    self -> {
                        try {
                            Held.lock().lockInterruptibly();
                        } catch (InterruptedException e) {
                            Thread.currentThread().interrupt();
                        }
                    }),
            task("F-object-wait", "a task in Object.wait", "waiter", self -> {
                Object monitor = new Object();
                synchronized (monitor) {
                    try {
                        monitor.wait();
                    } catch (InterruptedException e) {
                        Thread.currentThread().interrupt();
                    }
                }
            }),
            task("F-io", "a task reading a pipe nobody writes", "reader", self -> {
                try {
                    Pipe pipe = Pipe.open();
                    pipe.source().read(ByteBuffer.allocate(1));
                } catch (IOException e) {
                    // closed by the interrupt of the abandoned thread
                }
            }),
            scenario("F-deadlock", "a task waiting for a completion nobody completes", k -> {
                Completion never = new Completion(k, "never");
                k.spawnKthread("waiter", self -> never.waitForCompletion());
                k.spawnKthread("other", self -> point(self.kernel(), "p"));
            }),
            scenario("F-spawn-bomb", "each task spawns two", k -> k.spawnKthread("b", HostileDrivers::bomb))));
        for (String t : THROWABLES) {
            all.add(task("F-task-" + t, "a task that throws " + t, "thrower", self -> raise(t)));
            all.add(scenario("F-setup-" + t, "a set-up that throws " + t, k -> raise(t)));
        }
        return List.copyOf(all);
    }

    private static void bomb(Task self) {
        for (int i = 0; i < 2; i++) {
            self.kernel().spawnKthread("b", HostileDrivers::bomb);
        }
        point(self.kernel(), "bomb");
    }
}
