package hmm4j.kernel.mm;

import static hmm4j.kernel.mm.Pte.TASK_SIZE;

import hmm4j.sim.Kernel;
import hmm4j.sim.failure.Site;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.ConcurrentModificationException;
import java.util.Iterator;
import java.util.List;
import java.util.NoSuchElementException;
import java.util.stream.Stream;
import java.util.stream.StreamSupport;

/**
 * The VMAs of one address space, ordered and non-overlapping (the kernel's {@code mm->mm_mt}
 * maple tree), with the tree surgery that mmap, munmap and mprotect perform.
 *
 * <p>Overview. VMAs sit in an array sorted by address. Lookups are binary searches over it and
 * iteration is an index walk, so neither allocates; inserting or removing shifts the tail,
 * which for the few thousand VMAs of a model is cheaper than a node-based tree. The lower
 * piece of a split keeps the original {@link Vma} object and the upper piece is a new one;
 * a merge keeps the leftmost VMA and {@linkplain Vma.State#REMOVED removes} the others.
 *
 * <p>Merging (a simplified {@code vma_merge}): two VMAs merge when they are adjacent, have
 * identical flags, none of {@link VmFlags#VM_SPECIAL}, the same file (or both anonymous) and
 * contiguous {@code pgoff}. Anonymous VMAs are assumed to have compatible {@code anon_vma}s;
 * userfaultfd contexts, anon names and mempolicies do not exist here.
 *
 * <p>Placement ({@link #findFreeRange}): top-down below {@code mmap_base}, as the default
 * x86-64 layout; {@code mmap_base} defaults to {@link #DEFAULT_MMAP_BASE} (the kernel's minimum
 * stack gap of 128 MiB below {@link Pte#TASK_SIZE}, without randomisation) and nothing is
 * placed below {@link #MMAP_MIN_ADDR}. When no gap below {@code mmap_base} fits, the search
 * falls back to bottom-up above it. Stack guard gaps are not modelled.
 *
 * <p>Locking. Not thread-safe: callers hold the mm's mmap lock, for write around any change.
 *
 * <p>Differences from the kernel (mm/vma.c, mm/mmap.c, mm/mprotect.c): no
 * {@code max_map_count} limit (callers check {@link #count()}); {@link #applyFlags} refuses a
 * range with holes up front instead of failing part-way.
 */
public final class VmaTree implements Iterable<Vma> {

    /** {@code mmap_min_addr}: nothing is placed below 64 KiB. */
    public static final long MMAP_MIN_ADDR = 0x10000;
    /** Default {@code mmap_base}: 128 MiB below {@link Pte#TASK_SIZE}. */
    public static final long DEFAULT_MMAP_BASE = TASK_SIZE - (128L << 20);

    private final long mmapBase;
    private CheckerSites sites;
    private Vma[] vmas = new Vma[16];
    private int count;
    private int modCount;

    /** An empty tree with the default {@code mmap_base}. */
    public VmaTree() {
        this(DEFAULT_MMAP_BASE);
    }

    /** An empty tree placing mappings top-down from {@code mmapBase}. */
    public VmaTree(long mmapBase) {
        if (mmapBase <= MMAP_MIN_ADDR || mmapBase > TASK_SIZE || !Pte.isPageAligned(mmapBase)) {
            throw new IllegalArgumentException("bad mmap_base 0x" + Long.toHexString(mmapBase));
        }
        this.mmapBase = mmapBase;
    }

    /** {@code mm->mmap_base}. */
    public long mmapBase() {
        return mmapBase;
    }

    /** Makes the tree record where its VMAs are linked and removed, while {@code kernel}'s checkers are installed. */
    void recordSites(Kernel kernel) {
        sites = new CheckerSites(kernel);
    }

    /** The current site if this tree records sites and the checkers are installed, else null. */
    private Site siteOrNull() {
        CheckerSites c = sites;
        return c == null ? null : c.siteOrNull();
    }

    // ---- lookups ----

