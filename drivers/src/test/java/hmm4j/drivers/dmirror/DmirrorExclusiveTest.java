package hmm4j.drivers.dmirror;

import static hmm4j.testkit.UserMemory.PAGE;
import static hmm4j.testkit.UserMemory.RW;
import static hmm4j.drivers.dmirror.DmirrorHarness.check;
import static hmm4j.drivers.dmirror.DmirrorHarness.cmd;
import static hmm4j.drivers.dmirror.DmirrorHarness.fill;
import static hmm4j.testkit.UserProcess.inProcess;
import static hmm4j.testkit.UserMemory.mapAnon;
import static hmm4j.testkit.UserMemory.pte;
import static hmm4j.testkit.UserMemory.readInt;
import static hmm4j.testkit.UserMemory.writeInt;
import static hmm4j.drivers.dmirror.HmmDmirrorUapi.HMM_DMIRROR_CHECK_EXCLUSIVE;
import static hmm4j.drivers.dmirror.HmmDmirrorUapi.HMM_DMIRROR_EXCLUSIVE;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import hmm4j.kernel.mm.Errno;
import hmm4j.kernel.mm.Mmap;
import hmm4j.kernel.mm.Pte;
import org.junit.jupiter.api.Test;

/** EXCLUSIVE and CHECK_EXCLUSIVE: device atomics and their revocation by CPU access (I5). */
class DmirrorExclusiveTest {

    @Test
    void exclusive_mapsAtomic_andEveryCpuAccessRevokesIt() {
        inProcess(51, (k, self, mm) -> {
            DmirrorFile f = DmirrorFile.open(DmirrorDevice.create(k, 0));
            long a = mapAnon(mm, 3, RW);
            long buf = mapAnon(mm, 3, RW);
            fill(k, a, 3, 4);
            HmmDmirrorCmd r = cmd(f, HMM_DMIRROR_EXCLUSIVE, a, buf, 3, 0);
            assertEquals(3, r.cpages);
            check(k, buf, 3, 4);
            for (int i = 0; i < 3; i++) {
                assertTrue(Pte.isDeviceExclusive(pte(mm, a + i * PAGE)));
            }
            cmd(f, HMM_DMIRROR_CHECK_EXCLUSIVE, a, 0, 3, -Errno.EPERM);
            assertEquals(4000, readInt(k, a), "a CPU read restores page 0");
            cmd(f, HMM_DMIRROR_CHECK_EXCLUSIVE, a, 0, 1, 0);
            cmd(f, HMM_DMIRROR_CHECK_EXCLUSIVE, a + PAGE, 0, 2, -Errno.EPERM);
            writeInt(k, a + PAGE, 1);
            writeInt(k, a + 2 * PAGE, 2);
            cmd(f, HMM_DMIRROR_CHECK_EXCLUSIVE, a, 0, 3, 0);
            assertEquals(0, f.dmirror().pt().size(), "each restore erased the ATOMIC entry");
            f.close();
        });
    }

    @Test
    void exclusive_needsAWritableMapping() {
        inProcess(52, (k, self, mm) -> {
            DmirrorFile f = DmirrorFile.open(DmirrorDevice.create(k, 1));
            long ro = mapAnon(mm, 1, Mmap.PROT_READ);
            long buf = mapAnon(mm, 1, RW);
            cmd(f, HMM_DMIRROR_EXCLUSIVE, ro, buf, 1, -Errno.EFAULT);
            long gone = mapAnon(mm, 1, RW);
            assertEquals(0, Mmap.munmap(mm, gone, PAGE));
            cmd(f, HMM_DMIRROR_EXCLUSIVE, gone, buf, 1, -Errno.EFAULT);
            cmd(f, HMM_DMIRROR_CHECK_EXCLUSIVE, ro, 0, 1, 0);
            f.close();
        });
    }
}
