package hmm4j.kernel.mm;

import hmm4j.sim.Kernel;
import java.util.HashMap;
import java.util.Map;

/**
 * Fault injection for slab allocations, the model's {@code failslab} (mm/failslab.c,
 * {@code should_failslab}, with its per-cache filter {@code /sys/kernel/slab/<cache>/failslab}
 * and its {@code times} budget): a test arms a named allocation site to fail its next
 * {@code times} allocations, and the model's allocation there returns {@code -ENOMEM}.
 *
 * <p>Only the allocations that consult it can fail; each names its site in its Javadoc
 * (so far: {@code mmu_notifier_subscriptions}, the {@code kzalloc} of
 * {@code __mmu_notifier_register}). Nothing fails unless armed.
 *
 * <p>Locking: a plain monitor; arming and consuming are not scheduling points.
 */
public final class FailSlab {
    private final Map<String, Integer> armed = new HashMap<>();

    private FailSlab() {
    }

    private static FailSlab of(Kernel kernel) {
        return kernel.component(FailSlab.class, FailSlab::new);
    }

    /** Makes the next {@code times} allocations from {@code cache} fail. */
    public static void failNext(Kernel kernel, String cache, int times) {
        if (times <= 0) {
            throw new IllegalArgumentException("times must be positive: " + times);
        }
        FailSlab f = of(kernel);
        synchronized (f) {
            f.armed.merge(cache, times, Integer::sum);
        }
    }

    /** {@code should_failslab}: true if this allocation from {@code cache} must fail (consumes one). */
    public static boolean shouldFail(Kernel kernel, String cache) {
        FailSlab f = kernel.componentOrNull(FailSlab.class);
        if (f == null) {
            return false;
        }
        synchronized (f) {
            Integer left = f.armed.get(cache);
            if (left == null) {
                return false;
            }
            if (left == 1) {
                f.armed.remove(cache);
            } else {
                f.armed.put(cache, left - 1);
            }
            return true;
        }
    }
}
