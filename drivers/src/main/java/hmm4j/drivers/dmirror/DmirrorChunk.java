package hmm4j.drivers.dmirror;

import hmm4j.kernel.mm.Fault;
import hmm4j.kernel.mm.Page;
import hmm4j.kernel.mm.migrate.DevPagemap;
import hmm4j.kernel.mm.migrate.DevPagemapOps;

/**
 * {@code struct dmirror_chunk}: one chunk of a device's memory, a device-private (or, on a
 * coherent device, device-coherent) {@link DevPagemap} whose owner is the device, and the pgmap's callbacks
 * ({@code dmirror_devmem_ops}): a CPU fault on one of its pages migrates the page back
 * ({@link DmirrorMigrate#dmirrorDevmemFault}); a page whose last reference went returns to
 * the device's free list ({@link DmirrorDevice#dmirrorDevmemFree}; a huge folio to the huge
 * free list, {@link DmirrorDevice#dmirrorDevmemFolioFree}), unless the chunk is being removed;
 * a huge folio being split passes its backing link on ({@code dmirror_devmem_folio_split}).
 */
final class DmirrorChunk implements DevPagemapOps {
    private final DmirrorDevice mdevice;
    private final DevPagemap pagemap;
    private final boolean large;
    private volatile boolean remove;

    DmirrorChunk(DmirrorDevice mdevice, String name, boolean large) {
        this.mdevice = mdevice;
        this.large = large;
        this.pagemap = new DevPagemap(mdevice.kernel(), name, mdevice.isCoherent()
                ? DevPagemap.Type.MEMORY_DEVICE_COHERENT : DevPagemap.Type.MEMORY_DEVICE_PRIVATE, mdevice, this);
    }

    /** A chunk made for the huge free list ({@code dmirror_allocate_chunk} with {@code is_large}). */
    boolean isLarge() {
        return large;
    }

    DevPagemap pagemap() {
        return pagemap;
    }

    DmirrorDevice mdevice() {
        return mdevice;
    }

    /** {@code chunk->remove}: RELEASE is evicting this chunk; freed pages do not go back to the free list. */
    boolean removing() {
        return remove;
    }

    void markRemoving() {
        remove = true;
    }

    @Override
    public int migrateToRam(Fault.VmFault vmf) {
        return DmirrorMigrate.dmirrorDevmemFault(mdevice, vmf);
    }

    @Override
    public void pageFree(Page page) {
        mdevice.dmirrorDevmemFree(this, page);
    }

    @Override
    public void folioFree(Page head, int order) {
        mdevice.dmirrorDevmemFolioFree(this, head, order);
    }

    @Override
    public void folioSplit(Page head, Page tail) {
        mdevice.dmirrorDevmemFolioSplit(head, tail);
    }

    @Override
    public String toString() {
        return pagemap.toString();
    }
}
