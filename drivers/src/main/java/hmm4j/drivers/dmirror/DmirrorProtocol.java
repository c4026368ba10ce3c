package hmm4j.drivers.dmirror;

import java.util.Arrays;
import java.util.List;

/**
 * Which variant of the mirror protocol a device runs: the correct one (the fault path and
 * {@code dmirror_interval_invalidate} of lib/test_hmm.c) or one of the protocol mutants of
 * scenario S5.
 * Each mutant changes exactly one point of the fault path or of the invalidation callback;
 * the checkers and the device-table validator are expected to find every one of them.
 */
public enum DmirrorProtocol {
    /** The protocol of lib/test_hmm.c. */
    CORRECT,
    /** S5.1: the fault path checks {@code read_retry} and commits without taking the mutex at all. */
    COMMIT_WITHOUT_MUTEX,
    /** S5.1: the fault path checks {@code read_retry} first and takes the mutex only to commit. */
    RETRY_BEFORE_MUTEX,
    /** S5.2: the main callback calls {@code set_seq} after dropping the mutex. */
    SET_SEQ_OUTSIDE_MUTEX,
    /** S5.2: the main callback never calls {@code set_seq}. */
    NO_SET_SEQ,
    /** S5.3: the main callback bumps the sequence but leaves the device entries in place. */
    NO_CLEAR_IN_INVALIDATE,
    /** S5.4: both callbacks take the mutex with a sleeping lock even when the range is non-blockable. */
    BLOCK_IN_NONBLOCKABLE,
    /** S5.5: the main callback ignores every {@code MMU_NOTIFY_MIGRATE} event, whoever owns it. */
    SKIP_ANY_MIGRATE,
    /** S5.6: the main callback opens a read section ({@code mmu_interval_read_begin}) on its own subscription. */
    READ_BEGIN_IN_CALLBACK,
    /** S5.7: the fault commit tags every entry WRITE, also for a read-only pfn. */
    WRITE_TAG_FROM_READONLY;

    /** Every mutant, in declaration order. */
    public static List<DmirrorProtocol> mutants() {
        return Arrays.stream(values()).filter(p -> p != CORRECT).toList();
    }
}
