package hmm4j.kernel.mm;

import static hmm4j.kernel.mm.Pte.PAGE_SIZE;
import static hmm4j.kernel.mm.VmFlags.VM_EXEC;
import static hmm4j.kernel.mm.VmFlags.VM_IO;
import static hmm4j.kernel.mm.VmFlags.VM_MAYREAD;
import static hmm4j.kernel.mm.VmFlags.VM_MAYWRITE;
import static hmm4j.kernel.mm.VmFlags.VM_MIXEDMAP;
import static hmm4j.kernel.mm.VmFlags.VM_READ;
import static hmm4j.kernel.mm.VmFlags.VM_SHARED;
import static hmm4j.kernel.mm.VmFlags.VM_WRITE;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import hmm4j.sim.Kernel;
import org.junit.jupiter.api.Test;

class VmaTest {

    @Test
    void flagValues_matchTheKernel() {
        assertEquals(0x1, VM_READ);
        assertEquals(0x8, VM_SHARED);
        assertEquals(0x400, VmFlags.VM_PFNMAP);
        assertEquals(0x4000, VM_IO);
        assertEquals(0x10000000, VM_MIXEDMAP);
        assertEquals(VM_IO | VmFlags.VM_DONTEXPAND | VmFlags.VM_PFNMAP | VM_MIXEDMAP, VmFlags.VM_SPECIAL);
        assertEquals("rd wr mr mw", VmFlags.toString(VM_READ | VM_WRITE | VM_MAYREAD | VM_MAYWRITE));
        assertEquals("io 0x800", VmFlags.toString(VM_IO | 0x800));
        assertEquals("", VmFlags.toString(0));
    }

    @Test
    void anonymous_hasPgoffOfItsStart() {
        Vma v = Vma.anonymous(0x10000, 0x14000, VM_READ | VM_WRITE);
        assertTrue(v.isAnonymous());
        assertNull(v.file());
        assertEquals(0x10, v.pgoff());
        assertEquals(4, v.pages());
        assertEquals(Vma.State.DETACHED, v.state());
        assertEquals(0x12, v.linearPageIndex(0x12345));
    }

    @Test
    void contains_isHalfOpen() {
        Vma v = Vma.anonymous(0x10000, 0x14000, VM_READ);
        assertFalse(v.contains(0xffff));
        assertTrue(v.contains(0x10000));
        assertTrue(v.contains(0x13fff));
        assertFalse(v.contains(0x14000));
    }

    @Test
    void fileVma_mapsFromPgoff() {
        ShmemFile f = PageCache.of(Kernel.controlled(0)).createFile("f", 100 * PAGE_SIZE);
        Vma v = new Vma(0x40000, 0x50000, VM_READ | VM_SHARED, f, 7);
        assertFalse(v.isAnonymous());
        assertSame(f, v.file());
        assertTrue(v.isShared());
        assertEquals(7, v.linearPageIndex(0x40000));
        assertEquals(9, v.linearPageIndex(0x42fff));
        assertTrue(v.toString().contains("pgoff=0x7"), v.toString());
    }

    @Test
    void accessibility_followsReadWriteExec() {
        assertTrue(Vma.anonymous(0x10000, 0x11000, VM_READ).isAccessible());
        assertTrue(Vma.anonymous(0x10000, 0x11000, VM_WRITE).isAccessible());
        assertTrue(Vma.anonymous(0x10000, 0x11000, VM_EXEC).isAccessible());
        assertFalse(Vma.anonymous(0x10000, 0x11000, VM_MAYREAD | VM_MAYWRITE).isAccessible());
        Vma io = Vma.anonymous(0x10000, 0x11000, VM_READ | VM_IO);
        assertTrue(io.hasAny(VmFlags.VM_SPECIAL));
        assertFalse(io.hasAny(VM_WRITE | VM_EXEC));
    }

    @Test
    void badRanges_areRejected() {
        assertThrows(IllegalArgumentException.class, () -> Vma.anonymous(0x1000, 0x1000, VM_READ));
        assertThrows(IllegalArgumentException.class, () -> Vma.anonymous(0x2000, 0x1000, VM_READ));
        assertThrows(IllegalArgumentException.class, () -> Vma.anonymous(0x1001, 0x3000, VM_READ));
        assertThrows(IllegalArgumentException.class, () -> Vma.anonymous(0x1000, Pte.TASK_SIZE + PAGE_SIZE, VM_READ));
        assertThrows(IllegalArgumentException.class, () -> new Vma(0x1000, 0x2000, VM_READ, null, -1));
    }
}
