package hmm4j.kernel.mm;

import java.util.Objects;

/**
 * A tmpfs-like file: a name, a size and the pages cached for it (its {@code address_space}).
 * Created and changed through {@link PageCache}; VMAs refer to it as their {@code vm_file}.
 *
 * <p>Overview. The page index is kept in a {@link PageTable} used as a sparse radix map:
 * page index {@code i} is stored at address {@code i << PAGE_SHIFT} as a present entry
 * carrying the page's pfn (the kernel uses an XArray). Lookups allocate nothing. Files are
 * therefore limited to {@link Pte#TASK_SIZE} bytes.
 *
 * <p>Locking. The cache index and the size are guarded by this object's monitor (the
 * {@code i_pages} lock); only {@link PageCache} takes it. {@link #size()} may be read without
 * it.
 *
 * <p>Differences from the kernel (mm/shmem.c, mm/filemap.c): no inode, no swap-out of file
 * pages; a file is identified by its object, not its name (two files may share a name).
 */
public final class ShmemFile {

    private final String name;
    private volatile long size;
    /** Page index → present entry holding the pfn; guarded by {@code this}. */
    final PageTable index = new PageTable();
    /** Pages in the cache; guarded by {@code this}. */
    long nrpages;

    ShmemFile(String name, long size) {
        this.name = Objects.requireNonNull(name, "name");
        checkSize(size);
        this.size = size;
    }

    /** The file's name, for reports. */
    public String name() {
        return name;
    }

    /** {@code i_size_read}: the size in bytes. */
    public long size() {
        return size;
    }

    /** The number of pages the size covers (the last one possibly partial). */
    public long sizeInPages() {
        return Pte.pageAlign(size) >>> Pte.PAGE_SHIFT;
    }

    /** {@code mapping->nrpages}: how many pages are in the cache. */
    public synchronized long nrpages() {
        return nrpages;
    }

    void setSize(long newSize) {
        checkSize(newSize);
        this.size = newSize;
    }

    static void checkSize(long size) {
        if (size < 0 || size > Pte.TASK_SIZE) {
            throw new IllegalArgumentException("file size out of range: " + size);
        }
    }

    @Override
    public String toString() {
        return "shmem:" + name + " (" + size + " bytes)";
    }
}
