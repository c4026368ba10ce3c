package hmm4j.drivers.dmirror;

import hmm4j.kernel.mm.ErrPtr;
import hmm4j.kernel.mm.Errno;
import hmm4j.kernel.mm.MmStruct;
import hmm4j.kernel.mm.Page;
import hmm4j.kernel.mm.Pte;
import hmm4j.kernel.mm.migrate.DeviceExclusive;

/**
 * EXCLUSIVE and CHECK_EXCLUSIVE (lib/test_hmm.c): {@code dmirror_exclusive},
 * {@code dmirror_atomic_map} and {@code dmirror_check_atomic}. Device atomics need the CPU
 * out of the way: {@code make_device_exclusive} replaces each page's CPU entry with a
 * device-exclusive entry (under an {@code MMU_NOTIFY_EXCLUSIVE} invalidation without owner,
 * which every mirror honours), and the mirror maps the page tagged ATOMIC. Any later CPU access
 * restores the entry under an {@code MMU_NOTIFY_CLEAR} invalidation without owner, which
 * erases the ATOMIC entry; CHECK
 * tells whether that happened.
 */
final class DmirrorExclusive {

    private DmirrorExclusive() {
    }

    /** {@code dmirror_exclusive}, then the read-back of the range from the table into {@code ptr}. */
    static int dmirrorExclusive(Dmirror dmirror, HmmDmirrorCmd cmd) {
        long start = cmd.addr;
        long end = start + (cmd.npages << Pte.PAGE_SHIFT);
        MmStruct mm = dmirror.mm();
        if (!mm.mmgetNotZero()) {
            return -Errno.EINVAL;
        }
        int ret = 0;
        mm.mmapReadLock();
        try {
            for (long addr = start; Long.compareUnsigned(addr, end) < 0; addr += Pte.PAGE_SIZE) {
                if (Long.compareUnsigned(addr, Pte.TASK_SIZE) >= 0) {
                    ret = -Errno.EFAULT;
                    break;
                }
                ErrPtr<Page> folio = DeviceExclusive.makeDeviceExclusive(mm, addr, null);
                if (folio.isErr()) {
                    ret = folio.ptrErr();
                    break;
                }
                Page page = folio.get();
                dmirrorAtomicMap(dmirror, addr, page);
                page.unlock();
                page.put();
            }
        } finally {
            mm.mmapReadUnlock();
            mm.mmput();
        }
        if (ret != 0) {
            return ret;
        }
        return DmirrorReadWrite.readBack(dmirror, cmd, start, end);
    }

    /** {@code dmirror_atomic_map}: under the mutex, maps {@code page} at {@code addr} tagged ATOMIC. */
    static void dmirrorAtomicMap(Dmirror dmirror, long addr, Page page) {
        dmirror.mutex().lock();
        try {
            dmirror.pt().store(addr >>> Pte.PAGE_SHIFT, page, DmirrorPageTable.DPT_XA_TAG_ATOMIC);
            DmirrorValidator.checkTable(dmirror, "after an atomic map");
        } finally {
            dmirror.mutex().unlock();
        }
    }

    /** {@code dmirror_check_atomic}: 0 if no entry of [start, end) is tagged ATOMIC, else {@code -EPERM}. */
    static int dmirrorCheckAtomic(Dmirror dmirror, HmmDmirrorCmd cmd) {
        long start = cmd.addr;
        long end = start + (cmd.npages << Pte.PAGE_SHIFT);
        boolean[] atomic = new boolean[1];
        dmirror.mutex().lock();
        try {
            if (end != start) {
                dmirror.pt().forEachPeek(start >>> Pte.PAGE_SHIFT, (end - 1) >>> Pte.PAGE_SHIFT, (vpn, entry) -> {
                    if (DmirrorPageTable.tag(entry) == DmirrorPageTable.DPT_XA_TAG_ATOMIC) {
                        atomic[0] = true;
                    }
                });
            }
        } finally {
            dmirror.mutex().unlock();
        }
        return atomic[0] ? -Errno.EPERM : 0;
    }
}
