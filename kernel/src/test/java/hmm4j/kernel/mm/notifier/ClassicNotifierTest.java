package hmm4j.kernel.mm.notifier;

import static hmm4j.kernel.mm.lifetime.Runs.assertSingleFailure;
import static hmm4j.kernel.mm.notifier.ItreeHarness.PAGE;
import static hmm4j.kernel.mm.notifier.ItreeHarness.SEEDS;
import static hmm4j.kernel.mm.notifier.ItreeHarness.runClean;
import static hmm4j.kernel.mm.notifier.ItreeHarness.runProcess;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertTrue;

import hmm4j.check.lifetime.KObject;
import hmm4j.kernel.KernelRules;
import hmm4j.kernel.mm.ErrPtr;
import hmm4j.kernel.mm.Errno;
import hmm4j.kernel.mm.MmStruct;
import hmm4j.kernel.mm.Mmap;
import hmm4j.kernel.sched.Clone;
import hmm4j.sim.Kernel;
import hmm4j.sim.failure.Failure;
import hmm4j.sim.sync.Completion;
import hmm4j.sim.sync.Mutex;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;

/**
 * Classic notifiers beyond register/unregister (kernel-spec §2.3–§2.11): get/put with the
 * deferred free, synchronize, non-blocking starts and their unwinding, the op-combination
 * check, the accessed-bit entry points, and the misuse reports (I-8, I-9, I-12).
 */
class ClassicNotifierTest {

    /** A driver object embedding a subscription (the container of container_of). */
    static final class DriverObject extends KObject {
        DriverObject(Kernel k, String name) {
            super(k, name);
        }
    }

    /** Get/put ops: alloc_notifier builds a subscription, free_notifier records and frees its container. */
    static final class GetPutOps implements MmuNotifierOps {
        final List<String> log = new CopyOnWriteArrayList<>();
        final AtomicInteger allocs = new AtomicInteger();

        @Override
        public ErrPtr<MmuNotifier> allocNotifier(MmStruct mm) {
            int n = allocs.incrementAndGet();
            log.add("alloc");
            return ErrPtr.of(new MmuNotifier(new DriverObject(mm.kernel(), "drv" + n), "getput" + n, this));
        }

        @Override
        public void freeNotifier(MmuNotifier subscription) {
            log.add("free " + subscription.name());
            subscription.container().kfree();
        }

        @Override
        public void invalidateRangeEnd(MmuNotifier subscription, MmuNotifierRange range) {
            log.add("end " + range.event());
        }
    }

    @Test
    void getTwice_returnsOneSubscription_lastPutFreesAfterAGracePeriod_srcuBarrierWaitsForIt() {
        for (long seed : SEEDS) {
            runClean(seed, (k, mm, base) -> {
                GetPutOps ops = new GetPutOps();
                int count0 = mm.mmCountPeek();
                MmuNotifier s1 = MmuNotifier.mmuNotifierGet(ops, mm).get();
                MmuNotifier s2 = MmuNotifier.mmuNotifierGet(ops, mm).get();
                assertSame(s1, s2);
                assertEquals(2, s1.users());
                assertEquals(1, ops.allocs.get());
                assertEquals(count0 + 1, mm.mmCountPeek());
                s1.mmuNotifierPut();
                assertTrue(s1.isLinked(), "one user left");
                assertEquals(0, Mmap.munmap(mm, base, PAGE));
                assertEquals(List.of("alloc", "end MMU_NOTIFY_UNMAP"), ops.log);
                s2.mmuNotifierPut();
                assertFalse(s1.isLinked(), "the last put unlinks at once");
                assertEquals(0, Mmap.munmap(mm, base + PAGE, PAGE));
                MmuNotifier.mmuNotifierSrcuBarrier(k);
                assertEquals(List.of("alloc", "end MMU_NOTIFY_UNMAP", "free getput1"), ops.log);
                assertEquals(count0, mm.mmCountPeek(), "the deferred free dropped the mm_count");
                assertTrue(s1.container().isFreed());
            });
        }
    }

