package hmm4j.kernel.mm;

import hmm4j.sim.Kernel;
import java.util.Objects;

/**
 * The page cache of tmpfs-like {@link ShmemFile}s: finding, creating and truncating the pages
 * of a file. A per-{@link Kernel} component: {@link #of(Kernel)}.
 *
 * <p>Overview. The cache holds one reference on every page it contains; a page handed to a
 * caller carries one more, which the caller drops with {@link Page#put}. A cached page knows
 * its file and index ({@link Page#mapping()}, {@link Page#index()}); truncation takes pages out
 * of the cache, clears their {@code mapping} and drops the cache's reference, so a page still
 * mapped somewhere lives on until its last mapping goes, exactly as a truncated page does.
 *
 * <p>Locking. Each file's monitor guards its index (see {@link ShmemFile}). Pages are allocated
 * from {@link PhysMem} under it (file lock, then zone lock). None of these calls sleeps or is a
 * scheduling point; callers may hold the page-table lock.
 *
 * <p>Differences from the kernel (mm/filemap.c, mm/shmem.c, mm/truncate.c): no readahead,
 * no writeback, no swap-out of shmem pages; a page beyond the end of file is simply refused
 * (the fault path turns that into SIGBUS); {@link #truncate} and {@link #punchHole} do not
 * unmap: {@link Truncate} zaps the mappings first ({@code unmap_mapping_range}), as
 * {@code shmem_setattr} and {@code shmem_fallocate} do.
 */
public final class PageCache {

    private final PhysMem physMem;

    /** A page cache allocating from {@code physMem}. Use {@link #of} for the kernel's instance. */
    public PageCache(PhysMem physMem) {
        this.physMem = Objects.requireNonNull(physMem);
    }

    /** The kernel's page cache, created on first use over {@link PhysMem#of}. */
    public static PageCache of(Kernel kernel) {
        PageCache existing = kernel.componentOrNull(PageCache.class); // no capturing lambda once made
        return existing != null ? existing : kernel.component(PageCache.class, () -> new PageCache(PhysMem.of(kernel)));
    }

    /** {@code shmem_file_setup}: a new empty file of {@code size} bytes. */
    public ShmemFile createFile(String name, long size) {
        return new ShmemFile(name, size);
    }

    /**
     * {@code find_get_page}: the cached page at {@code index} with a reference for the caller,
     * or null when none is cached.
     */
    public Page findGetPage(ShmemFile file, long index) {
        checkIndex(index);
        synchronized (file) {
            Page page = lookup(file, index);
            if (page != null) {
                page.get();
            }
            return page;
        }
    }

    /**
     * {@code shmem_get_folio(SGP_CACHE)}: the page at {@code index}, created (zeroed) if not
     * cached, with a reference for the caller. Null when {@code index} lies beyond the end of
     * the file or memory is exhausted; {@link ShmemFile#sizeInPages()} tells which.
     */
    public Page findOrCreatePage(ShmemFile file, long index) {
        checkIndex(index);
        synchronized (file) {
            if (index >= file.sizeInPages()) {
                return null;
            }
            Page page = lookup(file, index);
            if (page == null) {
                page = physMem.allocPage();
                if (page == null) {
                    return null;
                }
                page.setFlag(Page.PG_SWAPBACKED);
                page.setMapping(file, index);
                file.index.set(index << Pte.PAGE_SHIFT, Pte.mkPresent(page.pfn(), false));
                file.nrpages++;
                // The allocation's reference is the cache's; the caller gets its own.
            }
            page.get();
            return page;
        }
    }

    /**
     * {@code shmem_setattr(ATTR_SIZE)}: sets the size. When shrinking, pages wholly beyond the
     * new size leave the cache (mapping cleared, cache reference dropped) and the tail of a
     * cached partial last page is zeroed. The caller has unmapped the truncated range first.
     */
    public void truncate(ShmemFile file, long newSize) {
        ShmemFile.checkSize(newSize);
        synchronized (file) {
            long oldSize = file.size();
            long oldPages = file.sizeInPages();
            file.setSize(newSize);
            long keep = file.sizeInPages();
            int tail = (int) (newSize & ~Pte.PAGE_MASK);
            if (newSize < oldSize && tail != 0) {
                Page last = lookup(file, keep - 1);
                if (last != null && last.hasContents()) {
                    int len = (int) Pte.PAGE_SIZE - tail;
                    last.writeBytes(tail, new byte[len], 0, len);
                }
            }
            if (keep >= oldPages) {
                return;
            }
            long start = keep << Pte.PAGE_SHIFT;
            long end = oldPages << Pte.PAGE_SHIFT;
            file.index.forEach(start, end, (addr, entry) -> {
                Page page = physMem.pfnToPage(Pte.pfn(entry));
                page.setMapping(null, 0);
                page.put();
                file.nrpages--;
                return true;
            });
            file.index.clearRange(start, end);
            file.index.freeTables(start, Pte.TASK_SIZE);
        }
    }

    /**
     * {@code shmem_truncate_range(lstart, lend)} inside the file (a hole punch): pages wholly in
     * [start, end) leave the cache, the parts of partial pages at the edges are zeroed; the size
     * stays. The caller has unmapped the whole pages of the range first.
     */
    public void punchHole(ShmemFile file, long start, long end) {
        if (start < 0 || end < start || end > Pte.TASK_SIZE) {
            throw new IllegalArgumentException("bad hole [" + start + ", " + end + ")");
        }
        synchronized (file) {
            long firstWhole = Pte.pageAlign(start) >>> Pte.PAGE_SHIFT;
            long endWhole = end >>> Pte.PAGE_SHIFT;
            zeroPart(file, start, Math.min(end, Pte.pageAlign(start)));
            if (endWhole >= firstWhole) {
                zeroPart(file, Math.max(start, endWhole << Pte.PAGE_SHIFT), end);
            }
            if (endWhole <= firstWhole) {
                return;
            }
            long from = firstWhole << Pte.PAGE_SHIFT;
            long to = endWhole << Pte.PAGE_SHIFT;
            file.index.forEach(from, to, (addr, entry) -> {
                Page page = physMem.pfnToPage(Pte.pfn(entry));
                page.setMapping(null, 0);
                page.put();
                file.nrpages--;
                return true;
            });
            file.index.clearRange(from, to);
        }
    }

    /** Zeroes [from, to) of the cached page holding them (one page at most); file monitor held. */
    private void zeroPart(ShmemFile file, long from, long to) {
        if (to <= from) {
            return;
        }
        Page page = lookup(file, from >>> Pte.PAGE_SHIFT);
        if (page != null && page.hasContents()) {
            int off = (int) (from & ~Pte.PAGE_MASK);
            int len = (int) (to - from);
            page.writeBytes(off, new byte[len], 0, len);
        }
    }

    /** The cached page at {@code index} without taking a reference; caller holds the file's monitor. */
    private Page lookup(ShmemFile file, long index) {
        long entry = file.index.get(index << Pte.PAGE_SHIFT);
        return entry == 0 ? null : physMem.pfnToPage(Pte.pfn(entry));
    }

    private static void checkIndex(long index) {
        if (index < 0 || index >= (Pte.TASK_SIZE >>> Pte.PAGE_SHIFT)) {
            throw new IllegalArgumentException("page index out of range: " + index);
        }
    }
}
