package hmm4j.kernel.mm;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import hmm4j.kernel.KernelRules;
import hmm4j.kernel.mm.migrate.DevPagemap;
import hmm4j.kernel.mm.migrate.DevPagemapOps;
import hmm4j.sim.Kernel;
import hmm4j.sim.RunResult;
import hmm4j.sim.failure.Failure;
import hmm4j.sim.failure.Failure.RefcountProblem;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;

class PhysMemTest {

    private final Kernel kernel = Kernel.controlled(1);
    private final PhysMem mem = PhysMem.of(kernel);

    /**
     * A native kernel for tests that misuse pages from set-up code: its reports are
     * collected and the code goes on, so one test sees each misuse and what it left.
     */
    private final Kernel collecting = Kernel.nativeRuntime();
    private final PhysMem collectingMem = PhysMem.of(collecting);

    private List<Failure> reported() {
        return collecting.run().failures();
    }

    @Test
    void of_isOnePerKernel() {
        assertSame(mem, PhysMem.of(kernel));
        assertNotEquals(mem, PhysMem.of(Kernel.controlled(1)));
        assertSame(kernel, mem.kernel());
    }

    @Test
    void pfnZero_isReservedAndZeroPageIsFixed() {
        assertNull(collectingMem.pfnToPage(0));
        assertEquals(PhysMem.ZERO_PFN, collectingMem.zeroPfn());
        Page zero = collectingMem.zeroPage();
        assertSame(zero, collectingMem.pfnToPage(PhysMem.ZERO_PFN));
        assertTrue(zero.isZeroPage());
        assertTrue(zero.testFlag(Page.PG_RESERVED));
        assertEquals(0, zero.readLong(4088));
        zero.writeInt(0, 1);
        zero.put();
        assertEquals(1, zero.refcount(), "the reserved reference cannot go");
        assertEquals(0, zero.readInt(0), "the write went nowhere");
        zero.get();
        zero.put();
        assertEquals(Page.State.IN_USE, zero.state());
        List<Failure> f = reported();
        assertEquals(2, f.size(), f.toString());
        Failure.InvariantViolation write = (Failure.InvariantViolation) f.get(0);
        assertEquals(KernelRules.ZERO_PAGE_READ_ONLY, write.rule());
        Failure.RefcountError put = (Failure.RefcountError) f.get(1);
        assertEquals(RefcountProblem.PUT_WITHOUT_GET, put.problem());
        assertTrue(put.detail().contains("PG_reserved"), put.detail());
    }

    @Test
    void allocPage_givesAFreshReferencedPage() {
        long used = mem.usedPages();
        Page p = mem.allocPage();
        assertTrue(p.pfn() >= PhysMem.FIRST_PFN);
        assertEquals(1, p.refcount());
        assertEquals(0, p.mapcount());
        assertEquals(Page.State.IN_USE, p.state());
        assertFalse(p.hasContents());
        assertNull(p.mapping());
        assertSame(p, mem.pfnToPage(p.pfn()));
        assertEquals(used + 1, mem.usedPages());
        assertEquals(mem.totalPages() - used - 1, mem.freePages());
        assertNull(mem.pfnToPage(p.pfn() + 1000), "never created");
    }

    @Test
    void lastPut_freesThePage_andMisusesOfTheFreePageAreReported() {
        Page p = collectingMem.allocPage();
        p.get();
        p.put();
        assertEquals(Page.State.IN_USE, p.state());
        p.put();
        assertEquals(Page.State.FREE, p.state());
        assertEquals(0, p.refcount());
        assertEquals(0, collectingMem.usedPages());
        p.put();
        assertEquals(0, p.refcount(), "a failed put leaves the count alone");
        p.get();
        assertEquals(0, p.refcount(), "a failed get takes nothing");
        assertFalse(p.tryGet());
        assertEquals(0, p.readInt(0), "a free page reads as zeros");
        p.writeInt(0, 1);
        assertFalse(p.hasContents(), "the write went nowhere");
        List<Failure> f = reported();
        assertEquals(4, f.size(), f.toString());
        assertEquals(RefcountProblem.UNDERFLOW, ((Failure.RefcountError) f.get(0)).problem());
        assertTrue(((Failure.RefcountError) f.get(0)).detail().contains("put_page"), f.get(0).toString());
        assertEquals(RefcountProblem.ADDITION_ON_ZERO, ((Failure.RefcountError) f.get(1)).problem());
        assertEquals("read of the contents", ((Failure.UseAfterFree) f.get(2)).access());
        assertEquals("write of the contents", ((Failure.UseAfterFree) f.get(3)).access());
    }

