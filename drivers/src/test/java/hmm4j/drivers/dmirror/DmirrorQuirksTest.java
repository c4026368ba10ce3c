package hmm4j.drivers.dmirror;

import static hmm4j.testkit.UserMemory.PAGE;
import static hmm4j.testkit.UserMemory.RW;
import static hmm4j.testkit.RunAssertions.assertClean;
import static hmm4j.drivers.dmirror.DmirrorHarness.check;
import static hmm4j.testkit.TestKernels.checked;
import static hmm4j.drivers.dmirror.DmirrorHarness.cmd;
import static hmm4j.testkit.RunAssertions.describe;
import static hmm4j.drivers.dmirror.DmirrorHarness.fill;
import static hmm4j.testkit.UserProcess.inProcess;
import static hmm4j.testkit.UserMemory.mapAnon;
import static hmm4j.testkit.UserMemory.pte;
import static hmm4j.testkit.UserProcess.runProcess;
import static hmm4j.drivers.dmirror.HmmDmirrorUapi.HMM_DMIRROR_CHECK_EXCLUSIVE;
import static hmm4j.drivers.dmirror.HmmDmirrorUapi.HMM_DMIRROR_EXCLUSIVE;
import static hmm4j.drivers.dmirror.HmmDmirrorUapi.HMM_DMIRROR_FLAGS;
import static hmm4j.drivers.dmirror.HmmDmirrorUapi.HMM_DMIRROR_FLAG_FAIL_ALLOC;
import static hmm4j.drivers.dmirror.HmmDmirrorUapi.HMM_DMIRROR_MIGRATE_TO_DEV;
import static hmm4j.drivers.dmirror.HmmDmirrorUapi.HMM_DMIRROR_MIGRATE_TO_SYS;
import static hmm4j.drivers.dmirror.HmmDmirrorUapi.HMM_DMIRROR_READ;
import static hmm4j.drivers.dmirror.HmmDmirrorUapi.HMM_DMIRROR_SNAPSHOT;
import static hmm4j.drivers.dmirror.HmmDmirrorUapi.HMM_DMIRROR_WRITE;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertTrue;

import hmm4j.kernel.mm.Errno;
import hmm4j.kernel.mm.MmState;
import hmm4j.kernel.mm.MmStruct;
import hmm4j.testkit.UserMemory;
import hmm4j.kernel.mm.Mmap;
import hmm4j.kernel.mm.Page;
import hmm4j.kernel.mm.PhysMem;
import hmm4j.kernel.mm.Pte;
import hmm4j.kernel.mm.UserAccess;
import hmm4j.kernel.sched.Clone;
import hmm4j.kernel.sched.Process;
import hmm4j.sim.Kernel;
import hmm4j.sim.RunResult;
import hmm4j.sim.Task;
import hmm4j.sim.failure.Failure;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.Test;

/**
 * The quirks of dmirror-and-selftests.md §1.9 and the model's decisions: Q1 (a command on a
 * mirror whose address space is dead must fail, never loop), Q2 (device pages outliving the
 * mirror that migrated them must never lead to the freed mirror), Q3 (the inclusive end pfn of
 * an invalidation).
 */
class DmirrorQuirksTest {

    @Test
    void q1_commandsOnAMirrorWhoseAddressSpaceIsDead_failAtOnce() {
        Kernel k = checked(61);
        DmirrorDevice dev = DmirrorDevice.create(k, 0);
        AtomicReference<DmirrorFile> file = new AtomicReference<>();
        AtomicReference<MmStruct> openerMm = new AtomicReference<>();
        AtomicBoolean finished = new AtomicBoolean();
        AtomicReference<Task> openerTask = new AtomicReference<>();
        Task opener = Process.spawn(k, "opener", self -> {
            MmStruct mm = MmStruct.of(self);
            long a = mapAnon(mm, 2, RW);
            fill(k, a, 2, 1);
            DmirrorFile f = DmirrorFile.open(dev);
            cmd(f, HMM_DMIRROR_READ, a, a, 1, 0);
            openerMm.set(mm);
            file.set(f);
            // The child inherits the descriptor, so the file outlives the opener's exit.
            Process.fork(self, "user", user -> {
                openerTask.get().join();
                MmStruct own = MmStruct.of(user);
                assertEquals(MmState.DEAD, openerMm.get().mmState(), "the opener exited: its address space is gone");
                DmirrorFile inherited = file.get();
                assertEquals(0, inherited.dmirror().pt().size(), "the exit's invalidation erased the table");
                long buf = mapAnon(own, 2, RW);
                long addr = buf;
                cmd(inherited, HMM_DMIRROR_READ, addr, buf, 2, -Errno.EFAULT);
                cmd(inherited, HMM_DMIRROR_WRITE, addr, buf, 2, -Errno.EFAULT);
                cmd(inherited, HMM_DMIRROR_MIGRATE_TO_DEV, addr, buf, 2, -Errno.EINVAL);
                cmd(inherited, HMM_DMIRROR_MIGRATE_TO_SYS, addr, buf, 2, -Errno.EINVAL);
                cmd(inherited, HMM_DMIRROR_SNAPSHOT, addr, buf, 2, -Errno.EINVAL);
                cmd(inherited, HMM_DMIRROR_EXCLUSIVE, addr, buf, 2, -Errno.EINVAL);
                cmd(inherited, HMM_DMIRROR_CHECK_EXCLUSIVE, addr, buf, 2, 0);
                inherited.close();
                finished.set(true);
            });
        });
        openerTask.set(opener);
        assertClean(k.run());
        assertTrue(finished.get());
        assertEquals(MmState.FREED, openerMm.get().mmState(), "the close dropped the last pin of the structure");
    }

