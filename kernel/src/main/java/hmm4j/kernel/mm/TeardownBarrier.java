package hmm4j.kernel.mm;

/**
 * A guarantee, other than an {@code mm_users} reference, that the address space of an mm
 * stays intact for a worker: something {@code __mmput} waits for before {@code exit_mmap}
 * (guard (iii) of the {@code use_mm} rule: a teardown barrier that waits for the worker, as
 * {@code exit_aio} waits for the in-flight iocbs of the mm's AIO contexts).
 *
 * <p>A driver declares the barrier for its worker with
 * {@link MmStruct#declareTeardownBarrier}; rule mm.pin then accepts the worker's accesses
 * while {@link #holdsBack} is true, and reports them like any unpinned access otherwise.
 * The barrier answers from the state of the objects it stands for, never from the worker's
 * say-so.
 */
public interface TeardownBarrier {
    /**
     * True while this barrier keeps {@code exit_mmap} of {@code mm} from starting: the thing
     * {@code __mmput} waits for has not happened yet and the teardown has not gone past it.
     * Called by the pin rule without a scheduling point.
     */
    boolean holdsBack(MmStruct mm);
}
