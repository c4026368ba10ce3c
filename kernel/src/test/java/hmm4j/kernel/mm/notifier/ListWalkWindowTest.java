package hmm4j.kernel.mm.notifier;

import static hmm4j.kernel.mm.notifier.ItreeHarness.PAGE;
import static hmm4j.kernel.mm.notifier.ItreeHarness.runProcess;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertTrue;

import hmm4j.check.lifetime.KObject;
import hmm4j.kernel.mm.MmStruct;
import hmm4j.kernel.mm.Mmap;
import hmm4j.kernel.sched.Clone;
import hmm4j.sim.Kernel;
import hmm4j.sim.RunResult;
import hmm4j.sim.failure.Failure;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * The window between finding a subscription on the RCU list and calling it is a scheduling
 * point of the model: a driver that unlinks its subscription without a grace period
 * ({@code mmu_notifier_unregister_no_release}) and frees its object at once is caught on some
 * seed by the invalidation that found the subscription just before the unlink (the 2019 bug of
 * scenario S3a). Without that point no schedule reaches the window and the bug is never seen.
 */
class ListWalkWindowTest {

    private static final int SEEDS = 40;
    private static final int DRIVERS = 6;

    /** The driver object the subscription is embedded in. */
    static final class Driver extends KObject {
        Driver(Kernel k, String name) {
            super(k, name);
        }
    }

    /** Which classic callback the driver implements (each is reached by its own list walk). */
    enum Callback {
        INVALIDATE_RANGE_START("->invalidate_range_start"),
        INVALIDATE_RANGE_END("->invalidate_range_end");

        final String access;

        Callback(String access) {
            this.access = access;
        }

        MmuNotifierOps ops() {
            return this == INVALIDATE_RANGE_START
                    ? new MmuNotifierOps() {
                        @Override
                        public int invalidateRangeStart(MmuNotifier s, MmuNotifierRange r) {
                            return 0;
                        }
                    }
                    : new MmuNotifierOps() {
                        @Override
                        public void invalidateRangeEnd(MmuNotifier s, MmuNotifierRange r) {
                        }
                    };
        }
    }

    /**
     * Six drivers subscribe; the process unlinks and frees them oldest first (the end of the
     * list, most recent registration first) while a thread unmaps a page. The thread's walk
     * took its snapshot of the list before some unlink, so it still calls a freed driver unless
     * the walk runs entirely before or after the frees.
     */
    @ParameterizedTest
    @EnumSource(Callback.class)
    void unlinkWithoutAGracePeriod_thenFree_isAUseAfterFreeOnSomeSeed_inTheListWalk(Callback callback) {
        int found = 0;
        for (long seed = 1; seed <= SEEDS; seed++) {
            RunResult run = runProcess(seed, (k, mm, base) -> {
                List<Driver> drivers = new ArrayList<>();
                List<MmuNotifier> subs = new ArrayList<>();
                for (int i = 0; i < DRIVERS; i++) {
                    Driver drv = new Driver(k, "drv" + i);
                    MmuNotifier sub = new MmuNotifier(drv, "drv" + i + "->notifier", callback.ops());
                    sub.register(mm);
                    drivers.add(drv);
                    subs.add(sub);
                }
                Clone.cloneVm(k, "unmapper", self -> Mmap.munmap(mm, base, PAGE));
                for (int i = 0; i < DRIVERS; i++) {
                    subs.get(i).unregisterNoRelease(mm);
                    drivers.get(i).kfree();
                }
            });
            if (run.clean()) {
                continue;
            }
            Failure.UseAfterFree u = assertInstanceOf(Failure.UseAfterFree.class, run.failures().get(0),
                    "seed " + seed + ": " + run.failures());
            assertTrue(u.access().startsWith(callback.access), u.access());
            assertEquals("unmapper", u.site().task(), u.site().toString());
            found++;
        }
        assertTrue(found > 0, "no seed of " + SEEDS + " ran the unmapper's walk across a free");
    }

    /**
     * The same window in {@code mmu_notifier_release}'s walk at exit: a kernel thread unlinks
     * and frees the drivers oldest first while the process exits.
     */
    @Test
    void unlinkWithoutAGracePeriod_thenFree_racingExit_isAUseAfterFreeOnSomeSeed_inTheReleaseWalk() {
        int found = 0;
        for (long seed = 1; seed <= SEEDS; seed++) {
            RunResult run = runProcess(seed, (k, mm, base) -> {
                List<Driver> drivers = new ArrayList<>();
                List<MmuNotifier> subs = new ArrayList<>();
                for (int i = 0; i < DRIVERS; i++) {
                    Driver drv = new Driver(k, "drv" + i);
                    MmuNotifier sub = new MmuNotifier(drv, "drv" + i + "->notifier", new MmuNotifierOps() {
                        @Override
                        public void release(MmuNotifier s, MmStruct m) {
                        }
                    });
                    sub.register(mm);
                    drivers.add(drv);
                    subs.add(sub);
                }
                k.spawnKthread("unlinker", self -> {
                    for (int i = 0; i < DRIVERS; i++) {
                        subs.get(i).unregisterNoRelease(mm);
                        drivers.get(i).kfree();
                    }
                });
            });
            if (run.clean()) {
                continue;
            }
            Failure.UseAfterFree u = assertInstanceOf(Failure.UseAfterFree.class, run.failures().get(0),
                    "seed " + seed + ": " + run.failures());
            assertTrue(u.access().startsWith("->release"), u.access());
            assertEquals("proc", u.site().task(), u.site().toString());
            found++;
        }
        assertTrue(found > 0, "no seed of " + SEEDS + " ran the exit's release walk across a free");
    }
}