    @Test
    void lastPut_whileAReaderIsInsideACallback_freesOnlyAfterTheCallbackReturned() {
        for (long seed : SEEDS) {
            List<String> order = new CopyOnWriteArrayList<>();
            runClean(seed, (k, mm, base) -> {
                Completion inCallback = new Completion(k, "in callback");
                Completion gate = new Completion(k, "gate");
                MmuNotifierOps ops = new MmuNotifierOps() {
                    @Override
                    public ErrPtr<MmuNotifier> allocNotifier(MmStruct m) {
                        return ErrPtr.of(new MmuNotifier(new DriverObject(m.kernel(), "drv"), "slow", this));
                    }

                    @Override
                    public void invalidateRangeEnd(MmuNotifier sub, MmuNotifierRange range) {
                        inCallback.complete();
                        gate.waitForCompletion();
                        sub.container().checkAccess("driver state");
                        order.add("callback returns");
                    }

                    @Override
                    public void freeNotifier(MmuNotifier sub) {
                        order.add("free");
                        sub.container().kfree();
                    }
                };
                MmuNotifier sub = MmuNotifier.mmuNotifierGet(ops, mm).get();
                Clone.cloneVm(k, "unmapper", self -> Mmap.munmap(mm, base, PAGE));
                inCallback.waitForCompletion();
                sub.mmuNotifierPut();
                gate.complete();
                MmuNotifier.mmuNotifierSrcuBarrier(k);
                order.add("synchronized");
            });
            assertEquals(List.of("callback returns", "free", "synchronized"), order, "seed " + seed);
        }
    }

    /**
     * {@code mmu_notifier_synchronize} is {@code synchronize_srcu}: when it returns, the grace
     * period of the last put has elapsed (a callback running at the put has returned), but the
     * queued {@code ->free_notifier} may not have run yet — on some seeds it runs after.
     */
    @Test
    void mmuNotifierSynchronize_waitsForTheGracePeriod_notForTheQueuedFree() {
        int freeAfter = 0;
        for (long seed : SEEDS) {
            List<String> order = new CopyOnWriteArrayList<>();
            runClean(seed, (k, mm, base) -> {
                Completion inCallback = new Completion(k, "in callback");
                Completion gate = new Completion(k, "gate");
                MmuNotifierOps ops = new MmuNotifierOps() {
                    @Override
                    public ErrPtr<MmuNotifier> allocNotifier(MmStruct m) {
                        return ErrPtr.of(new MmuNotifier(new DriverObject(m.kernel(), "drv"), "slow", this));
                    }

                    @Override
                    public void invalidateRangeEnd(MmuNotifier sub, MmuNotifierRange range) {
                        inCallback.complete();
                        gate.waitForCompletion();
                        order.add("callback returns");
                    }

                    @Override
                    public void freeNotifier(MmuNotifier sub) {
                        order.add("free");
                        sub.container().kfree();
                    }
                };
                MmuNotifier sub = MmuNotifier.mmuNotifierGet(ops, mm).get();
                Clone.cloneVm(k, "unmapper", self -> Mmap.munmap(mm, base, PAGE));
                inCallback.waitForCompletion();
                sub.mmuNotifierPut();
                gate.complete();
                MmuNotifier.mmuNotifierSynchronize(k);
                order.add("synchronized");
                MmuNotifier.mmuNotifierSrcuBarrier(k);
            });
            assertEquals("callback returns", order.get(0), "seed " + seed + ": the grace period waited for the reader");
            assertEquals(List.of("callback returns", "free", "synchronized").size(), order.size(), "seed " + seed);
            freeAfter += order.get(2).equals("free") ? 1 : 0;
        }
        assertTrue(freeAfter > 0, "on some seed synchronize_srcu returned before free_notifier ran");
    }

