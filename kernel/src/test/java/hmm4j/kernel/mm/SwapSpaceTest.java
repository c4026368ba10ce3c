package hmm4j.kernel.mm;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import hmm4j.sim.Kernel;
import org.junit.jupiter.api.Test;

class SwapSpaceTest {

    private final Kernel kernel = Kernel.controlled(3);
    private final PhysMem mem = PhysMem.of(kernel);
    private final SwapSpace swap = SwapSpace.of(kernel);

    @Test
    void of_isOnePerKernel() {
        assertSame(swap, SwapSpace.of(kernel));
        assertEquals(SwapSpace.DEFAULT_SLOTS, swap.totalSlots());
    }

    @Test
    void swapOutAndIn_roundTripsTheContents() {
        Page page = mem.allocPage();
        page.writeLong(0, 0x1122334455667788L);
        page.writeInt(4092, 99);
        long off = swap.allocate(page);
        assertTrue(off > 0);
        assertEquals(1, swap.count(off));
        page.writeLong(0, 0);
        page.put();

        Page back = mem.allocPage();
        swap.read(off, back);
        assertEquals(0x1122334455667788L, back.readLong(0));
        assertEquals(99, back.readInt(4092));
        back.writeInt(4092, 1);
        Page again = mem.allocPage();
        swap.read(off, again);
        assertEquals(99, again.readInt(4092), "the slot is not aliased by a swapped-in page");
    }

    @Test
    void neverWrittenPage_staysLazyAcrossSwap() {
        Page page = mem.allocPage();
        long off = swap.allocate(page);
        Page back = mem.allocPage();
        back.writeInt(0, 5);
        swap.read(off, back);
        assertFalse(back.hasContents());
        assertEquals(0, back.readInt(0));
    }

    @Test
    void useCount_followsDuplicateAndFree() {
        Page page = mem.allocPage();
        long off = swap.allocate(page);
        swap.duplicate(off);
        assertEquals(2, swap.count(off));
        swap.free(off);
        assertEquals(1, swap.count(off));
        assertEquals(1, swap.usedSlots());
        swap.free(off);
        assertEquals(0, swap.count(off));
        assertEquals(0, swap.usedSlots());
        IllegalStateException e = assertThrows(IllegalStateException.class, () -> swap.free(off));
        assertTrue(e.getMessage().contains("swap_free"), e.getMessage());
        assertThrows(IllegalStateException.class, () -> swap.read(off, page));
        assertThrows(IllegalStateException.class, () -> swap.duplicate(off));
        assertThrows(IllegalStateException.class, () -> swap.free(0));
    }

    @Test
    void freedSlot_isReusedFirst() {
        Page page = mem.allocPage();
        long a = swap.allocate(page);
        long b = swap.allocate(page);
        assertNotEquals(a, b);
        swap.free(a);
        assertEquals(a, swap.allocate(page));
    }

    @Test
    void fullDevice_refusesWithZero() {
        SwapSpace tiny = new SwapSpace(2);
        Page page = mem.allocPage();
        long a = tiny.allocate(page);
        long b = tiny.allocate(page);
        assertEquals(0, tiny.allocate(page));
        tiny.free(b);
        assertEquals(b, tiny.allocate(page));
        assertTrue(a > 0);
    }

    @Test
    void swapEntry_carriesTheOffset() {
        Page page = mem.allocPage();
        long off = swap.allocate(page);
        long pte = Pte.mkSwap(off);
        assertEquals(off, Pte.swapOffset(pte));
        assertEquals(1, swap.count(Pte.swapOffset(pte)));
    }
}
