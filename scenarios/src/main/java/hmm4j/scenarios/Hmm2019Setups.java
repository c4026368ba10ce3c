package hmm4j.scenarios;

import hmm4j.drivers.hmm2019.DocumentedPattern;
import hmm4j.drivers.hmm2019.Hmm2019Device;
import hmm4j.check.lifetime.RefHandle;
import hmm4j.kernel.mm.Errno;
import hmm4j.kernel.mm.MmStruct;
import hmm4j.kernel.mm.Madvise;
import hmm4j.kernel.mm.Mmap;
import hmm4j.kernel.mm.Pte;
import hmm4j.kernel.mm.UserAccess;
import hmm4j.kernel.mm.hmm2019.Hmm2019Config;
import hmm4j.kernel.mm.hmm2019.Hmm2019Rules;
import hmm4j.kernel.mm.hmm2019.Hmm2019Walk;
import hmm4j.kernel.mm.hmm2019.HmmMirror;
import hmm4j.kernel.mm.hmm2019.HmmMirrorOps;
import hmm4j.kernel.mm.hmm2019.HmmRange2019;
import hmm4j.kernel.mm.hmm2019.HmmUpdate;
import hmm4j.kernel.mm.hmm2019.MmHmm;
import hmm4j.kernel.sched.Clone;
import hmm4j.kernel.sched.Process;
import hmm4j.kernel.workqueue.WorkStruct;
import hmm4j.sim.Kernel;
import hmm4j.sim.failure.Failure;
import hmm4j.sim.sync.Completion;
import hmm4j.sim.sync.SpinLock;

/**
 * The set-ups of the H19 scenarios: a process maps and touches 4 pages, a device
 * mirrors it, and the tasks of one patch's race run against each other. Each takes the
 * configuration it runs under, so one set-up serves the version before and after.
 */
final class Hmm2019Setups {
    static final long PAGE = Pte.PAGE_SIZE;
    static final int PAGES = 4;

    private Hmm2019Setups() {
    }

    interface Body {
        void run(Kernel k, MmStruct mm, long base) throws Exception;
    }

    /** The process "process" with a touched 4-page mapping under {@code c}, running {@code body}. */
    static void process(Kernel k, Hmm2019Config c, Body body) {
        MmHmm.setKernelConfig(k, c);
        Process.spawn(k, "process", self -> {
            MmStruct mm = MmStruct.of(self);
            long base = Mmap.mmapAnonymous(mm, PAGES * PAGE, Mmap.PROT_READ | Mmap.PROT_WRITE);
            if (Errno.isError(base) || UserAccess.copyToUser(k, base, new byte[(int) (PAGES * PAGE)]) != 0) {
                throw new IllegalStateException("process could not set up its mapping: " + base);
            }
            body.run(k, mm, base);
        });
    }

    /** {@code hmm_mirror_register} under the mmap write lock; a failure is the scenario's own report. */
    static HmmMirror mirror(Kernel k, MmStruct mm, String name, HmmMirrorOps ops) {
        HmmMirror m = new HmmMirror(k, name, ops);
        mm.mmapWriteLock();
        int ret = m.register(mm);
        mm.mmapWriteUnlock();
        if (ret != 0) {
            throw new IllegalStateException("hmm_mirror_register of " + name + " returned " + ret);
        }
        return m;
    }

    static HmmRange2019 newRange(Kernel k, String name, long base, int pages) {
        return new HmmRange2019(k, name, base, base + pages * PAGE, new long[pages]);
    }

    /** A thread of the process unmapping {@code pages} pages one by one; the completion says it is done. */
    static Completion unmapper(Kernel k, MmStruct mm, long base, int pages) {
        Completion done = new Completion(k, "unmapped");
        Clone.cloneVm(k, "unmapper", t -> {
            for (int i = 0; i < pages; i++) {
                Mmap.munmap(mm, base + i * PAGE, PAGE);
            }
            done.complete();
        });
        return done;
    }

    /** True if {@code hmm_range_fault} returned the v5.2 {@code -EAGAIN}, which has dropped the mmap lock. */
    static boolean droppedTheLock(Hmm2019Config c, long ret) {
        return ret == -Errno.EAGAIN && !c.has(hmm4j.kernel.mm.hmm2019.Hmm2019Patch.RC);
    }

    /**
     * An {@code mmgrab} for a driver context that outlives the process (so that the v5.2
     * {@code hmm_free} of H19-P03 is not what the scenario finds); dropped with {@code mmdropAs}.
     */
    static RefHandle grabFor(MmStruct mm, String holder) {
        RefHandle h = new RefHandle(holder + " (driver mmgrab)");
        mm.mmgrabAs(h);
        return h;
    }

    /**
     * A thread of the process zapping {@code pages} pages one by one with
     * {@code madvise(MADV_DONTNEED)}, whose invalidation runs under the mmap <em>read</em>
     * lock, so it overlaps a fault path holding it too.
     */
    static Completion zapper(Kernel k, MmStruct mm, long base, int pages) {
        Completion done = new Completion(k, "zapped");
        Clone.cloneVm(k, "zapper", t -> {
            for (int i = 0; i < pages; i++) {
                Madvise.madvise(mm, base + i * PAGE, PAGE, Madvise.MADV_DONTNEED);
            }
            done.complete();
        });
        return done;
    }

    // ---- P01 ----

    static void p01(Kernel k, Hmm2019Config c) {
        process(k, c, (kk, mm, base) -> {
            HmmMirror m = mirror(kk, mm, "mirror", new Hmm2019Device(kk, "dev"));
            unmapper(kk, mm, base, 2);
            Clone.cloneVm(kk, "teardown", t -> {
                m.unregister();
                m.kfree();
            });
        });
    }

