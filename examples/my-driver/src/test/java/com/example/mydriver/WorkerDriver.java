package com.example.mydriver;

import hmm4j.check.lifetime.RefHandle;
import hmm4j.kernel.mm.MmStruct;
import hmm4j.kernel.mm.Mmap;
import hmm4j.kernel.mm.UserAccess;
import hmm4j.kernel.sched.Kthread;
import hmm4j.kernel.sched.Process;
import hmm4j.sim.Kernel;

/**
 * The driver under test, the one of hmm4j's README: a process hands its buffer to a kernel
 * worker that copies it through the process's address space, while the process exits. The
 * buggy version takes only {@code mmgrab} (it pins the structure, not the address space);
 * the fixed one takes {@code mmget_not_zero} and gives up when the address space is gone.
 */
final class WorkerDriver {
    private WorkerDriver() {
    }

    /** The bug: the worker holds only {@code mmgrab} while it uses the address space. */
    static void buggy(Kernel k) {
        Process.spawn(k, "process", self -> {
            MmStruct mm = MmStruct.of(self);
            long buf = Mmap.mmapAnonymous(mm, 4096, Mmap.PROT_READ | Mmap.PROT_WRITE);
            UserAccess.copyToUser(k, buf, new byte[] {42});
            RefHandle ref = new RefHandle("worker");
            mm.mmgrabAs(ref);
            k.spawnKthread("worker", w -> {
                Kthread.kthreadUseMm(mm);
                UserAccess.copyFromUser(k, new byte[1], buf);
                Kthread.kthreadUnuseMm(mm);
                mm.mmdropAs(ref);
            });
        });
    }

    /** The fix (the vhost pattern): {@code mmget_not_zero} around the use, {@code mmput} after. */
    static void fixed(Kernel k) {
        Process.spawn(k, "process", self -> {
            MmStruct mm = MmStruct.of(self);
            long buf = Mmap.mmapAnonymous(mm, 4096, Mmap.PROT_READ | Mmap.PROT_WRITE);
            UserAccess.copyToUser(k, buf, new byte[] {42});
            RefHandle ref = new RefHandle("worker");
            mm.mmgrabAs(ref);
            k.spawnKthread("worker", w -> {
                if (mm.mmgetNotZero()) {
                    Kthread.kthreadUseMm(mm);
                    UserAccess.copyFromUser(k, new byte[1], buf);
                    Kthread.kthreadUnuseMm(mm);
                    mm.mmput();
                }
                mm.mmdropAs(ref);
            });
        });
    }
}
