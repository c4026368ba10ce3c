package hmm4j.kernel.mm.hmm2019;

import static org.junit.jupiter.api.Assertions.assertEquals;

import hmm4j.check.Checkers;
import hmm4j.kernel.mm.Errno;
import hmm4j.kernel.mm.MmStruct;
import hmm4j.kernel.mm.Mmap;
import hmm4j.kernel.mm.Pte;
import hmm4j.kernel.mm.UserAccess;
import hmm4j.kernel.sched.Process;
import hmm4j.sim.Kernel;
import hmm4j.sim.RunResult;
import hmm4j.sim.Strategy;
import hmm4j.sim.sync.Mutex;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;

/** The test bed of the 2019 API: a process with 4 touched pages, a device whose sync takes its lock. */
final class H19Bed {
    static final long PAGE = Pte.PAGE_SIZE;
    static final int PAGES = 4;
    static final long[] SEEDS = {1, 2, 3, 7, 42};
    static final Hmm2019Config V52 = Hmm2019Config.of(Hmm2019Version.V5_2);
    static final Hmm2019Config V53 = Hmm2019Config.of(Hmm2019Version.V5_3);
    static final Hmm2019Config V54 = Hmm2019Config.of(Hmm2019Version.V5_4);

    private H19Bed() {
    }

    interface Body {
        void run(Kernel k, MmStruct mm, long base) throws Exception;
    }

    /** A controlled, checked kernel with a seeded random walk. */
    static Kernel kernel(long seed) {
        Kernel k = Kernel.controlled(seed);
        Checkers.install(k);
        return k;
    }

    /** A controlled, checked kernel with {@code strategy}. */
    static Kernel kernel(Strategy strategy) {
        Kernel k = Kernel.builder().strategy(strategy).build();
        Checkers.install(k);
        return k;
    }

    /** Runs {@code body} in the process "proc" of {@code k} under {@code config}. */
    static RunResult run(Kernel k, Hmm2019Config config, Body body) {
        MmHmm.setKernelConfig(k, config);
        Process.spawn(k, "proc", self -> {
            MmStruct mm = MmStruct.of(self);
            long base = Mmap.mmapAnonymous(mm, PAGES * PAGE, Mmap.PROT_READ | Mmap.PROT_WRITE);
            if (Errno.isError(base) || UserAccess.copyToUser(k, base, new byte[(int) (PAGES * PAGE)]) != 0) {
                throw new IllegalStateException("mapping failed: " + base);
            }
            body.run(k, mm, base);
        });
        return k.run();
    }

    static RunResult run(long seed, Hmm2019Config config, Body body) {
        return run(kernel(seed), config, body);
    }

    /** A device: its sync takes {@code pt_lock} (trylock when it may not block) and records the update. */
    static final class Device implements HmmMirrorOps {
        final Mutex ptLock;
        final List<HmmUpdate> updates = new CopyOnWriteArrayList<>();
        final List<String> releases = new CopyOnWriteArrayList<>();

        Device(Kernel k, String name) {
            this.ptLock = new Mutex(k, "dev->pt_lock", name + "->pt_lock");
        }

        @Override
        public int syncCpuDevicePagetables(HmmMirror mirror, HmmUpdate update) {
            if (update.blockable()) {
                ptLock.lock();
            } else if (!ptLock.trylock()) {
                return -Errno.EAGAIN;
            }
            updates.add(update);
            ptLock.unlock();
            return 0;
        }
    }

    /** A device with a {@code ->release} that records it. */
    static final class ReleasingDevice implements HmmMirrorOps {
        final Device device;

        ReleasingDevice(Device device) {
            this.device = device;
        }

        @Override
        public int syncCpuDevicePagetables(HmmMirror mirror, HmmUpdate update) {
            return device.syncCpuDevicePagetables(mirror, update);
        }

        @Override
        public void release(HmmMirror mirror) {
            device.releases.add(mirror.name());
        }
    }

    /** {@code hmm_mirror_register} under the mmap write lock; asserts it returned 0. */
    static HmmMirror mirror(Kernel k, MmStruct mm, String name, HmmMirrorOps ops) {
        HmmMirror m = new HmmMirror(k, name, ops);
        mm.mmapWriteLock();
        int ret = m.register(mm);
        mm.mmapWriteUnlock();
        assertEquals(0, ret, "hmm_mirror_register");
        return m;
    }

    /** A range of {@code pages} pages at {@code base} registered in the way the mm's configuration has. */
    static HmmRange2019 range(Kernel k, MmStruct mm, HmmMirror mirror, String name, long base, int pages) {
        HmmRange2019 r = new HmmRange2019(k, name, base, base + pages * PAGE, new long[pages]);
        assertEquals(0, register(r, mm, mirror), "hmm_range_register");
        return r;
    }

    /** Registers {@code r} over its preset start/end in the form of the mm's configuration. */
    static int register(HmmRange2019 r, MmStruct mm, HmmMirror mirror) {
        Hmm2019Config c = MmHmm.of(mm).config();
        if (c.has(Hmm2019Patch.GET)) {
            return r.register(mirror);
        }
        return c.has(Hmm2019Patch.P02) ? r.register(mirror, r.start(), r.end(), Pte.PAGE_SHIFT)
                : r.register(mm, r.start(), r.end(), Pte.PAGE_SHIFT);
    }
}
