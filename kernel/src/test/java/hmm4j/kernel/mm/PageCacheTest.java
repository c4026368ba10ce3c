package hmm4j.kernel.mm;

import static hmm4j.kernel.mm.Pte.PAGE_SIZE;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotSame;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import hmm4j.sim.Kernel;
import org.junit.jupiter.api.Test;

class PageCacheTest {

    private final Kernel kernel = Kernel.controlled(4);
    private final PhysMem mem = PhysMem.of(kernel);
    private final PageCache cache = PageCache.of(kernel);

    @Test
    void of_isOnePerKernel() {
        assertSame(cache, PageCache.of(kernel));
    }

    @Test
    void newFile_hasSizeAndNoPages() {
        ShmemFile f = cache.createFile("f", 3 * PAGE_SIZE + 1);
        assertEquals("f", f.name());
        assertEquals(3 * PAGE_SIZE + 1, f.size());
        assertEquals(4, f.sizeInPages());
        assertEquals(0, f.nrpages());
        assertNull(cache.findGetPage(f, 0));
        assertThrows(IllegalArgumentException.class, () -> cache.createFile("bad", -1));
    }

    @Test
    void findOrCreate_sharesOnePagePerIndex() {
        ShmemFile f = cache.createFile("shared", 4 * PAGE_SIZE);
        Page a = cache.findOrCreatePage(f, 2);
        Page b = cache.findOrCreatePage(f, 2);
        assertSame(a, b);
        assertEquals(3, a.refcount(), "cache + two callers");
        assertSame(f, a.mapping());
        assertEquals(2, a.index());
        assertTrue(a.isSwapBacked());
        assertFalse(a.isAnon());
        assertEquals(1, f.nrpages());
        a.writeInt(0, 77);
        Page c = cache.findGetPage(f, 2);
        assertEquals(77, c.readInt(0), "writers and readers see one page");
        assertEquals(4, c.refcount());
        assertNotSame(a, cache.findOrCreatePage(f, 3));
        assertEquals(2, f.nrpages());
    }

    @Test
    void beyondEndOfFile_isRefused() {
        ShmemFile f = cache.createFile("short", PAGE_SIZE + 10);
        assertTrue(cache.findOrCreatePage(f, 1) != null);
        assertNull(cache.findOrCreatePage(f, 2));
        assertThrows(IllegalArgumentException.class, () -> cache.findOrCreatePage(f, -1));
    }

    @Test
    void outOfMemory_isRefused() {
        Kernel k = Kernel.controlled(5);
        k.component(PhysMem.class, () -> new PhysMem(k, 1));
        PageCache small = PageCache.of(k);
        ShmemFile f = small.createFile("f", 4 * PAGE_SIZE);
        assertTrue(small.findOrCreatePage(f, 0) != null);
        assertNull(small.findOrCreatePage(f, 1));
        assertEquals(1, f.nrpages());
    }

    @Test
    void truncate_dropsTheCachesReference_andFreesUnusedPages() {
        ShmemFile f = cache.createFile("t", 8 * PAGE_SIZE);
        for (int i = 0; i < 8; i++) {
            cache.findOrCreatePage(f, i).put();
        }
        Page kept = cache.findGetPage(f, 1);
        Page held = cache.findGetPage(f, 5);
        Page dropped = cache.findGetPage(f, 6);
        dropped.put();
        assertSame(f, dropped.mapping());
        long used = mem.usedPages();

        cache.truncate(f, 2 * PAGE_SIZE);
        assertEquals(2 * PAGE_SIZE, f.size());
        assertEquals(2, f.nrpages());
        assertNull(cache.findGetPage(f, 5));
        assertSame(f, kept.mapping(), "pages below the new size stay");
        assertNull(held.mapping(), "a truncated page loses its mapping");
        assertEquals(1, held.refcount(), "our reference keeps it alive");
        assertEquals(Page.State.IN_USE, held.state());
        assertEquals(Page.State.FREE, dropped.state());
        assertEquals(used - 5, mem.usedPages());
        held.put();
        assertEquals(Page.State.FREE, held.state());
        assertNull(cache.findOrCreatePage(f, 2), "now beyond the end");
    }

    @Test
    void truncate_zeroesTheTailOfAPartialLastPage() {
        ShmemFile f = cache.createFile("tail", 2 * PAGE_SIZE);
        Page p = cache.findOrCreatePage(f, 1);
        p.writeInt(0, 1);
        p.writeInt(100, 2);
        p.writeInt(4092, 3);
        cache.truncate(f, PAGE_SIZE + 100);
        assertEquals(2, f.sizeInPages());
        assertEquals(1, p.readInt(0));
        assertEquals(0, p.readInt(100));
        assertEquals(0, p.readInt(4092));
        assertSame(f, p.mapping());
    }

    @Test
    void growingTruncate_keepsPagesAndContents() {
        ShmemFile f = cache.createFile("grow", PAGE_SIZE);
        Page p = cache.findOrCreatePage(f, 0);
        p.writeInt(8, 9);
        cache.truncate(f, 10 * PAGE_SIZE);
        assertEquals(10, f.sizeInPages());
        assertEquals(9, cache.findGetPage(f, 0).readInt(8));
        assertTrue(cache.findOrCreatePage(f, 9) != null);
    }

    @Test
    void truncateToZero_emptiesTheCache() {
        ShmemFile f = cache.createFile("empty", 1L << 30);
        cache.findOrCreatePage(f, 0).put();
        cache.findOrCreatePage(f, (1L << 18) - 1).put();
        assertEquals(2, f.nrpages());
        cache.truncate(f, 0);
        assertEquals(0, f.nrpages());
        assertEquals(0, mem.usedPages());
    }
}
