package hmm4j.kernel.mm.hmm2019;

import java.util.EnumSet;
import java.util.Set;

/** The released kernels the 2019 API is modelled at, each as the patches it has on top of v5.2. */
public enum Hmm2019Version {
    /** v5.2 as released (5.2.0 to 5.2.9: {@code -EAGAIN} with mmap_sem dropped). */
    V5_2,
    /** v5.3: the 12 review patches and the 5.3-rc {@code -EBUSY} fix. */
    V5_3,
    /** v5.4: v5.3 plus the {@code mmu_notifier_get/put} conversion of {@code struct hmm}. */
    V5_4;

    /** The patches of this version. */
    public Set<Hmm2019Patch> patches() {
        return switch (this) {
            case V5_2 -> EnumSet.noneOf(Hmm2019Patch.class);
            case V5_3 -> EnumSet.range(Hmm2019Patch.P01, Hmm2019Patch.RC);
            case V5_4 -> EnumSet.allOf(Hmm2019Patch.class);
        };
    }

    /** "v5.2", "v5.3", "v5.4". */
    public String label() {
        return "v5." + (ordinal() + 2);
    }
}
