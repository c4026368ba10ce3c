package hmm4j.scenarios;

import static hmm4j.scenarios.Hmm2019Setups.PAGE;
import static hmm4j.scenarios.Hmm2019Setups.PAGES;
import static hmm4j.scenarios.Hmm2019Setups.grabFor;
import static hmm4j.scenarios.Hmm2019Setups.mirror;
import static hmm4j.scenarios.Hmm2019Setups.newRange;
import static hmm4j.scenarios.Hmm2019Setups.process;

import hmm4j.check.lifetime.RefHandle;
import hmm4j.drivers.hmm2019.DocumentedPattern;
import hmm4j.drivers.hmm2019.Hmm2019Device;
import hmm4j.kernel.mm.hmm2019.Hmm2019Config;
import hmm4j.kernel.mm.hmm2019.Hmm2019Core;
import hmm4j.kernel.mm.hmm2019.Hmm2019Patch;
import hmm4j.kernel.mm.hmm2019.HmmMirror;
import hmm4j.kernel.mm.hmm2019.HmmMirrorOps;
import hmm4j.kernel.mm.hmm2019.HmmRange2019;
import hmm4j.kernel.mm.hmm2019.HmmUpdate;
import hmm4j.kernel.mm.notifier.MmuNotifier;
import hmm4j.kernel.sched.Clone;
import hmm4j.sim.Kernel;
import hmm4j.sim.sync.Completion;

/** The set-ups of H19-P08 to H19-SEQ, continuing {@link Hmm2019Setups}. */
final class Hmm2019MoreSetups {
    private Hmm2019MoreSetups() {
    }

    // ---- P08 ----

    static void p08(Kernel k, Hmm2019Config c) {
        process(k, c, (kk, mm, base) -> {
            HmmMirror first = mirror(kk, mm, "first", new Hmm2019Device(kk, "dev1"));
            HmmMirror second = new HmmMirror(kk, "second", new Hmm2019Device(kk, "dev2"));
            mm.mmapReadLock();
            int ret = second.register(mm);
            mm.mmapReadUnlock();
            if (ret == 0) {
                second.unregister();
            }
            first.unregister();
        });
    }

    // ---- P09: a driver that unregisters one mirror from two teardown paths ----

    static void p09(Kernel k, Hmm2019Config c) {
        process(k, c, (kk, mm, base) -> {
            HmmMirror m = mirror(kk, mm, "mirror", new Hmm2019Device(kk, "dev"));
            HmmMirror other = c.has(Hmm2019Patch.P02) ? mirror(kk, mm, "other", new Hmm2019Device(kk, "dev2")) : null;
            HmmRange2019 r = newRange(kk, "range", base, 1);
            DocumentedPattern.register(r, other, mm, c);
            Completion a = new Completion(kk, "a done");
            Completion b = new Completion(kk, "b done");
            Clone.cloneVm(kk, "release-work", t -> {
                m.unregister();
                a.complete();
            });
            Clone.cloneVm(kk, "fd-close", t -> {
                m.unregister();
                b.complete();
            });
            a.waitForCompletion();
            b.waitForCompletion();
            r.unregister();
            if (other != null) {
                other.unregister();
            }
        });
    }

    // ---- P10 ----

    static void p10(Kernel k, Hmm2019Config c) {
        process(k, c, (kk, mm, base) -> {
            HmmMirror m = mirror(kk, mm, "mirror", new Hmm2019Device(kk, "dev"));
            HmmRange2019 r = newRange(kk, "range", base, 1);
            DocumentedPattern.register(r, m, mm, c);
            Completion first = new Completion(kk, "first unregister");
            Clone.cloneVm(kk, "stale-path", t -> {
                first.waitForCompletion();
                r.unregister();
            });
            r.unregister();
            first.complete();
            Clone.cloneVm(kk, "teardown", t -> m.unregister());
        });
    }

    // ---- P11 ----

    static void p11(Kernel k, Hmm2019Config c) {
        process(k, c, (kk, mm, base) -> {
            // the keeper's ->release runs first (it registered first) and tells the driver that
            // exit has started; it also keeps the kref above 0 until the close is done (else
            // exit's hmm_release can meet the kref-0 hmm of H19-P01 instead)
            Completion exiting = new Completion(kk, "exiting");
            HmmMirror keeper = mirror(kk, mm, "keeper", new HmmMirrorOps() {
                @Override
                public int syncCpuDevicePagetables(HmmMirror mr, HmmUpdate update) {
                    return 0;
                }

                @Override
                public void release(HmmMirror mr) {
                    exiting.complete();
                }
            });
            HmmMirror m = mirror(kk, mm, "mirror", new HmmMirrorOps() {
                @Override
                public int syncCpuDevicePagetables(HmmMirror mr, HmmUpdate update) {
                    return 0;
                }

                @Override
                public void release(HmmMirror mr) {
                    mr.checkAccess("driver state in ->release");
                }
            });
            RefHandle close = grabFor(mm, "driver-close");
            kk.spawnKthread("driver-close", t -> {
                exiting.waitForCompletion();
                m.unregister();
                m.kfree();
                keeper.unregister();
                mm.mmdropAs(close);
            });
        });
    }

    static void p11SyncUnregister(Kernel k, Hmm2019Config c) {
        process(k, c, (kk, mm, base) -> mirror(kk, mm, "mirror", new HmmMirrorOps() {
            @Override
            public int syncCpuDevicePagetables(HmmMirror mr, HmmUpdate update) {
                return 0;
            }

            @Override
            public void release(HmmMirror mr) {
                mr.unregister();
            }
        }));
    }

