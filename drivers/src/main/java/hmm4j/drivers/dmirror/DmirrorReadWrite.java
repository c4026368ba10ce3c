package hmm4j.drivers.dmirror;

import hmm4j.kernel.mm.Errno;
import hmm4j.kernel.mm.Gfp;
import hmm4j.kernel.mm.Page;
import hmm4j.kernel.mm.PhysMem;
import hmm4j.kernel.mm.Pte;
import hmm4j.kernel.mm.UserAccess;
import hmm4j.sim.Kernel;

/**
 * READ and WRITE through the device's view of memory ({@code dmirror_read}, {@code dmirror_write}
 * in lib/test_hmm.c), and the
 * read of the device table that MIGRATE_TO_DEV and EXCLUSIVE use to return what they mapped:
 * {@code dmirror_read}, {@code dmirror_write}, {@code dmirror_do_read},
 * {@code dmirror_do_write} and the bounce buffer.
 *
 * <p>Overview. A command copies between the user buffer and a kernel bounce buffer with
 * {@code copy_to_user}/{@code copy_from_user} (as the calling task), and between the bounce
 * buffer and the pages the device table names, under the mirror's mutex, page by page. The
 * first page without a usable entry stops the copy with {@code -ENOENT}; the mutex is dropped,
 * everything from that page to the end is faulted in one round ({@link DmirrorFault}),
 * {@code faults} counts the round, and the copy resumes where it stopped.
 *
 * <p>Every entry is checked by the validator just before its page is touched, so a stale
 * entry is reported as such instead of reading or writing a page the CPU no longer maps.
 */
final class DmirrorReadWrite {
    /** The largest bounce buffer the model allocates; a larger command fails with {@code -ENOMEM}. */
    static final long MAX_BOUNCE_BYTES = 1L << 30;

    private DmirrorReadWrite() {
    }

    /** {@code struct dmirror_bounce}: the kernel copy of the range's data and the pages done. */
    static final class Bounce {
        final long addr;
        final byte[] buf;
        long cpages;

        private Bounce(long addr, byte[] buf) {
            this.addr = addr;
            this.buf = buf;
        }

        /**
         * {@code dmirror_bounce_init} ({@code kvmalloc}, {@code GFP_KERNEL}): null when the buffer
         * would be too large ({@code -ENOMEM}). Process context, no lock of the mirror held.
         * The model's buffer is zeroed (a Java array), and it reuses the buffer the mirror's last
         * command of the same size freed ({@link #free}), zeroed again: an allocator's cache, as
         * the kernel's slab would hand back a recently freed object, with no change to what a
         * command reads or writes.
         */
        static Bounce init(Dmirror dmirror, long addr, long size) {
            if (size < 0 || size > MAX_BOUNCE_BYTES) {
                return null;
            }
            Gfp.mightAlloc(dmirror.kernel(), Gfp.GFP_KERNEL);
            byte[] spare = dmirror.spareBounce.getAndSet(null);
            if (spare != null && spare.length == size) {
                java.util.Arrays.fill(spare, (byte) 0);
                return new Bounce(addr, spare);
            }
            return new Bounce(addr, new byte[(int) size]);
        }

        /** {@code kvfree(bounce.ptr)}: the buffer kept for the mirror's next command. */
        void free(Dmirror dmirror) {
            dmirror.spareBounce.set(buf);
        }
    }

    /** {@code dmirror_read}. */
    static int dmirrorRead(Dmirror dmirror, HmmDmirrorCmd cmd) {
        Kernel k = dmirror.kernel();
        Bounce bounce = Bounce.init(dmirror, cmd.addr, cmd.npages << Pte.PAGE_SHIFT);
        if (bounce == null) {
            return -Errno.ENOMEM;
        }
        int ret = copyFaultingIn(dmirror, cmd, bounce, false);
        if (ret == 0 && UserAccess.copyToUser(k, cmd.ptr, bounce.buf) != 0) {
            ret = -Errno.EFAULT;
        }
        cmd.cpages = bounce.cpages;
        bounce.free(dmirror);
        return ret;
    }

    /** {@code dmirror_write}. */
    static int dmirrorWrite(Dmirror dmirror, HmmDmirrorCmd cmd) {
        Kernel k = dmirror.kernel();
        Bounce bounce = Bounce.init(dmirror, cmd.addr, cmd.npages << Pte.PAGE_SHIFT);
        if (bounce == null) {
            return -Errno.ENOMEM;
        }
        if (UserAccess.copyFromUser(k, bounce.buf, cmd.ptr) != 0) {
            bounce.free(dmirror);
            return -Errno.EFAULT;
        }
        int ret = copyFaultingIn(dmirror, cmd, bounce, true);
        cmd.cpages = bounce.cpages;
        bounce.free(dmirror);
        return ret;
    }