    /**
     * The guarantee of {@code mmu_notifier_unregister}'s grace period: a callback of the
     * subscription running on another task when unregister is called has returned when
     * unregister returns, so the driver may free the object the subscription is embedded in.
     * The callback is let go only by the unregistering task's own {@code ->release}, and then
     * works a while (scheduling points) before it touches the driver object.
     */
    @Test
    void unregister_whileAnotherTaskIsInsideACallback_returnsOnlyAfterTheCallbackReturned_soTheDriverMayFree() {
        for (long seed : SEEDS) {
            List<String> order = new CopyOnWriteArrayList<>();
            runClean(seed, (k, mm, base) -> {
                Completion inCallback = new Completion(k, "in callback");
                Completion gate = new Completion(k, "gate");
                DriverObject drv = new DriverObject(k, "drv");
                hmm4j.sim.Op work = new hmm4j.sim.Op(new hmm4j.sim.Op.Kind("driver work", hmm4j.sim.Op.Access.READ),
                        k.newTarget("drv->work"), "driver work");
                MmuNotifier sub = new MmuNotifier(drv, "drv->notifier", new MmuNotifierOps() {
                    @Override
                    public void release(MmuNotifier s, MmStruct m) {
                        gate.complete();
                    }

                    @Override
                    public void invalidateRangeEnd(MmuNotifier s, MmuNotifierRange r) {
                        inCallback.complete();
                        gate.waitForCompletion();
                        for (int i = 0; i < 16; i++) {
                            k.point(work);
                        }
                        drv.checkAccess("driver state");
                        order.add("callback returns");
                    }
                });
                assertEquals(0, sub.register(mm));
                Clone.cloneVm(k, "unmapper", self -> Mmap.munmap(mm, base, PAGE));
                inCallback.waitForCompletion();
                sub.unregister(mm);
                order.add("unregistered");
                drv.kfree();
            });
            assertEquals(List.of("callback returns", "unregistered"), order, "seed " + seed);
        }
    }

    @Test
    void get_propagatesAnAllocationError_andPutWithoutUsersIsReported() {
        runClean(1, (k, mm, base) -> {
            MmuNotifierOps failing = new MmuNotifierOps() {
                @Override
                public ErrPtr<MmuNotifier> allocNotifier(MmStruct m) {
                    return ErrPtr.err(-Errno.ENOMEM);
                }
            };
            ErrPtr<MmuNotifier> r = MmuNotifier.mmuNotifierGet(failing, mm);
            assertTrue(r.isErr());
            assertEquals(-Errno.ENOMEM, r.ptrErr());
            assertFalse(mm.hasNotifiers() && !mm.notifierSubscriptions().subscriptions().isEmpty());
        });
        var run = runProcess(1, (k, mm, base) -> {
            MmuNotifier sub = MmuNotifier.mmuNotifierGet(new GetPutOps(), mm).get();
            sub.mmuNotifierPut();
            sub.mmuNotifierPut();
        });
        var f = assertSingleFailure(run, Failure.RefcountError.class);
        assertTrue(f.detail().contains("mmu_notifier_put with no users"), f.detail());
    }

    @Test
    void register_refusesArchInvalidateTogetherWithStartEnd() {
        runClean(1, (k, mm, base) -> {
            MmuNotifier both = new MmuNotifier("both", new MmuNotifierOps() {
                @Override
                public void archInvalidateSecondaryTlbs(MmuNotifier s, MmStruct m, long start, long end) {
                }

                @Override
                public int invalidateRangeStart(MmuNotifier s, MmuNotifierRange range) {
                    return 0;
                }
            });
            int count0 = mm.mmCountPeek();
            assertEquals(-Errno.EINVAL, both.register(mm));
            assertFalse(both.isLinked());
            assertEquals(count0, mm.mmCountPeek(), "no mm_count taken on failure");
        });
    }

    @Test
    void nonblockStart_failure_callsEveryStart_thenUnwindsTheEnds_andReturnsEagain() {
        runClean(1, (k, mm, base) -> {
            List<String> log = new CopyOnWriteArrayList<>();
            MmuNotifier ok = new MmuNotifier("ok", new MmuNotifierOps() {
                @Override
                public int invalidateRangeStart(MmuNotifier s, MmuNotifierRange r) {
                    log.add("ok start blockable=" + r.blockable());
                    return 0;
                }

                @Override
                public void invalidateRangeEnd(MmuNotifier s, MmuNotifierRange r) {
                    log.add("ok end");
                }
            });
            MmuNotifier busy = new MmuNotifier("busy", new MmuNotifierOps() {
                @Override
                public int invalidateRangeStart(MmuNotifier s, MmuNotifierRange r) {
                    log.add("busy start");
                    return r.blockable() ? 0 : -Errno.EAGAIN;
                }
            });
            ok.register(mm);
            busy.register(mm);
            MmuNotifierRange range = new MmuNotifierRange(MmuNotifierEvent.MMU_NOTIFY_UNMAP, 0, mm, base, base + PAGE);
            assertEquals(-Errno.EAGAIN, range.invalidateRangeStartNonblock());
            assertEquals(List.of("busy start", "ok start blockable=false", "ok end"), log);
            log.clear();
            MmuNotifierRange blocking = new MmuNotifierRange(MmuNotifierEvent.MMU_NOTIFY_UNMAP, 0, mm, base, base + PAGE);
            blocking.invalidateRangeStart();
            blocking.invalidateRangeEnd();
            assertEquals(List.of("busy start", "ok start blockable=true", "ok end"), log);
            busy.unregister(mm);
            ok.unregister(mm);
        });
    }