    // ---- P02 ----

    static void p02(Kernel k, Hmm2019Config c) {
        process(k, c, (kk, mm, base) -> {
            HmmMirror m = mirror(kk, mm, "mirror", new Hmm2019Device(kk, "dev"));
            Completion rangeDone = new Completion(kk, "range done");
            Completion teardownDone = new Completion(kk, "teardown done");
            kk.spawnKthread("fault-worker", t -> {
                HmmRange2019 r = newRange(kk, "range", base, 1);
                mm.mmapReadLock();
                int ret = DocumentedPattern.register(r, m, mm, c);
                mm.mmapReadUnlock();
                if (ret == 0) {
                    r.unregister();
                }
                rangeDone.completeAll();
            });
            Clone.cloneVm(kk, "teardown", t -> {
                if (c.has(hmm4j.kernel.mm.hmm2019.Hmm2019Patch.P02)) {
                    rangeDone.waitForCompletion();
                }
                m.unregister();
                teardownDone.complete();
            });
            // the process outlives both, so its exit races neither (that is H19-P01/P03)
            rangeDone.waitForCompletion();
            teardownDone.waitForCompletion();
        });
    }

    // ---- P03: amdgpu-style release that queues the unregister ----

    static void p03(Kernel k, Hmm2019Config c) {
        process(k, c, (kk, mm, base) -> {
            HmmMirror[] mirror = new HmmMirror[1];
            WorkStruct destroy = new WorkStruct(kk, "amn->work", w -> mirror[0].unregister());
            mirror[0] = mirror(kk, mm, "amdgpu-mn", new HmmMirrorOps() {
                @Override
                public int syncCpuDevicePagetables(HmmMirror mr, HmmUpdate update) {
                    return 0;
                }

                @Override
                public void release(HmmMirror mr) {
                    destroy.scheduleWork();
                }
            });
        });
    }

    // ---- P04 ----

    static void p04(Kernel k, Hmm2019Config c) {
        process(k, c, (kk, mm, base) -> {
            HmmMirror first = mirror(kk, mm, "first", new Hmm2019Device(kk, "dev1"));
            Clone.cloneVm(kk, "teardown", t -> first.unregister());
            Clone.cloneVm(kk, "second-context", t -> {
                HmmMirror second = new HmmMirror(kk, "second", new Hmm2019Device(kk, "dev2"));
                mm.mmapWriteLock();
                int ret = second.register(mm);
                mm.mmapWriteUnlock();
                if (ret == -Errno.ENOMEM) {
                    kk.report(new Failure.InvariantViolation(Hmm2019Rules.REGISTER_NO_SPURIOUS_ENOMEM,
                            "hmm_mirror_register returned -ENOMEM with no allocation failure injected", kk.site()));
                }
                if (ret == 0) {
                    second.unregister();
                }
            });
        });
    }

    // ---- P05 ----

    static void p05(Kernel k, Hmm2019Config c) {
        process(k, c, (kk, mm, base) -> {
            HmmMirror m = mirror(kk, mm, "mirror", new Hmm2019Device(kk, "dev"));
            HmmRange2019 r = newRange(kk, "range", base, PAGES);
            DocumentedPattern.register(r, m, mm, c);
            SpinLock lock = new SpinLock(kk, "driver->lock", "driver->lock");
            lock.lock();
            r.waitUntilValid(HmmRange2019.DEFAULT_TIMEOUT_MS);
            lock.unlock();
            r.unregister();
            m.unregister();
        });
    }

    // ---- P06: ranges registered and unregistered against invalidations ----

    static void p06(Kernel k, Hmm2019Config c) {
        process(k, c, (kk, mm, base) -> {
            HmmMirror m = mirror(kk, mm, "mirror", new Hmm2019Device(kk, "dev"));
            Completion unmapped = unmapper(kk, mm, base + 2 * PAGE, 2);
            Completion done = new Completion(kk, "ranges done");
            Clone.cloneVm(kk, "ranges", t -> {
                for (int i = 0; i < 2; i++) {
                    HmmRange2019 r = newRange(kk, "range" + i, base + i * 2 * PAGE, 2);
                    if (DocumentedPattern.register(r, m, mm, c) == 0) {
                        r.valid();
                        r.unregister();
                    }
                }
                done.complete();
            });
            done.waitForCompletion();
            unmapped.waitForCompletion();
            m.unregister();
        });
    }

    // ---- P07: a fault worker (kernel thread) against the exit ----

    static void p07(Kernel k, Hmm2019Config c) {
        process(k, c, (kk, mm, base) -> {
            HmmMirror m = mirror(kk, mm, "mirror", new Hmm2019Device(kk, "dev"));
            Completion started = new Completion(kk, "started");
            RefHandle worker = grabFor(mm, "fault-worker");
            kk.spawnKthread("fault-worker", t -> {
                HmmRange2019 r = newRange(kk, "range", base, 2);
                mm.mmapReadLock();
                started.complete();
                int ret = DocumentedPattern.register(r, m, mm, c);
                long got = 0;
                if (ret == 0) {
                    r.setRequest(HmmRange2019.FLAG_VALID, 0);
                    got = Hmm2019Walk.hmmRangeFault(r, true);
                }
                if (!droppedTheLock(c, got)) {
                    mm.mmapReadUnlock();
                }
                if (ret == 0) {
                    r.unregister();
                }
                m.unregister();
                mm.mmdropAs(worker);
            });
            started.waitForCompletion();
        });
    }
}
