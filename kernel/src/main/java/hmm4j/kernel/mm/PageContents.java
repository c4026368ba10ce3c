package hmm4j.kernel.mm;

import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.nio.ByteOrder;
import java.util.Arrays;
import java.util.Objects;

/**
 * The 4096 bytes of one {@link Page}: what {@code kmap_local_page} plus a {@code memcpy}
 * reach (include/linux/highmem.h: {@code copy_highpage}, {@code clear_highpage}).
 *
 * <p>Overview. The array is allocated on the first write; a page never written reads as
 * zeros. Every access first asks the page whether it may be made ({@link Page#checkReadable},
 * {@link Page#checkWritable}): a read of a free page is reported as a use-after-free and reads
 * zeros; a write to a free page is reported the same way, a write to the zero page as an
 * invariant violation, and either write goes to a scratch array. An offset outside the page
 * is the caller's API misuse and throws.
 *
 * <p>Locking. Plain memory: concurrent writers race as CPUs would, but the lazy allocation
 * is atomic. No operation is a scheduling point. The allocator clears the contents
 * ({@link #drop}) under its lock when the page changes hands.
 *
 * <p>Differences from the kernel: no highmem mapping; ints and longs are little-endian, as
 * on x86-64.
 */
final class PageContents {
    private static final VarHandle DATA;
    private static final VarHandle INTS = MethodHandles.byteArrayViewVarHandle(int[].class, ByteOrder.LITTLE_ENDIAN);
    private static final VarHandle LONGS = MethodHandles.byteArrayViewVarHandle(long[].class, ByteOrder.LITTLE_ENDIAN);
    static final int SIZE = (int) Pte.PAGE_SIZE;

    static {
        try {
            DATA = MethodHandles.lookup().findVarHandle(PageContents.class, "data", byte[].class);
        } catch (ReflectiveOperationException e) {
            throw new ExceptionInInitializerError(e);
        }
    }

    private final Page page;
    private volatile byte[] data;

    PageContents(Page page) {
        this.page = page;
    }

    boolean exists() {
        return data != null;
    }

    /** Forgets the contents without a check (the allocator's hooks). */
    void drop() {
        data = null;
    }

    byte readByte(int offset) {
        Objects.checkIndex(offset, SIZE);
        byte[] d = readable();
        return d == null ? 0 : d[offset];
    }

    void writeByte(int offset, byte value) {
        Objects.checkIndex(offset, SIZE);
        writable()[offset] = value;
    }

    int readInt(int offset) {
        Objects.checkFromIndexSize(offset, Integer.BYTES, SIZE);
        byte[] d = readable();
        return d == null ? 0 : (int) INTS.get(d, offset);
    }

    void writeInt(int offset, int value) {
        Objects.checkFromIndexSize(offset, Integer.BYTES, SIZE);
        INTS.set(writable(), offset, value);
    }

    long readLong(int offset) {
        Objects.checkFromIndexSize(offset, Long.BYTES, SIZE);
        byte[] d = readable();
        return d == null ? 0 : (long) LONGS.get(d, offset);
    }

    void writeLong(int offset, long value) {
        Objects.checkFromIndexSize(offset, Long.BYTES, SIZE);
        LONGS.set(writable(), offset, value);
    }

    void readBytes(int offset, byte[] dst, int dstOff, int len) {
        Objects.checkFromIndexSize(offset, len, SIZE);
        Objects.checkFromIndexSize(dstOff, len, dst.length);
        byte[] d = readable();
        if (d == null) {
            Arrays.fill(dst, dstOff, dstOff + len, (byte) 0);
        } else {
            System.arraycopy(d, offset, dst, dstOff, len);
        }
    }

    void writeBytes(int offset, byte[] src, int srcOff, int len) {
        Objects.checkFromIndexSize(offset, len, SIZE);
        Objects.checkFromIndexSize(srcOff, len, src.length);
        if (data == null && isZero(src, srcOff, len)) {
            // Zeros into a page that reads as zeros: nothing changes, so no array is made (a
            // process touching its pages, a truncation zeroing a tail); the write is still checked.
            if (!page.checkWritable() || data == null) {
                return;
            }
        }
        System.arraycopy(src, srcOff, writable(), offset, len);
    }

    /** A page of zeros to compare with; never written. */
    private static final byte[] ZEROS = new byte[SIZE];

    private static boolean isZero(byte[] b, int off, int len) {
        return Arrays.mismatch(b, off, off + len, ZEROS, 0, len) < 0;
    }

    /** {@code copy_highpage} from {@code src}. */
    void copyFrom(PageContents src) {
        byte[] s = src.readable();
        if (page.checkWritable()) {
            data = s == null ? null : s.clone();
        }
    }

    /** {@code clear_highpage}: zeroes (drops the array). */
    void clear() {
        if (page.checkWritable()) {
            data = null;
        }
    }

    /** A copy, or null if the page reads as zeros. */
    byte[] copy() {
        byte[] d = readable();
        return d == null ? null : d.clone();
    }

    /** Installs {@code contents} (taken over, not copied); null means zeros. */
    void set(byte[] contents) {
        if (page.checkWritable()) {
            data = contents;
        }
    }

    /** The array for a read (null reads as zeros); a free page is reported and reads as zeros. */
    private byte[] readable() {
        return page.checkReadable() ? data : null;
    }

    /** The array for a write; for a page that may not be written, reported, a scratch array. */
    private byte[] writable() {
        if (!page.checkWritable()) {
            return new byte[SIZE];
        }
        byte[] d = data;
        if (d == null) {
            byte[] fresh = new byte[SIZE];
            d = (byte[]) DATA.compareAndExchange(this, (byte[]) null, fresh);
            if (d == null) {
                d = fresh;
            }
        }
        return d;
    }
}