    /** {@code find_vma}: the first VMA with {@code vm_end > addr} (it may start above addr), or null. */
    public Vma findVma(long addr) {
        int i = indexAfter(addr);
        return i < count ? vmas[i] : null;
    }

    /** {@code vma_lookup}: the VMA containing {@code addr}, or null. */
    public Vma vmaLookup(long addr) {
        int i = indexAfter(addr);
        return i < count && vmas[i].vmStart() <= addr ? vmas[i] : null;
    }

    /** The VMA just below {@code vma} in this tree, or null. */
    public Vma prev(Vma vma) {
        int i = indexOf(vma);
        return i > 0 ? vmas[i - 1] : null;
    }

    /** The VMA just above {@code vma} in this tree, or null. */
    public Vma next(Vma vma) {
        int i = indexOf(vma);
        return i + 1 < count ? vmas[i + 1] : null;
    }

    /** The VMAs that intersect [{@code start}, {@code end}), in address order. */
    public List<Vma> intersecting(long start, long end) {
        List<Vma> out = new ArrayList<>();
        for (int i = indexAfter(start); i < count && vmas[i].vmStart() < end; i++) {
            out.add(vmas[i]);
        }
        return out;
    }

    /** True when every page of [{@code start}, {@code end}) lies in some VMA. */
    public boolean isRangeMapped(long start, long end) {
        long covered = start;
        for (int i = indexAfter(start); i < count && covered < end; i++) {
            if (vmas[i].vmStart() > covered) {
                return false;
            }
            covered = vmas[i].vmEnd();
        }
        return covered >= end;
    }

    /** {@code mm->map_count}. */
    public int count() {
        return count;
    }

    public boolean isEmpty() {
        return count == 0;
    }

    // ---- changes ----

    /**
     * Links a detached {@code vma}. Raises {@link IllegalArgumentException} if it overlaps a
     * linked VMA or is not detached; the tree is unchanged then. Does not merge.
     */
    public void insert(Vma vma) {
        int i = indexAfter(vma.vmStart());
        if (i < count && vmas[i].vmStart() < vma.vmEnd()) {
            throw new IllegalArgumentException(vma + " overlaps " + vmas[i]);
        }
        vma.link(siteOrNull());
        insertAt(i, vma);
    }

    /**
     * {@code split_vma}: cuts linked {@code vma} at page-aligned {@code addr}, strictly inside
     * it. {@code vma} keeps [vm_start, addr); the returned new VMA, linked, covers [addr,
     * vm_end) with the same flags and file and {@code pgoff} advanced by the pages cut off.
     */
    public Vma split(Vma vma, long addr) {
        int i = indexOf(vma);
        if (!Pte.isPageAligned(addr) || addr <= vma.vmStart() || addr >= vma.vmEnd()) {
            throw new IllegalArgumentException("split of " + vma + " at 0x" + Long.toHexString(addr));
        }
        Vma upper = new Vma(addr, vma.vmEnd(), vma.flags(), vma.file(), vma.linearPageIndex(addr));
        upper.inheritFile(vma);
        vma.setEnd(addr);
        upper.link(siteOrNull());
        insertAt(i + 1, upper);
        return upper;
    }

    /**
     * Merges linked {@code vma} with its neighbours where the merge rule allows (see the class
     * comment): first into the previous VMA, then the next one into the result. Returns the
     * VMA that now covers {@code vma}'s range; the others are removed.
     */
    public Vma mergeAround(Vma vma) {
        int i = indexOf(vma);
        if (i > 0 && canMerge(vmas[i - 1], vma)) {
            i--;
            absorbNext(i);
        }
        if (i + 1 < count && canMerge(vmas[i], vmas[i + 1])) {
            absorbNext(i);
        }
        return vmas[i];
    }

