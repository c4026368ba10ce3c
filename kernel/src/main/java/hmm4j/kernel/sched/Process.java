package hmm4j.kernel.sched;

import hmm4j.kernel.mm.Exit;
import hmm4j.kernel.mm.MmStruct;
import hmm4j.sim.Kernel;
import hmm4j.sim.RunAborted;
import hmm4j.sim.Task;
import hmm4j.sim.TaskBody;

/**
 * A user process: a user task with its own new address space ({@code mm_users == 1}, held
 * by the task). When the body returns the task exits: {@code exit_mm} drops its address
 * space reference, which tears the address space down if it was the last one.
 */
public final class Process {
    private Process() {
    }

    /**
     * Spawns a process task named {@code name} with a fresh mm; {@code body} is the task's
     * code (it maps and fills its memory itself, as a C test program does). A body that
     * throws still exits its mm; the exception is then reported as the task's failure.
     *
     * @return the task; its mm is {@code MmStruct.of(task)} until it exits
     */
    public static Task spawn(Kernel kernel, String name, TaskBody body) {
        MmStruct mm = MmStruct.mmAlloc(kernel, name);
        return kernel.spawnUser(name, self -> {
            try {
                body.run(self);
            } catch (RunAborted stopped) {
                throw stopped;
            } catch (Exception e) {
                Exit.exitMm(self);
                throw e;
            }
            Exit.exitMm(self);
        }, t -> t.set(MmStruct.TASK_MM, mm));
    }
}
