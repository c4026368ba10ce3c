package hmm4j.scenarios;

import hmm4j.check.lifetime.RefHandle;
import hmm4j.drivers.notifier.HmmStyleMirror;
import hmm4j.drivers.notifier.IntervalFindMirror;
import hmm4j.drivers.notifier.InvalidateLock;
import hmm4j.drivers.notifier.KfdProcessInit;
import hmm4j.drivers.notifier.OdpImplicitChild;
import hmm4j.drivers.notifier.OdpUmem;
import hmm4j.drivers.notifier.WholeSpaceMirror;
import hmm4j.kernel.KernelRules;
import hmm4j.kernel.mm.Errno;
import hmm4j.kernel.mm.MmStruct;
import hmm4j.kernel.mm.Mmap;
import hmm4j.kernel.mm.OomKill;
import hmm4j.kernel.mm.Pte;
import hmm4j.kernel.mm.UserAccess;
import hmm4j.kernel.mm.notifier.MmuIntervalNotifier;
import hmm4j.kernel.mm.notifier.MmuNotifier;
import hmm4j.kernel.sched.Clone;
import hmm4j.kernel.sched.Process;
import hmm4j.sim.Kernel;
import hmm4j.sim.rule.SimRules;
import java.util.List;

/**
 * S3a–S3d and S4 (the notifier lifetime threads of 2019–2020), each in the design that had the bug
 * (expected: found) and the design that fixed it (expected: clean). Every run is a process
 * that maps and touches a few pages, sets the driver up, and races the driver's path against
 * the process's own munmaps or exit.
 */
public final class NotifierScenarios {
    private static final long PAGE = Pte.PAGE_SIZE;
    private static final int PAGES = 4;

    private NotifierScenarios() {
    }

    /** The process body of a scenario: its kernel, its mm and a touched 4-page mapping. */
    private interface Body {
        void run(Kernel k, MmStruct mm, long base) throws Exception;
    }

    /** Spawns the process "process" with a touched mapping, then runs {@code body} in it. */
    private static void process(Kernel k, Body body) {
        Process.spawn(k, "process", self -> {
            MmStruct mm = MmStruct.of(self);
            long base = Mmap.mmapAnonymous(mm, PAGES * PAGE, Mmap.PROT_READ | Mmap.PROT_WRITE);
            if (Errno.isError(base) || UserAccess.copyToUser(k, base, new byte[(int) (PAGES * PAGE)]) != 0) {
                throw new IllegalStateException("process could not set up its mapping: " + base);
            }
            body.run(k, mm, base);
        });
    }

    /** A thread of the process unmapping the pages one by one. */
    private static void unmapper(Kernel k, MmStruct mm, long base, int pages) {
        Clone.cloneVm(k, "unmapper", self -> {
            for (int i = 0; i < pages; i++) {
                Mmap.munmap(mm, base + i * PAGE, PAGE);
            }
        });
    }

