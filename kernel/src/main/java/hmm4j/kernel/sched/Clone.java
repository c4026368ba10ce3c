package hmm4j.kernel.sched;

import hmm4j.kernel.fs.FilesStruct;
import hmm4j.kernel.mm.MmStruct;
import hmm4j.sim.Kernel;
import hmm4j.sim.Task;
import hmm4j.sim.TaskBody;

/**
 * {@code clone(CLONE_VM)}: a new thread of the calling process (kernel/fork.c
 * {@code copy_mm} with {@code CLONE_VM}). The new task shares the caller's mm and holds its
 * own {@code mm_users} reference ({@code mmget}, handed to the new task), which it drops
 * with {@code exit_mm} when its body returns — so a thread that outlives the process's main
 * task keeps the address space alive, exactly as in the kernel. It also shares the caller's
 * descriptor table ({@code CLONE_FILES}, as {@code pthread_create} asks).
 */
public final class Clone {
    private Clone() {
    }

    /**
     * Spawns a thread named {@code name} sharing the current task's mm.
     *
     * @throws IllegalStateException if the caller is not a task with an mm
     */
    public static Task cloneVm(Kernel kernel, String name, TaskBody body) {
        Task parent = kernel.current();
        MmStruct mm = MmStruct.of(parent);
        if (mm == null) {
            throw new IllegalStateException("clone(CLONE_VM) from a context without an mm");
        }
        mm.mmget();
        return kernel.spawnUser(name, Process.exitingMm(body), t -> {
            Process.adopt(t, mm);
            FilesStruct.share(parent, t);
        });
    }
}