    @Test
    void nonblockFailure_inTheIntervalPart_returnsEagainWithBookkeepingUndone() {
        runClean(1, (k, mm, base) -> {
            List<String> log = new CopyOnWriteArrayList<>();
            MmuIntervalNotifier a = new MmuIntervalNotifier("A");
            MmuIntervalNotifier b = new MmuIntervalNotifier("B");
            MmuIntervalNotifierOps wouldBlock = (s, r, seq) -> {
                log.add(s.name());
                return r.blockable();
            };
            a.mmuIntervalNotifierInsert(mm, base, PAGE, wouldBlock);
            b.mmuIntervalNotifierInsert(mm, base + PAGE, PAGE, wouldBlock);
            MmuNotifierRange range = new MmuNotifierRange(MmuNotifierEvent.MMU_NOTIFY_UNMAP, 0, mm, base, base + 2 * PAGE);
            assertEquals(-Errno.EAGAIN, range.invalidateRangeStartNonblock());
            assertEquals(List.of("A"), log, "nodes after the failing one are not called");
            assertEquals(0, mm.notifierSubscriptions().activeInvalidateRanges());
            assertEquals(4, mm.notifierSubscriptions().invalidateSeq());
            a.mmuIntervalNotifierRemove();
            b.mmuIntervalNotifierRemove();
        });
    }

    @Test
    void mixedFailure_intervalSucceededClassicFailed_leavesTheIntervalSideElevated_soRemoveNeverReturns() {
        var run = runProcess(1, (k, mm, base) -> {
            MmuIntervalNotifier a = new MmuIntervalNotifier("A");
            a.mmuIntervalNotifierInsert(mm, base, PAGE, (s, r, seq) -> true);
            MmuNotifier busy = new MmuNotifier("busy", new MmuNotifierOps() {
                @Override
                public int invalidateRangeStart(MmuNotifier s, MmuNotifierRange r) {
                    return r.blockable() ? 0 : -Errno.EAGAIN;
                }
            });
            busy.register(mm);
            MmuNotifierRange range = new MmuNotifierRange(MmuNotifierEvent.MMU_NOTIFY_UNMAP, 0, mm, base, base + PAGE);
            assertEquals(-Errno.EAGAIN, range.invalidateRangeStartNonblock());
            assertEquals(1, mm.notifierSubscriptions().activeInvalidateRanges(), "spec §10.1: not unwound");
            assertEquals(3, mm.notifierSubscriptions().invalidateSeq());
            busy.unregister(mm);
            a.mmuIntervalNotifierRemove();
        });
        var deadlock = assertSingleFailure(run, Failure.Deadlock.class);
        assertTrue(deadlock.blocked().toString().contains("wq"), deadlock.blocked().toString());
    }

    @Test
    void sleepingInANonBlockableStart_isReportedAsSleepInAtomic() {
        var run = runProcess(1, (k, mm, base) -> {
            Mutex driverLock = new Mutex(k, "driver->lock");
            MmuNotifier sleepy = new MmuNotifier("sleepy", new MmuNotifierOps() {
                @Override
                public int invalidateRangeStart(MmuNotifier s, MmuNotifierRange r) {
                    driverLock.lock();
                    driverLock.unlock();
                    return 0;
                }
            });
            sleepy.register(mm);
            MmuNotifierRange range = new MmuNotifierRange(MmuNotifierEvent.MMU_NOTIFY_UNMAP, 0, mm, base, base + PAGE);
            range.invalidateRangeStartNonblock();
        });
        assertSingleFailure(run, Failure.SleepInAtomic.class);
    }