    // ---- P12 ----

    /** P12a: the OOM reaper's non-blocking start while a second mirror's registration holds mirrors_sem. */
    static void p12a(Kernel k, Hmm2019Config c) {
        process(k, c, (kk, mm, base) -> {
            HmmMirror m = mirror(kk, mm, "mirror", new Hmm2019Device(kk, "dev"));
            Completion done = new Completion(kk, "done");
            Clone.cloneVm(kk, "second-mirror", t -> {
                HmmMirror second = mirror(kk, mm, "second", new Hmm2019Device(kk, "dev2"));
                second.unregister();
                done.complete();
            });
            Completion reaped = new Completion(kk, "reaped");
            kk.spawnKthread("oom-reaper", t -> {
                long end = base + PAGES * PAGE;
                if (Hmm2019Core.invalidateRangeStartNonblock(mm, base, end) == 0) {
                    Hmm2019Core.invalidateRangeEndNonblock(mm, base, end);
                }
                reaped.complete();
            });
            done.waitForCompletion();
            reaped.waitForCompletion();
            m.unregister();
        });
    }

    /** P12b: the OOM reaper's non-blocking start while a driver thread holds the device lock. */
    static void p12b(Kernel k, Hmm2019Config c) {
        process(k, c, (kk, mm, base) -> {
            Hmm2019Device dev = new Hmm2019Device(kk, "dev");
            HmmMirror m = mirror(kk, mm, "mirror", dev);
            Completion done = new Completion(kk, "done");
            Clone.cloneVm(kk, "driver", t -> {
                dev.ptLock().lock();
                dev.ptLock().unlock();
                done.complete();
            });
            Completion reaped = new Completion(kk, "reaped");
            kk.spawnKthread("oom-reaper", t -> {
                long end = base + PAGES * PAGE;
                if (Hmm2019Core.invalidateRangeStartNonblock(mm, base, end) == 0) {
                    Hmm2019Core.invalidateRangeEndNonblock(mm, base, end);
                }
                reaped.complete();
            });
            done.waitForCompletion();
            reaped.waitForCompletion();
            m.unregister();
        });
    }

    // ---- RC ----

    static void rc(Kernel k, Hmm2019Config c) {
        process(k, c, (kk, mm, base) -> {
            Hmm2019Device dev = new Hmm2019Device(kk, "dev");
            HmmMirror m = mirror(kk, mm, "mirror", dev);
            Completion done = new Completion(kk, "done");
            Clone.cloneVm(kk, "fault-thread", t -> {
                HmmRange2019 r = newRange(kk, "range", base, PAGES);
                // the device is programmed without the I-H14 check: this scenario is about the lock
                DocumentedPattern.mirrorRange(m, mm, r, dev.ptLock(), true, pfns -> { });
                done.complete();
            });
            Completion unmapped = Hmm2019Setups.zapper(kk, mm, base, 2);
            done.waitForCompletion();
            unmapped.waitForCompletion();
            m.unregister();
        });
    }

    // ---- S2 ----

    static void s2(Kernel k, Hmm2019Config c) {
        process(k, c, (kk, mm, base) -> {
            HmmMirror m = mirror(kk, mm, "mirror", new Hmm2019Device(kk, "dev"));
            RefHandle worker = grabFor(mm, "fault-worker");
            kk.spawnKthread("fault-worker", t -> {
                if (c.has(Hmm2019Patch.P07)) {
                    if (mm.mmgetNotZero()) {
                        mm.mmapReadLock();
                        mm.findVma(base);
                        mm.mmapReadUnlock();
                        mm.mmput();
                    }
                } else if (m.mmIsAlive()) {
                    mm.mmapReadLock();
                    mm.findVma(base);
                    mm.mmapReadUnlock();
                }
                m.unregister();
                mm.mmdropAs(worker);
            });
        });
    }

    // ---- G ----

    static void gRangeAfterUnregister(Kernel k, Hmm2019Config c) {
        process(k, c, (kk, mm, base) -> {
            HmmMirror m = mirror(kk, mm, "mirror", new Hmm2019Device(kk, "dev"));
            HmmRange2019 r = newRange(kk, "range", base, 1);
            DocumentedPattern.register(r, m, mm, c);
            m.unregister();
            MmuNotifier.mmuNotifierSynchronize(kk);
            r.unregister();
        });
    }

    // ---- SEQ ----

    static void seq(Kernel k, Hmm2019Config c) {
        process(k, c, (kk, mm, base) -> {
            Hmm2019Device dev = new Hmm2019Device(kk, "dev");
            HmmMirror m = mirror(kk, mm, "mirror", dev);
            Completion done = new Completion(kk, "done");
            Clone.cloneVm(kk, "fault-thread", t -> {
                for (int round = 0; round < 3; round++) {
                    HmmRange2019 r = newRange(kk, "range" + round, base, 2);
                    DocumentedPattern.mirrorRange(m, mm, r, dev.ptLock(), false, pfns -> dev.commit(mm, r));
                }
                done.complete();
            });
            Completion unmapped = Hmm2019Setups.zapper(kk, mm, base, 2);
            done.waitForCompletion();
            unmapped.waitForCompletion();
            m.unregister();
        });
    }
}
