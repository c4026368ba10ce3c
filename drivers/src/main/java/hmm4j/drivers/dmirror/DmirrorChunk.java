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
 * the device's free list ({@link DmirrorDevice#dmirrorDevmemFree}), unless the chunk is being
 * removed.
 */
final class DmirrorChunk implements DevPagemapOps {
    private final DmirrorDevice mdevice;
    private final DevPagemap pagemap;
    private volatile boolean remove;

    DmirrorChunk(DmirrorDevice mdevice, String name) {
        this.mdevice = mdevice;
        this.pagemap = new DevPagemap(mdevice.kernel(), name, mdevice.isCoherent()
                ? DevPagemap.Type.MEMORY_DEVICE_COHERENT : DevPagemap.Type.MEMORY_DEVICE_PRIVATE, mdevice, this);
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
    public String toString() {
        return pagemap.toString();
    }
}