    @Test
    void endWithoutStart_andEndAfterAFailedStart_areReported() {
        var run = runProcess(1, (k, mm, base) -> {
            new MmuNotifierRange(MmuNotifierEvent.MMU_NOTIFY_CLEAR, 0, mm, base, base + PAGE).invalidateRangeEnd();
        });
        var f = assertSingleFailure(run, Failure.InvariantViolation.class);
        assertTrue(f.detail().contains("not started"), f.detail());
        var run2 = runProcess(1, (k, mm, base) -> {
            new MmuNotifier("busy", new MmuNotifierOps() {
                @Override
                public int invalidateRangeStart(MmuNotifier s, MmuNotifierRange r) {
                    return r.blockable() ? 0 : -Errno.EAGAIN;
                }
            }).register(mm);
            MmuNotifierRange r = new MmuNotifierRange(MmuNotifierEvent.MMU_NOTIFY_CLEAR, 0, mm, base, base + PAGE);
            if (r.invalidateRangeStartNonblock() != 0) {
                r.invalidateRangeEnd();
            }
        });
        var f2 = assertSingleFailure(run2, Failure.InvariantViolation.class);
        assertTrue(f2.detail().contains("-EAGAIN"), f2.detail());
    }

    @Test
    void unregisterFromInsideACallback_isReported() {
        var run = runProcess(1, (k, mm, base) -> {
            MmuNotifier[] self = new MmuNotifier[1];
            self[0] = new MmuNotifier("suicidal", new MmuNotifierOps() {
                @Override
                public void invalidateRangeEnd(MmuNotifier s, MmuNotifierRange r) {
                    s.unregister(mm);
                }
            });
            self[0].register(mm);
            Mmap.munmap(mm, base, PAGE);
        });
        assertTrue(run.failures().stream().anyMatch(f -> f instanceof Failure.InvariantViolation iv
                && iv.rule().equals(KernelRules.NOT_FROM_CALLBACK)), () -> run.failures().toString());
    }

    @Test
    void aCallbackIntoAFreedDriverObject_isAUseAfterFreeWithTheThreeSites() {
        var run = runProcess(1, (k, mm, base) -> {
            DriverObject drv = new DriverObject(k, "drv");
            MmuNotifier sub = new MmuNotifier(drv, "drv->notifier", new MmuNotifierOps() {
                @Override
                public void invalidateRangeEnd(MmuNotifier s, MmuNotifierRange r) {
                }
            });
            sub.register(mm);
            drv.kfree();
            Mmap.munmap(mm, base, PAGE);
        });
        var uaf = assertSingleFailure(run, Failure.UseAfterFree.class);
        assertTrue(uaf.access().contains("->invalidate_range_start") || uaf.access().contains("->invalidate_range_end"),
                uaf.access());
    }

    @Test
    void youngEntryPoints_orTheResults_andTestYoungStopsAtTheFirstYes() {
        runClean(1, (k, mm, base) -> {
            List<String> asked = new CopyOnWriteArrayList<>();
            class Young implements MmuNotifierOps {
                final String name;
                final int answer;

                Young(String name, int answer) {
                    this.name = name;
                    this.answer = answer;
                }

                @Override
                public int clearYoung(MmuNotifier s, MmStruct m, long start, long end) {
                    asked.add(name + " clear");
                    return answer;
                }

                @Override
                public int clearFlushYoung(MmuNotifier s, MmStruct m, long start, long end) {
                    asked.add(name + " flush");
                    return answer;
                }

                @Override
                public int testYoung(MmuNotifier s, MmStruct m, long address) {
                    asked.add(name + " test");
                    return answer;
                }
            }
            new MmuNotifier("old", new Young("old", 0)).register(mm);
            new MmuNotifier("yes", new Young("yes", 1)).register(mm);
            assertEquals(1, MmuNotifierSubscriptions.clearYoung(mm, base, base + PAGE));
            assertEquals(1, MmuNotifierSubscriptions.clearFlushYoung(mm, base, base + PAGE));
            assertEquals(1, MmuNotifierSubscriptions.testYoung(mm, base));
            assertEquals(List.of("yes clear", "old clear", "yes flush", "old flush", "yes test"), asked);
            for (MmuNotifier s : mm.notifierSubscriptions().subscriptions()) {
                s.unregister(mm);
            }
        });
    }
}