    @Test
    void freedPfn_isReusedFirst_withANewGeneration() {
        Page a = mem.allocPage();
        Page b = mem.allocPage();
        int gen = a.generation();
        a.writeInt(0, 42);
        a.setFlag(Page.PG_DIRTY);
        a.put();
        Page c = mem.allocPage();
        assertSame(a, c, "same pfn, same struct page");
        assertEquals(gen + 1, c.generation());
        assertEquals(0, c.readInt(0), "reallocated page reads as zeros");
        assertFalse(c.isDirty(), "flags reset");
        assertNotEquals(b.pfn(), c.pfn());
    }

    @Test
    void budget_exhaustion_returnsNull() {
        Kernel k = Kernel.controlled(2);
        PhysMem small = k.component(PhysMem.class, () -> new PhysMem(k, 3));
        List<Page> pages = new ArrayList<>();
        for (int i = 0; i < 3; i++) {
            pages.add(small.allocPage());
        }
        assertNull(small.allocPage());
        assertEquals(0, small.freePages());
        pages.get(1).put();
        assertSame(pages.get(1), small.allocPage());
    }

    @Test
    void lastPut_whileMapped_isABug() {
        Page p = collectingMem.allocPage();
        p.incMapcount();
        p.put();
        assertEquals(1, p.refcount(), "the reference is kept rather than freeing a mapped page");
        List<Failure> f = reported();
        assertEquals(1, f.size(), f.toString());
        Failure.RefcountError e = (Failure.RefcountError) f.get(0);
        assertEquals(RefcountProblem.PUT_WITHOUT_GET, e.problem());
        assertTrue(e.detail().contains("nonzero mapcount"), e.detail());
        assertTrue(p.decMapcount());
        p.put();
        assertEquals(Page.State.FREE, p.state());
    }

    @Test
    void mapcount_countsAndRefusesUnderflow() {
        Page p = mem.allocPage();
        p.incMapcount();
        p.incMapcount();
        assertEquals(2, p.mapcount());
        assertFalse(p.decMapcount());
        assertTrue(p.decMapcount());
        assertThrows(IllegalStateException.class, p::decMapcount);
        assertEquals(0, p.mapcount());
    }

    @Test
    void contents_areAllocatedOnFirstWrite() {
        Page p = mem.allocPage();
        byte[] buf = new byte[16];
        p.readBytes(100, buf, 0, 16);
        assertEquals(0, p.readInt(4092));
        assertFalse(p.hasContents(), "reads do not allocate");
        p.writeInt(8, 0x01020304);
        assertTrue(p.hasContents());
        assertEquals(0x01020304, p.readInt(8));
        assertEquals(4, p.readByte(8), "little endian");
        p.writeLong(4088, -2);
        assertEquals(-2, p.readLong(4088));
        p.writeBytes(200, new byte[] {9, 8, 7}, 1, 2);
        p.readBytes(199, buf, 0, 4);
        assertEquals(0, buf[0]);
        assertEquals(8, buf[1]);
        assertEquals(7, buf[2]);
        assertEquals(0, buf[3]);
        assertThrows(IndexOutOfBoundsException.class, () -> p.readInt(4093));
        assertThrows(IndexOutOfBoundsException.class, () -> p.writeByte(4096, (byte) 1));
        p.clear();
        assertFalse(p.hasContents());
        assertEquals(0, p.readInt(8));
    }

    @Test
    void copyFrom_copiesContentsAndLaziness() {
        Page src = mem.allocPage();
        Page dst = mem.allocPage();
        src.writeInt(64, 7);
        dst.copyFrom(src);
        assertEquals(7, dst.readInt(64));
        src.writeInt(64, 8);
        assertEquals(7, dst.readInt(64), "a copy, not shared");
        Page empty = mem.allocPage();
        dst.copyFrom(empty);
        assertFalse(dst.hasContents());
        dst.copyFrom(mem.zeroPage());
        assertEquals(0, dst.readInt(64));
    }

    @Test
    void pageLockAndFlags_areAtomicBits() {
        Page p = collectingMem.allocPage();
        assertTrue(p.trylock());
        assertTrue(p.isLocked());
        assertFalse(p.trylock());
        p.unlock();
        assertFalse(p.isLocked());
        p.unlock();
        assertFalse(p.isLocked());
        List<Failure> f = reported();
        assertEquals(1, f.size(), f.toString());
        assertEquals(KernelRules.UNLOCK_LOCKED_PAGE, ((Failure.InvariantViolation) f.get(0)).rule());
        assertFalse(p.testAndSetFlag(Page.PG_ANON));
        assertTrue(p.testAndSetFlag(Page.PG_ANON));
        p.setFlag(Page.PG_SWAPBACKED);
        assertTrue(p.isAnon() && p.isSwapBacked());
        p.clearFlag(Page.PG_ANON);
        assertFalse(p.isAnon());
        assertTrue(p.toString().contains("swapbacked"), p.toString());
    }