    /**
     * What munmap does to the tree: splits VMAs straddling {@code start} or {@code end} and
     * removes every VMA inside [{@code start}, {@code end}). Returns the removed pieces in
     * address order (possibly empty); the caller zaps and frees what they mapped.
     */
    public List<Vma> removeRange(long start, long end) {
        checkRange(start, end);
        int i = indexAfter(start);
        if (i < count && vmas[i].vmStart() < start && vmas[i].vmEnd() > start) {
            split(vmas[i], start);
            i++;
        }
        int j = i;
        while (j < count && vmas[j].vmStart() < end) {
            if (vmas[j].vmEnd() > end) {
                split(vmas[j], end);
            }
            j++;
        }
        List<Vma> removed = new ArrayList<>(j - i);
        Site site = siteOrNull();
        for (int k = i; k < j; k++) {
            vmas[k].unlink(site);
            removed.add(vmas[k]);
        }
        removeAt(i, j);
        return removed;
    }

    /** Removes every VMA (exit_mmap) and returns them in address order. */
    public List<Vma> removeAll() {
        List<Vma> all = new ArrayList<>(count);
        Site site = siteOrNull();
        for (int k = 0; k < count; k++) {
            vmas[k].unlink(site);
            all.add(vmas[k]);
        }
        removeAt(0, count);
        return all;
    }

    /**
     * What mprotect does to the tree: every VMA in [{@code start}, {@code end}) whose flags
     * differ from {@code newFlags} is split at the range's edges and gets {@code newFlags};
     * the changed VMAs are then merged with compatible neighbours. VMAs that already have
     * {@code newFlags} are left alone, unsplit. The range must be fully mapped, else
     * {@link IllegalArgumentException} with the tree unchanged. Returns the VMAs that cover
     * the range afterwards, in address order (they may extend beyond it after merging).
     */
    public List<Vma> applyFlags(long start, long end, long newFlags) {
        checkRange(start, end);
        if (!isRangeMapped(start, end)) {
            throw new IllegalArgumentException("range [0x" + Long.toHexString(start) + ", 0x"
                    + Long.toHexString(end) + ") has unmapped pages");
        }
        List<Vma> changed = new ArrayList<>();
        for (int i = indexAfter(start); i < count && vmas[i].vmStart() < end; i++) {
            Vma vma = vmas[i];
            if (vma.flags() == newFlags) {
                continue;
            }
            if (vma.vmStart() < start) {
                vma = split(vma, start);
                i++;
            }
            if (vma.vmEnd() > end) {
                split(vma, end);
            }
            vma.setFlags(newFlags);
            changed.add(vma);
        }
        for (Vma vma : changed) {
            if (vma.state() == Vma.State.LINKED) {
                mergeAround(vma);
            }
        }
        return intersecting(start, end);
    }

    /**
     * {@code get_unmapped_area} without MAP_FIXED: a page-aligned address where {@code len}
     * bytes fit, or -1 when none does. A {@code hint} (rounded up to a page) is honoured when
     * the range there is free; 0 means no hint. See the class comment for the placement.
     */
    public long findFreeRange(long len, long hint) {
        if (len <= 0 || !Pte.isPageAligned(len) || len > TASK_SIZE - MMAP_MIN_ADDR) {
            throw new IllegalArgumentException("bad length " + len);
        }
        if (hint != 0) {
            long addr = Pte.pageAlign(hint);
            if (addr >= MMAP_MIN_ADDR && addr <= TASK_SIZE - len) {
                int i = indexAfter(addr);
                if (i == count || vmas[i].vmStart() >= addr + len) {
                    return addr;
                }
            }
        }
        for (int i = count - 1; i >= -1; i--) {
            long gapStart = Math.max(i >= 0 ? vmas[i].vmEnd() : 0, MMAP_MIN_ADDR);
            long gapEnd = Math.min(i + 1 < count ? vmas[i + 1].vmStart() : TASK_SIZE, mmapBase);
            if (gapEnd - gapStart >= len) {
                return gapEnd - len;
            }
        }
        for (int i = -1; i < count; i++) {
            long gapStart = Math.max(i >= 0 ? vmas[i].vmEnd() : 0, mmapBase);
            long gapEnd = i + 1 < count ? vmas[i + 1].vmStart() : TASK_SIZE;
            if (gapEnd - gapStart >= len) {
                return gapStart;
            }
        }
        return -1;
    }

