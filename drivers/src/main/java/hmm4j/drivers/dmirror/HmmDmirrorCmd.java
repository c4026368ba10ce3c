package hmm4j.drivers.dmirror;

/**
 * {@code struct hmm_dmirror_cmd}: the record of every command, five unsigned 64-bit fields.
 * The driver works on a copy and writes {@link #cpages} and {@link #faults} back into this
 * object only when the command returns 0, as the kernel copies the record back to user space
 * only on success; after an error the caller still sees the counters of its last successful
 * call.
 */
public final class HmmDmirrorCmd {
    /** In: the user virtual address of the range (page aligned). */
    public long addr;
    /** In: the user virtual address of the caller's buffer, in the caller's address space. */
    public long ptr;
    /** In: pages in the range ({@code FLAGS}: the flag word). */
    public long npages;
    /** Out: pages (or bytes, for {@code SNAPSHOT}) the command produced. */
    public long cpages;
    /** Out: fault rounds of {@code READ}/{@code WRITE}. */
    public long faults;

    /** An empty record. */
    public HmmDmirrorCmd() {
    }

    /** A record for the range of {@code npages} pages at {@code addr}, with the buffer {@code ptr}. */
    public HmmDmirrorCmd(long addr, long ptr, long npages) {
        this.addr = addr;
        this.ptr = ptr;
        this.npages = npages;
    }

    /** The driver's copy ({@code copy_from_user}). */
    HmmDmirrorCmd copy() {
        HmmDmirrorCmd c = new HmmDmirrorCmd(addr, ptr, npages);
        c.cpages = cpages;
        c.faults = faults;
        return c;
    }

    @Override
    public String toString() {
        return "hmm_dmirror_cmd{addr=0x" + Long.toHexString(addr) + ", ptr=0x" + Long.toHexString(ptr) + ", npages="
                + npages + ", cpages=" + cpages + ", faults=" + faults + "}";
    }
}
