package hmm4j.scenarios;

import hmm4j.drivers.notifier.InvalidateLock;
import hmm4j.drivers.notifier.ShmemObjectDevice;
import hmm4j.drivers.notifier.UserptrMirror;
import hmm4j.kernel.KernelRules;
import hmm4j.kernel.mm.Errno;
import hmm4j.kernel.mm.MmStruct;
import hmm4j.kernel.mm.Mmap;
import hmm4j.kernel.mm.OomKill;
import hmm4j.kernel.mm.Pte;
import hmm4j.kernel.mm.Truncate;
import hmm4j.kernel.mm.UserAccess;
import hmm4j.kernel.sched.Clone;
import hmm4j.kernel.sched.Process;
import hmm4j.sim.Kernel;
import hmm4j.sim.Task;
import hmm4j.sim.rule.SimRules;
import java.util.List;

/**
 * O1 and T1: drivers against the invalidation sources that are not the process's own calls.
 *
 * <p>O1: a driver that survives an OOM reap. A process mirrors a two-page buffer into a device
 * (a userptr buffer object, {@link UserptrMirror}); a device thread faults both pages while the
 * OOM reaper ({@link OomKill}) reaps the process. The wrong design refuses every
 * non-blockable invalidation, so the reaper never gets the buffer's VMA and gives up (rule
 * oom.reaper-unable-to-reap); the fixed one trylocks, refuses only while its fault path holds
 * the lock, and maps nothing once the reaper has been there.
 *
 * <p>T1: a driver lock held across {@code unmap_mapping_range}. A device releases a shmem
 * object the process maps ({@link ShmemObjectDevice}, {@link Truncate}) while another thread
 * unmaps memory the device mirrors; the wrong design holds the lock its invalidate takes across
 * the release, a lock-order cycle through {@code i_mmap_rwsem} and the notifier map (rule
 * lockdep.cycle); the fixed one drops it first.
 */
public final class OomScenarios {
    private static final long PAGE = Pte.PAGE_SIZE;
    private static final int PAGES = 2;

    private OomScenarios() {
    }

    /** O1-userptr-refuses-reaper and O1-userptr-trylock. */
    public static List<Scenario> all() {
        return List.of(
                new DesignScenario("O1-userptr-refuses-reaper",
                        "userptr mirror that refuses every non-blockable invalidation, OOM reap during device faults",
                        Expectation.finds(KernelRules.OOM_REAPER_UNABLE_TO_REAP), k -> reapWhileFaulting(k, false)),
                new DesignScenario("O1-userptr-trylock",
                        "userptr mirror that trylocks on a non-blockable invalidation, OOM reap during device faults",
                        Expectation.clean().reaching(OomKill.REAPED, OomKill.UNSTABLE_REFUSED,
                                UserptrMirror.FAULT_AFTER_REAP, InvalidateLock.TRYLOCK_FAILED),
                        k -> reapWhileFaulting(k, true)),
                new DesignScenario("T1-unmap-under-driver-lock",
                        "device releases a shmem object (unmap_mapping_range) holding the lock its invalidate takes",
                        Expectation.finds(SimRules.LOCK_ORDER), k -> releaseWhileUnmapping(k, true)),
                new DesignScenario("T1-unmap-after-unlock",
                        "device releases a shmem object after dropping the lock its invalidate takes",
                        Expectation.clean().reaching(Truncate.UNMAPPED_FILE_PAGE, ShmemObjectDevice.USERPTR_INVALIDATED),
                        k -> releaseWhileUnmapping(k, false)));
    }

    /**
     * A process maps a device's shmem object and has part of its memory mirrored; "ioctl"
     * releases the object while "cpu" unmaps the mirrored memory.
     */
    private static void releaseWhileUnmapping(Kernel k, boolean underLock) {
        Process.spawn(k, "process", self -> {
            MmStruct mm = MmStruct.of(self);
            long buf = Mmap.mmapAnonymous(mm, PAGES * PAGE, Mmap.PROT_READ | Mmap.PROT_WRITE);
            ShmemObjectDevice dev = underLock ? ShmemObjectDevice.releasingUnderLock(k, mm, buf, PAGES * PAGE, PAGE)
                    : ShmemObjectDevice.releasingAfterUnlock(k, mm, buf, PAGES * PAGE, PAGE);
            long obj = Mmap.mmap(mm, 0, PAGE, Mmap.PROT_READ | Mmap.PROT_WRITE, Mmap.MAP_SHARED, dev.object(), 0);
            if (Errno.isError(buf) || Errno.isError(obj) || UserAccess.copyToUser(k, obj, new byte[] {1}) != 0) {
                throw new IllegalStateException("the process could not map the object");
            }
            Task ioctl = Clone.cloneVm(k, "ioctl", t -> dev.releaseObject());
            Task cpu = Clone.cloneVm(k, "cpu", t -> Mmap.munmap(mm, buf, PAGE));
            ioctl.join();
            cpu.join();
            dev.close();
        });
    }

    private static void reapWhileFaulting(Kernel k, boolean trylock) {
        Process.spawn(k, "process", self -> {
            MmStruct mm = MmStruct.of(self);
            long buf = Mmap.mmapAnonymous(mm, PAGES * PAGE, Mmap.PROT_READ | Mmap.PROT_WRITE);
            if (Errno.isError(buf) || UserAccess.copyToUser(k, buf, new byte[(int) (PAGES * PAGE)]) != 0) {
                throw new IllegalStateException("the process could not prepare its buffer");
            }
            UserptrMirror mirror = trylock ? UserptrMirror.trylocking(k, mm, buf, PAGES * PAGE)
                    : UserptrMirror.refusingNonblockable(k, mm, buf, PAGES * PAGE);
            Task device = Clone.cloneVm(k, "device", t -> {
                for (int i = 0; i < PAGES; i++) {
                    mirror.fault(buf + i * PAGE);
                }
            });
            OomKill.OomVictim victim = OomKill.markOomVictim(self);
            Task reaper = k.spawnKthread("oom_reaper", t -> OomKill.oomReapTask(victim));
            device.join();
            reaper.join();
            mirror.release();
        });
    }
}
