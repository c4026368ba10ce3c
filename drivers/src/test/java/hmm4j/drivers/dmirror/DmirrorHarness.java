package hmm4j.drivers.dmirror;

import static hmm4j.testkit.UserMemory.PAGE;
import static hmm4j.testkit.UserMemory.readInt;
import static hmm4j.testkit.UserMemory.writeInt;
import static org.junit.jupiter.api.Assertions.assertEquals;

import hmm4j.sim.Kernel;

/**
 * The dmirror-specific helpers of its tests: the command helper of hmm-tests.c
 * ({@code hmm_dmirror_cmd}) and a per-page fill pattern. The process, the checked kernel and
 * the user-memory accessors come from the test kit ({@link hmm4j.testkit.UserProcess},
 * {@link hmm4j.testkit.UserMemory}).
 */
final class DmirrorHarness {
    private DmirrorHarness() {
    }

    /** {@code hmm_dmirror_cmd}: runs {@code cmd} on [addr, addr + npages pages) with the buffer {@code ptr}. */
    static HmmDmirrorCmd cmd(DmirrorFile f, int cmd, long addr, long ptr, long npages, int expectedRet) {
        HmmDmirrorCmd record = new HmmDmirrorCmd(addr, ptr, npages);
        assertEquals(expectedRet, f.ioctl(cmd, record), () -> HmmDmirrorUapi.commandName(cmd) + " " + record);
        return record;
    }

    /** Writes {@code salt * 1000 + i} into the first int of each page {@code i} of {@code pages} pages, its negation into the last. */
    static void fill(Kernel k, long addr, int pages, int salt) {
        for (int i = 0; i < pages; i++) {
            writeInt(k, addr + i * PAGE, salt * 1000 + i);
            writeInt(k, addr + i * PAGE + PAGE - 4, -(salt * 1000 + i));
        }
    }

    /** Asserts the contents {@link #fill} wrote with {@code salt}. */
    static void check(Kernel k, long addr, int pages, int salt) {
        for (int i = 0; i < pages; i++) {
            assertEquals(salt * 1000 + i, readInt(k, addr + i * PAGE), "first int of page " + i);
            assertEquals(-(salt * 1000 + i), readInt(k, addr + i * PAGE + PAGE - 4), "last int of page " + i);
        }
    }
}
