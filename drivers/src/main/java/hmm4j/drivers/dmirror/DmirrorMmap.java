package hmm4j.drivers.dmirror;

import hmm4j.kernel.mm.Errno;
import hmm4j.kernel.mm.MmStruct;
import hmm4j.kernel.mm.Mmap;
import hmm4j.kernel.mm.Page;
import hmm4j.kernel.mm.PageTable;
import hmm4j.kernel.mm.PhysMem;
import hmm4j.kernel.mm.Pte;
import hmm4j.kernel.mm.VmFlags;
import hmm4j.kernel.mm.Vma;
import hmm4j.kernel.mm.VmaTree;
import hmm4j.sim.Kernel;
import hmm4j.sim.sync.SpinLock;

/**
 * {@code mmap} of the device file ({@code dmirror_fops_mmap} in lib/test_hmm.c,
 * the {@code mixedmap} test): a {@code VM_MIXEDMAP} mapping in which every page is a freshly
 * allocated, zeroed ordinary page inserted with {@code vm_insert_page}. The entries carry the
 * VMA's page protection: writable only in a shared writable mapping; in a private writable
 * mapping they are read-only and a CPU write copies the page (COW).
 *
 * <p>How the model builds it. The kernel model's {@code Mmap.mmap} has no file operations, so
 * the driver creates the VMA itself through the public API, as {@code mmap_region} would for a
 * file whose {@code ->mmap} calls {@code vm_insert_page}: under the mmap write lock it finds a
 * free range, links a {@link Vma} with the {@code VM_*} flags of the protection plus
 * {@code VM_MIXEDMAP} (a special mapping: never merged; {@code migrate_vma_setup} refuses it),
 * and maps each page under the page-table lock with one reference and one mapcount (the
 * mapping's, as after {@code vm_insert_page} and the driver's {@code put_page}).
 *
 * <p>Differences from the kernel: the VMA has no file (the model's {@link Vma} knows only
 * shmem files), so it counts as anonymous to the model's fault handler; since every page is
 * inserted at mmap time, only write faults reach it, and those copy on write exactly as for a
 * file page. An allocation failure unmaps the range again and answers {@code -ENOMEM}.
 */
final class DmirrorMmap {

    private DmirrorMmap() {
    }

    /** {@code dmirror_fops_mmap} on {@code current->mm}: the address, or {@code -EINVAL}/{@code -ENOMEM}. */
    static long dmirrorFopsMmap(Kernel k, long len, int prot, int flags) {
        MmStruct mm = MmStruct.of(k.current());
        if (mm == null) {
            throw new IllegalStateException("mmap of a dmirror file from a context without an mm");
        }
        boolean shared = (flags & Mmap.MAP_SHARED) != 0;
        if (len <= 0 || shared == ((flags & Mmap.MAP_PRIVATE) != 0) || (flags & Mmap.MAP_ANONYMOUS) != 0
                || (flags & Mmap.MAP_FIXED) != 0) {
            return -Errno.EINVAL;
        }
        long size = Pte.pageAlign(len);
        long vmFlags = VmFlags.VM_MAYREAD | VmFlags.VM_MAYWRITE | VmFlags.VM_MAYEXEC | VmFlags.VM_MIXEDMAP;
        if ((prot & Mmap.PROT_READ) != 0) vmFlags |= VmFlags.VM_READ;
        if ((prot & Mmap.PROT_WRITE) != 0) vmFlags |= VmFlags.VM_WRITE;
        if ((prot & Mmap.PROT_EXEC) != 0) vmFlags |= VmFlags.VM_EXEC;
        if (shared) vmFlags |= VmFlags.VM_SHARED | VmFlags.VM_MAYSHARE;
        boolean writable = shared && (prot & Mmap.PROT_WRITE) != 0;
        long start;
        boolean failed = false;
        mm.mmapWriteLock();
        try {
            VmaTree vmas = mm.vmas("mmap");
            start = vmas.findFreeRange(size, 0);
            if (start < 0) {
                return -Errno.ENOMEM;
            }
            vmas.insert(new Vma(start, start + size, vmFlags, null, start >>> Pte.PAGE_SHIFT));
            PhysMem phys = PhysMem.of(k);
            PageTable pt = mm.pgd("vm_insert_page");
            SpinLock ptl = mm.pageTableLock();
            for (long addr = start; addr < start + size; addr += Pte.PAGE_SIZE) {
                Page page = phys.allocPage();
                if (page == null) {
                    failed = true;
                    break;
                }
                ptl.lock();
                try {
                    page.incMapcount();
                    pt.set(addr, Pte.mkPresent(page.pfn(), writable));
                } finally {
                    ptl.unlock();
                }
            }
        } finally {
            mm.mmapWriteUnlock();
        }
        if (failed) {
            Mmap.munmap(mm, start, size);
            return -Errno.ENOMEM;
        }
        return start;
    }
}