    // ---- iteration and validation ----

    /** The VMAs in address order. Fails fast if the tree changes during the iteration. */
    @Override
    public Iterator<Vma> iterator() {
        return new Iterator<>() {
            private final int expected = modCount;
            private int next;

            @Override
            public boolean hasNext() {
                return next < count;
            }

            @Override
            public Vma next() {
                if (modCount != expected) throw new ConcurrentModificationException();
                if (next >= count) throw new NoSuchElementException();
                return vmas[next++];
            }
        };
    }

    /** The VMAs in address order, as a stream. */
    public Stream<Vma> stream() {
        return StreamSupport.stream(spliterator(), false);
    }

    /**
     * Checks the tree's invariants: every VMA linked, non-empty, page aligned, inside the user
     * address space, and strictly ordered without overlap. Raises {@link IllegalStateException}
     * naming the first offender.
     */
    public void validate() {
        long prevEnd = 0;
        for (int i = 0; i < count; i++) {
            Vma v = vmas[i];
            if (v.state() != Vma.State.LINKED) throw new IllegalStateException("unlinked VMA in tree: " + v);
            if (v.vmStart() >= v.vmEnd() || !Pte.isPageAligned(v.vmStart()) || !Pte.isPageAligned(v.vmEnd())
                    || v.vmEnd() > TASK_SIZE) {
                throw new IllegalStateException("malformed VMA: " + v);
            }
            if (v.vmStart() < prevEnd) throw new IllegalStateException("VMA out of order or overlapping: " + v);
            prevEnd = v.vmEnd();
        }
    }

    @Override
    public String toString() {
        StringBuilder sb = new StringBuilder("vmas(").append(count).append(')');
        for (int i = 0; i < count; i++) {
            sb.append("\n  ").append(vmas[i]);
        }
        return sb.toString();
    }

    // ---- internals ----

    /** Index of the first VMA with {@code vm_end > addr}, or {@code count}. */
    private int indexAfter(long addr) {
        int lo = 0;
        int hi = count;
        while (lo < hi) {
            int mid = (lo + hi) >>> 1;
            if (vmas[mid].vmEnd() > addr) {
                hi = mid;
            } else {
                lo = mid + 1;
            }
        }
        return lo;
    }

    private int indexOf(Vma vma) {
        int i = indexAfter(vma.vmStart());
        if (i >= count || vmas[i] != vma) {
            throw new IllegalArgumentException("not in this tree: " + vma);
        }
        return i;
    }

    private static boolean canMerge(Vma a, Vma b) {
        return a.vmEnd() == b.vmStart()
                && a.flags() == b.flags()
                && (a.flags() & VmFlags.VM_SPECIAL) == 0
                && a.file() == b.file()
                && a.vmFile() == b.vmFile()
                && b.pgoff() == a.pgoff() + a.pages();
    }

    /** vmas[i] grows over vmas[i + 1], which is removed. */
    private void absorbNext(int i) {
        Vma next = vmas[i + 1];
        vmas[i].setEnd(next.vmEnd());
        next.unlink(siteOrNull());
        removeAt(i + 1, i + 2);
    }

    private void insertAt(int i, Vma vma) {
        if (count == vmas.length) {
            vmas = Arrays.copyOf(vmas, count * 2);
        }
        System.arraycopy(vmas, i, vmas, i + 1, count - i);
        vmas[i] = vma;
        count++;
        modCount++;
    }

    /** Removes vmas[from, to). */
    private void removeAt(int from, int to) {
        System.arraycopy(vmas, to, vmas, from, count - to);
        Arrays.fill(vmas, count - (to - from), count, null);
        count -= to - from;
        modCount++;
    }

    private static void checkRange(long start, long end) {
        if (start < 0 || end > TASK_SIZE || start >= end
                || !Pte.isPageAligned(start) || !Pte.isPageAligned(end)) {
            throw new IllegalArgumentException("bad range [0x" + Long.toHexString(start) + ", 0x"
                    + Long.toHexString(end) + ")");
        }
    }
}
