package hmm4j.testkit;

import static org.junit.jupiter.api.Assertions.assertTrue;

import hmm4j.kernel.mm.MmStruct;
import hmm4j.kernel.sched.Process;
import hmm4j.sim.Kernel;
import hmm4j.sim.RunResult;
import hmm4j.sim.Task;
import java.util.concurrent.atomic.AtomicBoolean;

/**
 * A user process for a test: a task with an address space of its own ({@link Process#spawn}),
 * running the test's body as a C test program's {@code main} would, and exiting its mm when
 * the body returns. {@link #withMapping} also gives the body an anonymous read-write mapping
 * it has already touched, the set-up most driver tests start from.
 */
public final class UserProcess {
    /** The name of the process task the one-call forms spawn. */
    public static final String NAME = "proc";

    private UserProcess() {
    }

    /** The code of a process: its kernel, its task and its mm. */
    @FunctionalInterface
    public interface Body {
        void run(Kernel k, Task self, MmStruct mm) throws Exception;
    }

    /** The code of a process with a touched mapping of {@code pages} pages at {@code base}. */
    @FunctionalInterface
    public interface MappedBody {
        void run(Kernel k, MmStruct mm, long base) throws Exception;
    }

    /**
     * Spawns the process {@code name} on {@code k} running {@code body}; the caller runs the
     * kernel. The returned flag is set when the body has returned (not when it threw or the
     * run stopped inside it).
     */
    public static AtomicBoolean spawn(Kernel k, String name, Body body) {
        AtomicBoolean finished = new AtomicBoolean();
        Process.spawn(k, name, self -> {
            body.run(k, self, MmStruct.of(self));
            finished.set(true);
        });
        return finished;
    }

    /**
     * Spawns the process {@code name} on {@code k}: it maps {@code pages} anonymous read-write
     * pages, writes zeros over them (so each has a page and a present entry), then runs
     * {@code body}. The caller runs the kernel.
     */
    public static AtomicBoolean withMapping(Kernel k, String name, int pages, MappedBody body) {
        return spawn(k, name, (kk, self, mm) -> body.run(kk, mm, UserMemory.mapTouched(kk, mm, pages)));
    }

    /**
     * Runs {@code body} as the process {@value #NAME} on a checked kernel with {@code seed};
     * asserts that the run was clean and that the body ran to its end. Returns the kernel,
     * for accounting checks once every task has exited.
     */
    public static Kernel inProcess(long seed, Body body) {
        Kernel k = TestKernels.checked(seed);
        AtomicBoolean finished = spawn(k, NAME, body);
        RunAssertions.assertClean(k.run());
        assertTrue(finished.get(), "the process body ran to its end");
        return k;
    }

    /** Runs {@code body} as the process {@value #NAME} on a checked kernel with {@code seed}; returns the result, whatever it is. */
    public static RunResult runProcess(long seed, Body body) {
        Kernel k = TestKernels.checked(seed);
        spawn(k, NAME, body);
        return k.run();
    }
}
