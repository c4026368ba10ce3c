package hmm4j.drivers.hmm2019;

import hmm4j.kernel.mm.Errno;
import hmm4j.kernel.mm.MmStruct;
import hmm4j.kernel.mm.hmm2019.Hmm2019Config;
import hmm4j.kernel.mm.hmm2019.Hmm2019Patch;
import hmm4j.kernel.mm.hmm2019.Hmm2019Walk;
import hmm4j.kernel.mm.hmm2019.HmmMirror;
import hmm4j.kernel.mm.hmm2019.HmmRange2019;
import hmm4j.kernel.mm.hmm2019.MmHmm;
import hmm4j.kernel.mm.Pte;
import hmm4j.sim.sync.Mutex;
import java.util.function.Consumer;

/**
 * The driver loop of Documentation/vm/hmm.rst for the 2019 API (v5.2 and v5.3 text), step
 * by step: register the range, wait until valid, then under {@code mmap_sem} (read)
 * snapshot or fault; on the retry code release the lock, wait and go again; on another
 * error release and unregister; else take the driver lock (the one
 * {@code sync_cpu_device_pagetables} takes), check {@code hmm_range_valid}, program the
 * device, unregister and unlock.
 *
 * <p>The retry code is {@code -EAGAIN} in v5.2 up to 5.2.9 and {@code -EBUSY} from 5.2.10 and
 * in v5.3. With {@code hmm_range_fault} in v5.2, {@code -EAGAIN} also means the lock was
 * already dropped, so step 5.1's {@code up_read} is a second unlock (H19-RC): the model's
 * rw_semaphore reports it (rule lock.unlock-by-holder).
 *
 * <p>The caller is a task with the mm's {@code mm_users} (a thread of the process); the
 * loop gives up with {@code -EBUSY} after {@link #MAX_TRIES} rounds.
 */
public final class DocumentedPattern {
    /** Rounds before the loop gives up (the document loops forever). */
    public static final int MAX_TRIES = 32;

    private DocumentedPattern() {
    }

    /**
     * Mirrors {@code range} on the device through {@code mirror}.
     *
     * @param fault   true for {@code hmm_range_fault} (blocking), false for {@code hmm_range_snapshot}
     * @param program called with the pfns under {@code driverLock} when they may be used
     * @return 0 when programmed; the error of register, snapshot or fault otherwise
     */
    public static int mirrorRange(HmmMirror mirror, MmStruct mm, HmmRange2019 range, Mutex driverLock, boolean fault,
            Consumer<long[]> program) {
        Hmm2019Config c = MmHmm.of(mm).config();
        int ret = register(range, mirror, mm, c);
        if (ret != 0) {
            return ret;
        }
        range.waitUntilValid(HmmRange2019.DEFAULT_TIMEOUT_MS);
        int retry = c.has(Hmm2019Patch.RC) ? -Errno.EBUSY : -Errno.EAGAIN;
        for (int tries = 0; tries < MAX_TRIES; tries++) {
            mm.mmapReadLock();
            long r = fault ? Hmm2019Walk.hmmRangeFault(range, true) : Hmm2019Walk.hmmRangeSnapshot(range);
            if (r < 0) {
                mm.mmapReadUnlock();
                if (r == retry) {
                    range.waitUntilValid(HmmRange2019.DEFAULT_TIMEOUT_MS);
                    continue;
                }
                range.unregister();
                return (int) r;
            }
            driverLock.lock();
            if (!range.valid()) {
                driverLock.unlock();
                mm.mmapReadUnlock();
                continue;
            }
            program.accept(range.pfns());
            range.unregister();
            driverLock.unlock();
            mm.mmapReadUnlock();
            return 0;
        }
        range.unregister();
        return -Errno.EBUSY;
    }

    /** Step 2: the register of the version ({@code mm} in v5.2, the mirror from P02, v5.4's preset form). */
    public static int register(HmmRange2019 range, HmmMirror mirror, MmStruct mm, Hmm2019Config c) {
        if (c.has(Hmm2019Patch.GET)) {
            return range.register(mirror);
        }
        return c.has(Hmm2019Patch.P02) ? range.register(mirror, range.start(), range.end(), Pte.PAGE_SHIFT)
                : range.register(mm, range.start(), range.end(), Pte.PAGE_SHIFT);
    }
}
