/**
 * S6: a device-memory driver's migration to its device (mm/migrate_device.c,
 * lib/test_hmm.c's {@code dmirror_migrate_to_device}) with an error path: the device runs
 * out of pages after {@code migrate_vma_setup}. One design returns the error without
 * {@code migrate_vma_pages}/{@code migrate_vma_finalize} and leaves the collected pages
 * locked behind migration entries; the other finalizes first. Found only at the end of the
 * run, by the page and migration state checks of {@link hmm4j.kernel.mm.PageStateChecks}.
 */
package hmm4j.drivers.migrate;