    @Test
    void devicePrivatePages_comeIdleOnAContiguousRange_goIdleToTheirDriverAndCanBeReused() {
        Object owner = new Object();
        List<Page> freed = new ArrayList<>();
        PhysMem mem = collectingMem;
        long used = mem.usedPages();
        DevPagemap pgmap = new DevPagemap(collecting, "dev", owner, new DevPagemapOps() {
            @Override
            public int migrateToRam(Fault.VmFault vmf) {
                return Fault.VM_FAULT_SIGBUS;
            }

            @Override
            public void pageFree(Page page) {
                freed.add(page);
            }
        });
        assertEquals(0, pgmap.memremapPages(3));
        assertEquals(-Errno.EINVAL, pgmap.memremapPages(3), "once only");
        assertEquals(3, mem.devicePrivatePages());
        assertEquals(used, mem.usedPages(), "device memory is not system RAM");
        for (int i = 0; i < 3; i++) {
            Page p = pgmap.page(i);
            assertEquals(pgmap.startPfn() + i, p.pfn(), "contiguous");
            assertEquals(Page.State.DEVICE_IDLE, p.state());
            assertEquals(0, p.refcount());
            assertTrue(p.isDevicePrivate());
            assertSame(owner, p.devicePrivateOwner());
            assertSame(pgmap, p.pgmap());
        }
        Page d = pgmap.page(1);
        assertFalse(d.tryGet(), "an idle page cannot be referenced");
        DevPagemap.zoneDevicePageInit(d);
        assertEquals(1, d.refcount());
        assertTrue(d.isLocked(), "handed out locked");
        assertEquals(Page.State.IN_USE, d.state());
        assertEquals(1, pgmap.pagesInUse());
        DevPagemap.zoneDevicePageInit(d);
        assertEquals(1, d.refcount(), "a second init of a page in use changes nothing");
        assertEquals(1, pgmap.pagesInUse());
        d.writeInt(0, 5);
        d.unlock();
        d.put();
        assertEquals(List.of(d), freed);
        assertEquals(Page.State.DEVICE_IDLE, d.state());
        assertSame(owner, d.devicePrivateOwner());
        assertEquals(0, d.readInt(0), "contents dropped");
        assertEquals(0, pgmap.pagesInUse());
        d.put();
        assertEquals(0, d.refcount(), "a put on an idle page leaves the count alone");

        DevPagemap.zoneDevicePageInit(d);
        d.unlock();
        d.put();
        pgmap.memunmapPages();
        assertEquals(DevPagemap.State.DEAD, pgmap.state());
        assertEquals(Page.State.FREE, d.state());
        assertEquals(0, mem.devicePrivatePages());
        assertFalse(d.isDevicePrivate());
        assertEquals(null, d.pgmap());
        DevPagemap.zoneDevicePageInit(d);
        assertEquals(Page.State.FREE, d.state());
        pgmap.memunmapPages();
        List<Failure> f = reported();
        assertEquals(List.of(KernelRules.PAGE_INIT_FREE_PAGE.id(), "underflow; use-after-free",
                KernelRules.PAGE_INIT_LIVE_PGMAP.id(), KernelRules.MEMUNMAP_PAIRS_MEMREMAP.id()),
                f.stream().map(x -> x instanceof Failure.InvariantViolation v ? v.rule().id()
                        : ((Failure.RefcountError) x).problem().label()).toList());
    }

    @Test
    void memremapPages_refusesAPgmapWithoutOwnerOrOps() {
        assertEquals(-Errno.EINVAL, new DevPagemap(kernel, "no-owner", null, null).memremapPages(1));
        assertEquals(-Errno.EINVAL, new DevPagemap(kernel, "no-ops", "owner", null).memremapPages(1));
        assertEquals(0, mem.devicePrivatePages());
    }

    @Test
    void allocator_isSafeUnderTheNativeRuntime() {
        Kernel k = Kernel.nativeRuntime();
        PhysMem shared = PhysMem.of(k);
        ConcurrentHashMap<Long, Integer> owners = new ConcurrentHashMap<>();
        AtomicInteger clashes = new AtomicInteger();
        int tasks = 4;
        for (int t = 0; t < tasks; t++) {
            int id = t;
            k.spawnKthread("alloc" + t, self -> {
                for (int round = 0; round < 200; round++) {
                    List<Page> held = new ArrayList<>();
                    for (int i = 0; i < 50; i++) {
                        Page p = shared.allocPage();
                        if (owners.putIfAbsent(p.pfn(), id) != null) {
                            clashes.incrementAndGet();
                        }
                        p.writeInt(0, id);
                        held.add(p);
                    }
                    for (Page p : held) {
                        if (p.readInt(0) != id) {
                            clashes.incrementAndGet();
                        }
                        owners.remove(p.pfn());
                        p.put();
                    }
                }
            });
        }
        RunResult r = k.run();
        assertTrue(r.clean(), r.failures().toString());
        assertEquals(0, clashes.get(), "a pfn was handed to two holders at once");
        assertEquals(0, shared.usedPages());
    }
}