    public static List<Scenario> all() {
        return List.of(
                new DesignScenario("S3a-hmm-no-grace", "2019 struct hmm: unregister_no_release then free at once",
                        Expectation.finds(SimRules.USE_AFTER_FREE_RULE), k -> process(k, (kk, mm, base) -> {
                            HmmStyleMirror mirror = HmmStyleMirror.registerNoGracePeriod(kk, mm);
                            unmapper(kk, mm, base, 2);
                            Clone.cloneVm(kk, "teardown", t -> mirror.unregisterAndFree(mm));
                        })),
                new DesignScenario("S3a-get-put", "mmu_notifier_get/put: free_notifier after the grace period",
                        Expectation.clean().reaching(MmuNotifier.SRCU_FREE, MmuNotifier.CALLBACK_AFTER_PUT), k -> process(k, (kk, mm, base) -> {
                            HmmStyleMirror mirror = HmmStyleMirror.get(mm);
                            unmapper(kk, mm, base, 2);
                            Clone.cloneVm(kk, "teardown", t -> {
                                mirror.put();
                                MmuNotifier.mmuNotifierSynchronize(kk);
                            });
                        })),
                new DesignScenario("S3b-kfd-unwind", "amdkfd: register, a later init step fails, free at once",
                        Expectation.finds(SimRules.USE_AFTER_FREE_RULE), k -> process(k, (kk, mm, base) -> {
                            unmapper(kk, mm, base, 2);
                            KfdProcessInit.createWithFailingInit(kk, mm, false);
                        })),
                new DesignScenario("S3b-register-last", "amdkfd: registration as the last fallible step",
                        Expectation.clean().reaching(KfdProcessInit.UNWIND_UNREGISTERED), k -> process(k, (kk, mm, base) -> {
                            unmapper(kk, mm, base, 2);
                            KfdProcessInit.createWithFailingInit(kk, mm, true);
                        })),
                new DesignScenario("S3c-odp-nonblock", "ODP: non-blocking start fails holding umem_rwsem",
                        Expectation.finds(KernelRules.FALLIBLE_START_NO_END), k -> process(k, (kk, mm, base) -> {
                            OdpUmem umem = OdpUmem.classic(kk, mm);
                            odpRace(kk, mm, base, umem);
                        })),
                new DesignScenario("S3c-interval-trylock", "ODP on an interval notifier: trylock, fail holding nothing",
                        Expectation.clean().reaching(InvalidateLock.TRYLOCK_FAILED, MmuIntervalNotifier.NONBLOCK_EAGAIN), k -> process(k, (kk, mm, base) -> {
                            OdpUmem umem = OdpUmem.interval(kk, mm, base, PAGES * PAGE);
                            odpRace(kk, mm, base, umem);
                        })),
                new DesignScenario("S3d-odp-mmgrab", "ODP implicit child: notifier registered from a work item with mmgrab only",
                        Expectation.finds(SimRules.PIN), k -> implicitChild(k, false)),
                new DesignScenario("S3d-mmget-not-zero", "ODP implicit child: mmget_not_zero around the registration",
                        Expectation.clean().reaching(MmStruct.MMGET_NOT_ZERO_FAILED, MmuNotifier.SRCU_FREE,
                                MmuNotifier.RELEASE_FROM_EXIT),
                        k -> implicitChild(k, true)),
                new DesignScenario("S4-find", "2020 proposal: mmu_interval_notifier_find + asynchronous put",
                        Expectation.finds(SimRules.USE_AFTER_FREE_RULE), k -> process(k, (kk, mm, base) -> {
                            IntervalFindMirror mirror = new IntervalFindMirror(kk, mm);
                            mirror.mirror(base, PAGE);
                            mirror.mirror(base + PAGE, PAGE);
                            unmapper(kk, mm, base, 2);
                            Clone.cloneVm(kk, "device", t -> {
                                for (int i = 0; i < 2; i++) {
                                    mirror.snapshot(base + i * PAGE);
                                }
                            });
                        })),
                new DesignScenario("S4-whole-space", "merged design: one whole-space subscription, per-call ones owned by the caller",
                        Expectation.clean().reaching(MmuIntervalNotifier.DEFERRED_INSERT,
                                MmuIntervalNotifier.DEFERRED_REMOVE, MmuIntervalNotifier.READ_BEGIN_WAITS,
                                MmuIntervalNotifier.READ_RETRY), k -> process(k, (kk, mm, base) -> {
                            WholeSpaceMirror mirror = new WholeSpaceMirror(kk, mm);
                            unmapper(kk, mm, base, 2);
                            Clone.cloneVm(kk, "device", t -> {
                                for (int i = 0; i < 2; i++) {
                                    mirror.snapshot(base + i * PAGE);
                                }
                                mirror.release();
                            });
                        })));
    }

    /** S3c: a device faulting, the OOM reaper's non-blocking invalidation, then device teardown. */
    private static void odpRace(Kernel k, MmStruct mm, long base, OdpUmem umem) {
        var device = Clone.cloneVm(k, "device-fault", t -> umem.deviceFault(PAGES));
        OomKill.OomVictim victim = OomKill.markOomVictim(k.current());
        k.spawnKthread("oom_reaper", t -> OomKill.oomReapTask(victim)).join();
        device.join();
        umem.release(mm);
    }

    /** S3d: the process exits while a work item creates the implicit child's notifier. */
    private static void implicitChild(Kernel k, boolean pinned) {
        Process.spawn(k, "process", self -> {
            MmStruct mm = MmStruct.of(self);
            RefHandle work = new RefHandle("odp-work");
            mm.mmgrabAs(work);
            k.spawnKthread("odp-work", t -> {
                MmuNotifier sub = OdpImplicitChild.createFromWorkItem(k, mm, pinned);
                if (sub != null) {
                    sub.mmuNotifierPut();
                    MmuNotifier.mmuNotifierSynchronize(k);
                }
                mm.mmdropAs(work);
            });
        });
    }
}
