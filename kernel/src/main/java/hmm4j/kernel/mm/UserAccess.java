package hmm4j.kernel.mm;

import hmm4j.sim.Kernel;
import hmm4j.sim.Mark;
import hmm4j.sim.Op;
import hmm4j.sim.sync.SpinLock;

/**
 * CPU accesses to user memory by the current task: {@code copy_from_user} and
 * {@code copy_to_user} through {@code current->mm} (a process's own mm, or the mm a kernel
 * thread adopted with {@code kthread_use_mm}). Each page is looked up in the page table; a
 * missing or read-only entry goes through the fault handler, under the VMA's per-VMA lock when
 * it can be had, else (or on {@code VM_FAULT_RETRY}) under the mmap read lock, and
 * an access the VMA does not permit fails like a SIGSEGV, with {@code -EFAULT}.
 *
 * <p>Every access walks the page table and is therefore subject to the pin rule: a kernel
 * thread that adopted an mm with only {@code mmgrab} is reported at its first access.
 */
public final class UserAccess {
    /** Reads the user memory of the current task's address space (the target: its mm). */
    private static final Op.Kind COPY_FROM_USER = new Op.Kind("copy_from_user", Op.Access.READ);
    /** Writes it. */
    private static final Op.Kind COPY_TO_USER = new Op.Kind("copy_to_user", Op.Access.WRITE);
    private static final int MAX_FAULT_RETRIES = 8;

    /** Coverage mark: a fault under the per-VMA lock answered VM_FAULT_RETRY and was redone under mmap_lock. */
    public static final Mark VMA_LOCK_RETRY = Mark.of("fault.vma-lock.retry",
            "A fault under a per-VMA lock answered VM_FAULT_RETRY and was redone under mmap_lock");
    /** Coverage mark: a fault under mmap_lock answered VM_FAULT_RETRY (lock dropped) and was redone with FAULT_FLAG_TRIED. */
    public static final Mark FAULT_RETRY = Mark.of("fault.retry",
            "A fault under mmap_lock dropped the lock with VM_FAULT_RETRY and was redone with FAULT_FLAG_TRIED");

    private UserAccess() {
    }

    /** {@code copy_from_user}: 0, or {@code -EFAULT} if any byte could not be read. */
    public static int copyFromUser(Kernel kernel, byte[] dst, long addr) {
        return access(kernel, addr, dst, false);
    }

    /** {@code copy_to_user}: 0, or {@code -EFAULT} if any byte could not be written. */
    public static int copyToUser(Kernel kernel, long addr, byte[] src) {
        return access(kernel, addr, src, true);
    }

    private static int access(Kernel kernel, long addr, byte[] buf, boolean write) {
        MmStruct mm = MmStruct.of(kernel.current());
        if (mm == null || addr < 0 || Long.compareUnsigned(addr + buf.length, Pte.TASK_SIZE) > 0) {
            return -Errno.EFAULT;
        }
        Op.Kind kind = write ? COPY_TO_USER : COPY_FROM_USER;
        kernel.point(Op.at(kind, mm.target(), mm.name(), addr));
        PhysMem phys = PhysMem.of(kernel);
        int done = 0;
        int retries = 0;
        while (done < buf.length) {
            long a = addr + done;
            int offset = (int) (a & ~Pte.PAGE_MASK);
            int chunk = Math.min(buf.length - done, (int) Pte.PAGE_SIZE - offset);
            if (copyPage(mm, phys, a, buf, done, chunk, write)) {
                done += chunk;
                retries = 0;
                continue;
            }
            if (++retries > MAX_FAULT_RETRIES || !fault(mm, a, write)) {
                return -Errno.EFAULT;
            }
        }
        return 0;
    }

    /** Copies within one page if its entry allows the access; false if a fault is needed. */
    private static boolean copyPage(MmStruct mm, PhysMem phys, long a, byte[] buf, int off, int len, boolean write) {
        PageTable pt = mm.pgd(write ? "copy_to_user" : "copy_from_user");
        SpinLock ptl = mm.pageTableLock();
        ptl.lock();
        try {
            long pte = pt.get(a & Pte.PAGE_MASK);
            if (!Pte.isPresent(pte) || Pte.isProtNone(pte) || (write && !Pte.isWrite(pte))) {
                return false;
            }
            Page page = phys.pfnToPage(Pte.pfn(pte));
            int inPage = (int) (a & ~Pte.PAGE_MASK);
            long touched;
            if (write) {
                page.writeBytes(inPage, buf, off, len);
                touched = Pte.mkDirty(Pte.mkYoung(pte));
            } else {
                page.readBytes(inPage, buf, off, len);
                touched = Pte.mkYoung(pte);
            }
            if (touched != pte) {
                if (Pte.isHuge(pte)) {
                    // The bits of a PMD leaf are one PMD's: all its entries get them.
                    long bits = touched & ~pte;
                    pt.updatePmdLeaf(a & Pte.PMD_MASK, e -> e | bits);
                } else {
                    pt.set(a & Pte.PAGE_MASK, touched);
                }
            }
            return true;
        } finally {
            ptl.unlock();
        }
    }

    /**
     * The arch fault path ({@code do_user_addr_fault}): first under the per-VMA lock
     * ({@link VmaLock#lockVmaUnderRcu}); a miss, or {@code VM_FAULT_RETRY} from there, falls back to
     * the mmap read lock, where {@code VM_FAULT_RETRY} (the lock already dropped) means fault
     * again with {@code FAULT_FLAG_TRIED}. Access checks per VMA; false for SIGSEGV or SIGBUS.
     */
    private static boolean fault(MmStruct mm, long a, boolean write) {
        int flags = Fault.FAULT_FLAG_DEFAULT | Fault.FAULT_FLAG_USER | (write ? Fault.FAULT_FLAG_WRITE : 0);
        long need = write ? VmFlags.VM_WRITE : VmFlags.VM_READ;
        Vma locked = VmaLock.lockVmaUnderRcu(mm, a);
        if (locked != null) {
            if (!locked.hasAny(need)) {
                VmaLock.vmaEndRead(mm, locked);
                return false;
            }
            int ret = Fault.handleMmFault(mm, locked, a, flags | Fault.FAULT_FLAG_VMA_LOCK);
            if ((ret & (Fault.VM_FAULT_RETRY | Fault.VM_FAULT_COMPLETED)) == 0) {
                VmaLock.vmaEndRead(mm, locked);
            }
            if ((ret & Fault.VM_FAULT_RETRY) == 0) {
                return (ret & Fault.VM_FAULT_ERROR) == 0;
            }
            mm.kernel().mark(VMA_LOCK_RETRY);
        }
        while (true) {
            mm.mmapReadLock();
            Vma vma = mm.vmaLookup(a);
            if (vma == null || !vma.hasAny(need)) {
                mm.mmapReadUnlock();
                return false;
            }
            int ret = Fault.handleMmFault(mm, vma, a, flags);
            if ((ret & Fault.VM_FAULT_COMPLETED) != 0) {
                return true;
            }
            if ((ret & Fault.VM_FAULT_RETRY) != 0) {
                mm.kernel().mark(FAULT_RETRY);
                flags |= Fault.FAULT_FLAG_TRIED;
                continue;
            }
            mm.mmapReadUnlock();
            return (ret & Fault.VM_FAULT_ERROR) == 0;
        }
    }
}