    @Test
    void q2_closeWithPagesOnTheDevice_theLinkIsGone_andCpuAccessStillGetsTheData() {
        inProcess(62, (k, self, mm) -> {
            DmirrorDevice dev = DmirrorDevice.create(k, 0);
            DmirrorFile f = DmirrorFile.open(dev);
            long a = mapAnon(mm, 2, RW);
            long buf = mapAnon(mm, 2, RW);
            fill(k, a, 2, 3);
            cmd(f, HMM_DMIRROR_MIGRATE_TO_DEV, a, buf, 2, 0);
            Page dpage = PhysMem.of(k).pfnToPage(Pte.pfn(pte(mm, a)));
            assertSame(f.dmirror(), dev.backingMirror(dpage), "the backing link names the mirror that migrated it");
            cmd(f, HMM_DMIRROR_FLAGS, a, 0, HMM_DMIRROR_FLAG_FAIL_ALLOC, 0);
            f.close();
            assertTrue(f.dmirror().isFreed(), "release freed the mirror");
            assertNull(dev.backingMirror(dpage), "release unlinked the mirror from its pages");
            assertTrue(Pte.isPresent(pte(mm, a)) && Pte.isPresent(pte(mm, a + PAGE)),
                    "release evicted the device's memory: the data is back in system memory");
            check(k, a, 2, 3);
            assertEquals(2, dev.cfree(), "both pages came back; the closed mirror's FAIL_ALLOC no longer applies");
        });
    }

    @Test
    void q2_closeRacingCpuFaultsOnItsDevicePages_neverReachesTheFreedMirror() {
        for (long seed = 1; seed <= 150; seed++) {
            RunResult r = runProcess(seed, (k, self, mm) -> {
                DmirrorDevice dev = DmirrorDevice.create(k, 0);
                DmirrorFile f = DmirrorFile.open(dev);
                long a = mapAnon(mm, 2, RW);
                long buf = mapAnon(mm, 2, RW);
                fill(k, a, 2, 4);
                cmd(f, HMM_DMIRROR_MIGRATE_TO_DEV, a, buf, 2, 0);
                cmd(f, HMM_DMIRROR_FLAGS, a, 0, HMM_DMIRROR_FLAG_FAIL_ALLOC, 0);
                Task cpu = Clone.cloneVm(k, "cpu", t -> {
                    byte[] b = new byte[4];
                    if (UserAccess.copyFromUser(k, b, a + PAGE) != 0) {
                        assertEquals(0, UserAccess.copyFromUser(k, b, a + PAGE),
                                "the fault ran before the close and took the one-shot FAIL_ALLOC; the retry succeeds");
                    }
                });
                f.close();
                cpu.join();
                check(k, a, 2, 4);
            });
            assertClean(r);
        }
    }

    @Test
    void q2_theMirrorIsTrackedByTheSanitizer_aUseAfterReleaseWouldBeReported() {
        RunResult r = runProcess(63, (k, self, mm) -> {
            DmirrorFile f = DmirrorFile.open(DmirrorDevice.create(k, 0));
            f.close();
            f.dmirror().mutex();
        });
        Failure.UseAfterFree uaf = assertInstanceOf(Failure.UseAfterFree.class, r.firstFailure().orElseThrow(),
                () -> describe(r));
        assertTrue(uaf.object().startsWith("hmm_dmirror0.mirror"), uaf.object());
        assertTrue(uaf.access().contains("dmirror->mutex"), uaf.access());
    }

    @Test
    void q3_anInvalidationAlsoErasesTheEntryOfThePageAfterItsEnd() {
        inProcess(64, (k, self, mm) -> {
            DmirrorFile f = DmirrorFile.open(DmirrorDevice.create(k, 0));
            long a = mapAnon(mm, 4, RW);
            long buf = mapAnon(mm, 4, RW);
            fill(k, a, 4, 2);
            cmd(f, HMM_DMIRROR_READ, a, buf, 4, 0);
            assertEquals(0, Mmap.munmap(mm, a + PAGE, PAGE));
            DmirrorPageTable pt = f.dmirror().pt();
            long vpn = a >>> Pte.PAGE_SHIFT;
            assertTrue(pt.load(vpn) != 0, "the page before the range keeps its entry");
            assertEquals(0L, pt.load(vpn + 1), "the unmapped page");
            assertEquals(0L, pt.load(vpn + 2), "the page after the range lost its entry too (inclusive end)");
            assertTrue(pt.load(vpn + 3) != 0);
            HmmDmirrorCmd r = cmd(f, HMM_DMIRROR_READ, a + 2 * PAGE, buf, 2, 0);
            assertEquals(1, r.faults, "which costs a refault, nothing else");
            f.close();
        });
    }

    @Test
    void anOpenFileOfAForkedChild_mirrorsTheChildsAddressSpace() {
        inProcess(65, (k, self, mm) -> {
            DmirrorDevice dev = DmirrorDevice.create(k, 1);
            long a = mapAnon(mm, 1, RW);
            fill(k, a, 1, 5);
            Task child = Process.fork(self, "child", c -> {
                MmStruct cmm = MmStruct.of(c);
                DmirrorFile f = DmirrorFile.open(dev);
                assertSame(cmm, f.dmirror().mm());
                long buf = mapAnon(cmm, 1, RW);
                UserMemory.writeInt(k, a, 99);
                cmd(f, HMM_DMIRROR_READ, a, buf, 1, 0);
                assertEquals(99, UserMemory.readInt(k, buf), "the child's copy, not the parent's");
                f.close();
            });
            child.join();
            assertEquals(5000, UserMemory.readInt(k, a));
        });
    }
}
