package hmm4j.kernel.mm;

import hmm4j.sim.Kernel;
import java.util.Arrays;

/**
 * The swap device of one simulated machine: slots holding the contents of swapped-out pages,
 * named by the offset a {@link Pte#mkSwap swap entry} carries. A per-{@link Kernel}
 * component: {@link #of(Kernel)}.
 *
 * <p>Overview. A slot has a use count ({@code swap_map}): one per swap entry that names it.
 * {@link #allocate} fills a fresh slot with a copy of a page and a count of 1;
 * {@link #duplicate} adds a user (fork copies the entry); {@link #free} drops one and the
 * last frees the slot. Offset 0 is never a slot. Free slots are reused last-in-first-out.
 * A page that was never written is stored as "zeros" without a copy.
 *
 * <p>Locking. A plain monitor (the {@code swap_info} lock), for the same reason as
 * {@link PhysMem}: not a scheduling point, safe under real threads, callable under spinlocks.
 *
 * <p>Differences from the kernel (mm/swapfile.c, mm/swap_state.c): one device, no swap
 * cache (a swapped-in page is a fresh copy), no I/O latency, no cluster allocation.
 */
public final class SwapSpace {

    /** Default number of slots: 4 GiB worth. */
    public static final int DEFAULT_SLOTS = 1 << 20;

    private static final byte[] ZEROS = new byte[0];

    private final int slots;
    private byte[][] contents = new byte[64][];
    private int[] counts = new int[64];
    private int[] freeOffsets = new int[64];
    private int freeCount;
    private int high = 1;
    private int used;

    /** A swap device with {@code slots} slots. Use {@link #of} for the kernel's instance. */
    public SwapSpace(int slots) {
        if (slots <= 0) {
            throw new IllegalArgumentException("slots must be positive");
        }
        this.slots = slots;
    }

    /** The kernel's swap device, created with {@link #DEFAULT_SLOTS} on first use. */
    public static SwapSpace of(Kernel kernel) {
        SwapSpace existing = kernel.componentOrNull(SwapSpace.class); // no capturing lambda once made
        return existing != null ? existing : kernel.component(SwapSpace.class, () -> new SwapSpace(DEFAULT_SLOTS));
    }

    /**
     * {@code folio_alloc_swap} + write-out: stores a copy of {@code page}'s contents in a new
     * slot with a use count of 1 and returns its offset, or 0 when the device is full.
     */
    public synchronized long allocate(Page page) {
        if (used >= slots) {
            return 0;
        }
        byte[] copy = page.contentsCopy();
        int offset;
        if (freeCount > 0) {
            offset = freeOffsets[--freeCount];
        } else {
            offset = high++;
            if (offset >= counts.length) {
                int n = Math.max(counts.length * 2, offset + 1);
                counts = Arrays.copyOf(counts, n);
                contents = Arrays.copyOf(contents, n);
            }
        }
        contents[offset] = copy == null ? ZEROS : copy;
        counts[offset] = 1;
        used++;
        return offset;
    }

    /** Swap-in: copies slot {@code offset}'s contents into {@code into}. The slot stays allocated. */
    public synchronized void read(long offset, Page into) {
        byte[] c = contents[check(offset, "read")];
        into.setContents(c == ZEROS ? null : c.clone());
    }

    /** {@code swap_duplicate}: one more swap entry names slot {@code offset}. */
    public synchronized void duplicate(long offset) {
        counts[check(offset, "swap_duplicate")]++;
    }

    /** {@code swap_free}: one swap entry naming {@code offset} is gone; the last frees the slot. */
    public synchronized void free(long offset) {
        int o = check(offset, "swap_free");
        if (--counts[o] == 0) {
            contents[o] = null;
            if (freeCount == freeOffsets.length) {
                freeOffsets = Arrays.copyOf(freeOffsets, freeCount * 2);
            }
            freeOffsets[freeCount++] = o;
            used--;
        }
    }

    /** {@code swp_swapcount}: how many entries name slot {@code offset} (0 when free). */
    public synchronized int count(long offset) {
        return offset > 0 && offset < high ? counts[(int) offset] : 0;
    }

    /** Slots in use. */
    public synchronized int usedSlots() {
        return used;
    }

    /** The device's capacity in slots. */
    public int totalSlots() {
        return slots;
    }

    private int check(long offset, String op) {
        if (offset <= 0 || offset >= high || counts[(int) offset] == 0) {
            throw new IllegalStateException(op + " of a free swap slot: offset " + offset);
        }
        return (int) offset;
    }
}
