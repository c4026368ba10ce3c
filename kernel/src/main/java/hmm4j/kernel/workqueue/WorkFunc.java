package hmm4j.kernel.workqueue;

/** {@code work_func_t}: the function a work item runs on a kworker. */
@FunctionalInterface
public interface WorkFunc {

    /**
     * Runs the work. Called on a kworker (a kernel thread without an mm), in process
     * context: it may sleep. It may free the object embedding {@code work}; the workqueue
     * does not touch the work after this returns.
     */
    void run(WorkStruct work);
}