    /**
     * The read-back of MIGRATE_TO_DEV and EXCLUSIVE: copies [start, end) from the device table
     * (no fault; a missing entry is {@code -ENOENT}) to {@code cmd.ptr} and counts the pages
     * copied in {@code cpages}.
     */
    static int readBack(Dmirror dmirror, HmmDmirrorCmd cmd, long start, long end) {
        Bounce bounce = Bounce.init(dmirror, start, end - start);
        if (bounce == null) {
            return -Errno.ENOMEM;
        }
        int ret;
        dmirror.mutex().lock();
        try {
            ret = dmirrorDoRead(dmirror, start, end, bounce);
        } finally {
            dmirror.mutex().unlock();
        }
        if (ret == 0 && UserAccess.copyToUser(dmirror.kernel(), cmd.ptr, bounce.buf) != 0) {
            ret = -Errno.EFAULT;
        }
        cmd.cpages = bounce.cpages;
        bounce.free(dmirror);
        return ret;
    }

    /**
     * The loop READ and WRITE share: copy between the device table and the bounce buffer
     * under the mutex; at the first missing entry ({@code -ENOENT}) fault the rest of the
     * range in (one fault round, counted in {@code faults}) and copy again from there.
     */
    private static int copyFaultingIn(Dmirror dmirror, HmmDmirrorCmd cmd, Bounce bounce, boolean write) {
        long start = cmd.addr;
        long end = start + (cmd.npages << Pte.PAGE_SHIFT);
        while (true) {
            int ret;
            dmirror.mutex().lock();
            try {
                ret = write ? dmirrorDoWrite(dmirror, start, end, bounce) : dmirrorDoRead(dmirror, start, end, bounce);
            } finally {
                dmirror.mutex().unlock();
            }
            if (ret != -Errno.ENOENT) {
                return ret;
            }
            start = cmd.addr + (bounce.cpages << Pte.PAGE_SHIFT);
            ret = DmirrorFault.dmirrorFault(dmirror, start, end, write);
            if (ret != 0) {
                return ret;
            }
            cmd.faults++;
        }
    }

    /**
     * {@code dmirror_do_read}: copies the pages of [start, end) the table names into the bounce
     * buffer, counting them in {@code cpages}; {@code -ENOENT} at the first page without an
     * entry. Mutex held.
     */
    static int dmirrorDoRead(Dmirror dmirror, long start, long end, Bounce bounce) {
        dmirror.mutex().assertHeld();
        PhysMem phys = PhysMem.of(dmirror.kernel());
        DmirrorPageTable pt = dmirror.pt();
        for (long vpn = start >>> Pte.PAGE_SHIFT; vpn < end >>> Pte.PAGE_SHIFT; vpn++) {
            long entry = pt.load(vpn);
            if (entry == 0) {
                return -Errno.ENOENT;
            }
            DmirrorValidator.checkEntry(dmirror, vpn, entry, "reading the device table");
            Page page = DmirrorPageTable.page(phys, entry);
            page.readBytes(0, bounce.buf, offset(bounce, vpn), (int) Pte.PAGE_SIZE);
            bounce.cpages++;
        }
        return 0;
    }

    /**
     * {@code dmirror_do_write}: copies the bounce buffer into the pages of [start, end) the
     * table maps writable; {@code -ENOENT} at the first page without a WRITE entry. Mutex held.
     */
    static int dmirrorDoWrite(Dmirror dmirror, long start, long end, Bounce bounce) {
        dmirror.mutex().assertHeld();
        PhysMem phys = PhysMem.of(dmirror.kernel());
        DmirrorPageTable pt = dmirror.pt();
        for (long vpn = start >>> Pte.PAGE_SHIFT; vpn < end >>> Pte.PAGE_SHIFT; vpn++) {
            long entry = pt.load(vpn);
            if (entry == 0 || DmirrorPageTable.tag(entry) != DmirrorPageTable.DPT_XA_TAG_WRITE) {
                return -Errno.ENOENT;
            }
            DmirrorValidator.checkEntry(dmirror, vpn, entry, "writing through the device table");
            Page page = DmirrorPageTable.page(phys, entry);
            page.writeBytes(0, bounce.buf, offset(bounce, vpn), (int) Pte.PAGE_SIZE);
            bounce.cpages++;
        }
        return 0;
    }

    private static int offset(Bounce bounce, long vpn) {
        return (int) ((vpn << Pte.PAGE_SHIFT) - bounce.addr);
    }
}
