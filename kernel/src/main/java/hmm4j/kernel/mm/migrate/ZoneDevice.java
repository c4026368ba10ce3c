package hmm4j.kernel.mm.migrate;

import hmm4j.kernel.mm.Page;

/**
 * The predicates of include/linux/memremap.h on a page's device memory:
 * {@code is_zone_device_page}, {@code is_device_private_page} and
 * {@code is_device_coherent_page}. GUP's long-term pin, migration's collection and the
 * snapshot of a mirror ask these, never the pgmap's fields.
 *
 * <p>A device-coherent page is an ordinary page to the CPU (present entries, COW at fork,
 * {@code hmm_range_fault} reports it as a normal pfn) whose last reference sends it back to its
 * driver; it is not movable memory, so a {@code FOLL_LONGTERM} pin must migrate it to system
 * memory first ({@link #isDeviceCoherentPage} is that test).
 */
public final class ZoneDevice {
    private ZoneDevice() {
    }

    /** {@code is_zone_device_page}: the page belongs to a {@link DevPagemap}. */
    public static boolean isZoneDevicePage(Page page) {
        return page != null && page.pgmap() != null;
    }

    /** {@code is_device_private_page}. */
    public static boolean isDevicePrivatePage(Page page) {
        return page != null && page.isDevicePrivate();
    }

    /** {@code is_device_coherent_page}: the page belongs to a {@code MEMORY_DEVICE_COHERENT} pgmap. */
    public static boolean isDeviceCoherentPage(Page page) {
        DevPagemap pgmap = page == null ? null : page.pgmap();
        return pgmap != null && pgmap.isCoherent();
    }
}
