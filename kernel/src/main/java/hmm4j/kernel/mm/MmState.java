package hmm4j.kernel.mm;

/**
 * The lifecycle of an {@code mm_struct}, derived from its two counters
 * and the progress of {@code __mmput}:
 * LIVE (mm_users &gt; 0) → EXITING (mm_users == 0, {@code __mmput} running, see
 * {@link ExitPhase}) → DEAD (address space gone, struct pinned by mm_count) → FREED
 * (mm_count reached 0; any access is a use-after-free). LIVE may also go straight to FREED
 * through DEAD when the final {@code mmdrop} of {@code __mmput} drops the last reference.
 */
public enum MmState {
    LIVE, EXITING, DEAD, FREED;

    /** True if {@code next} is a legal successor of this state. */
    public boolean canBecome(MmState next) {
        return switch (this) {
            case LIVE -> next == EXITING;
            case EXITING -> next == DEAD;
            case DEAD -> next == FREED;
            case FREED -> false;
        };
    }
}
