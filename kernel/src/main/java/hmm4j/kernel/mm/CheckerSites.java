package hmm4j.kernel.mm;

import hmm4j.check.lifetime.Sanitizer;
import hmm4j.sim.HiddenFromSites;
import hmm4j.sim.Kernel;
import hmm4j.sim.failure.Site;
import java.util.List;

/**
 * Allocation and free sites for kernel objects that are not {@code KObject}s (pages, VMAs):
 * captured only while the checkers are installed on the kernel, so that a driver's misuse of
 * such an object is reported with them, and nothing captured (nothing allocated) otherwise.
 *
 * <p>Overview: one per owner of such objects ({@link PhysMem}, a {@link VmaTree} that belongs
 * to an mm). {@link #siteOrNull} asks the kernel's lifetime {@link Sanitizer} whether
 * {@code Checkers.install} has run: once the sanitizer exists that is one volatile read. A
 * report of an object whose site was not recorded uses {@link #NOT_RECORDED}.
 *
 * <p>Locking: none; the cached sanitizer reference is written at most with the same value by
 * racing threads. Hidden from sites: it is the capture itself, so a site starts at its caller.
 */
@HiddenFromSites
public final class CheckerSites {

    /** Stands for a site that was not recorded because the checkers were not installed. */
    public static final Site NOT_RECORDED = new Site("<not recorded: checkers not installed>", 0, List.of());

    private final Kernel kernel;
    private Sanitizer sanitizer;

    CheckerSites(Kernel kernel) {
        this.kernel = kernel;
    }

    /** True once the checkers are installed on the kernel. Allocates nothing. */
    boolean recording() {
        Sanitizer s = sanitizer;
        if (s == null) {
            s = kernel.componentOrNull(Sanitizer.class);
            if (s == null) {
                return false;
            }
            sanitizer = s;
        }
        return s.installed();
    }

    /** The current site while the checkers are installed, else null (and nothing captured). */
    Site siteOrNull() {
        return recording() ? kernel.site() : null;
    }

    /** {@code site}, or {@link #NOT_RECORDED} for null. */
    static Site orNotRecorded(Site site) {
        return site == null ? NOT_RECORDED : site;
    }
}
