package hmm4j.kernel.mm.hmm2019;

import java.lang.reflect.Method;

/**
 * {@code struct hmm_mirror_ops}: a driver's callbacks for one mirror.
 */
public interface HmmMirrorOps {

    /**
     * {@code ->sync_cpu_device_pagetables}: called from {@code hmm_invalidate_range_start}
     * with {@code mirrors_sem} held for read. Take the device page-table lock, drop or
     * write-protect every device mapping of [update.start, update.end), and return 0; or
     * {@code -EAGAIN}, allowed only when {@code update.blockable()} is false and the driver
     * would have had to sleep.
     */
    int syncCpuDevicePagetables(HmmMirror mirror, HmmUpdate update);

    /**
     * {@code ->release} (optional): the address space is being torn down; after it returns
     * the device must not use pages obtained through this mirror. Since v5.3 it runs under
     * {@code mirrors_sem} (read) and must not unregister the mirror synchronously.
     */
    default void release(HmmMirror mirror) {
    }

    /** True if {@code ops} implements {@link #release} (a non-NULL {@code ->release}). */
    static boolean hasRelease(HmmMirrorOps ops) {
        return HasRelease.CACHE.get(ops.getClass());
    }

    /** Per-class cache of {@link #hasRelease}. */
    final class HasRelease {
        private static final ClassValue<Boolean> CACHE = new ClassValue<>() {
            @Override
            protected Boolean computeValue(Class<?> type) {
                try {
                    Method m = type.getMethod("release", HmmMirror.class);
                    return m.getDeclaringClass() != HmmMirrorOps.class;
                } catch (NoSuchMethodException e) {
                    return false;
                }
            }
        };

        private HasRelease() {
        }
    }
}
