package hmm4j.kernel.mm;

import static hmm4j.kernel.mm.Pte.PAGE_SIZE;
import static hmm4j.kernel.mm.Pte.PGDIR_SIZE;
import static hmm4j.kernel.mm.Pte.PMD_SIZE;
import static hmm4j.kernel.mm.Pte.PUD_SIZE;
import static hmm4j.kernel.mm.Pte.TASK_SIZE;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTimeoutPreemptively;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

class PageTableTest {

    /** Addresses on either side of every level boundary, plus both ends of user space. */
    private static final long[] EDGES = {
        0, PAGE_SIZE, PMD_SIZE - PAGE_SIZE, PMD_SIZE, PUD_SIZE - PAGE_SIZE, PUD_SIZE,
        PGDIR_SIZE - PAGE_SIZE, PGDIR_SIZE, 5 * PGDIR_SIZE + 3 * PUD_SIZE + 7 * PMD_SIZE + 11 * PAGE_SIZE,
        TASK_SIZE - PMD_SIZE, TASK_SIZE - PAGE_SIZE,
    };

    private static long entryFor(long addr) {
        return Pte.mkPresent(100 + (addr >>> Pte.PAGE_SHIFT), true);
    }

    @Test
    void empty_hasOnlyThePgd() {
        PageTable pt = new PageTable();
        assertEquals(0, pt.get(0));
        assertEquals(0, pt.get(TASK_SIZE - PAGE_SIZE));
        assertEquals(1, pt.tableCount());
        assertFalse(pt.hasTablesBelowPgd());
        assertEquals(0, pt.entryCount());
        assertNull(pt.pteTableOrNull(0));
    }

    @Test
    void setGet_acrossLevelBoundariesAndAtBothEnds() {
        PageTable pt = new PageTable();
        for (long a : EDGES) {
            pt.set(a, entryFor(a));
        }
        for (long a : EDGES) {
            assertEquals(entryFor(a), pt.get(a), Long.toHexString(a));
            assertEquals(entryFor(a), pt.get(a + 0xfff), "offset within the page is ignored");
        }
        // Neighbours of the set pages stay none.
        assertEquals(0, pt.get(2 * PAGE_SIZE));
        assertEquals(0, pt.get(PMD_SIZE + PAGE_SIZE));
        assertEquals(0, pt.get(TASK_SIZE - 2 * PAGE_SIZE));
        assertEquals(EDGES.length, pt.entryCount());
        assertTrue(pt.hasTablesBelowPgd());
    }

    @Test
    void set_allocatesOneTablePerMissingLevel() {
        PageTable pt = new PageTable();
        pt.set(0, entryFor(0));
        assertEquals(4, pt.tableCount());
        pt.set(PAGE_SIZE, entryFor(PAGE_SIZE));
        assertEquals(4, pt.tableCount(), "same PTE table");
        pt.set(PMD_SIZE, entryFor(PMD_SIZE));
        assertEquals(5, pt.tableCount(), "new PTE table only");
        pt.set(PUD_SIZE, entryFor(PUD_SIZE));
        assertEquals(7, pt.tableCount(), "new PMD and PTE tables");
        pt.set(PGDIR_SIZE, entryFor(PGDIR_SIZE));
        assertEquals(10, pt.tableCount(), "new PUD, PMD and PTE tables");
        assertEquals(4, pt.pteTableCount());
    }

    @Test
    void settingNone_whereNothingIsMapped_allocatesNothing() {
        PageTable pt = new PageTable();
        pt.set(PUD_SIZE, 0);
        assertEquals(1, pt.tableCount());
        pt.set(PUD_SIZE, entryFor(PUD_SIZE));
        pt.set(PUD_SIZE, 0);
        assertEquals(0, pt.entryCount());
        assertEquals(4, pt.tableCount(), "tables stay until freeTables");
    }

    @Test
    void getAndClear_returnsOldEntry() {
        PageTable pt = new PageTable();
        long a = 3 * PUD_SIZE + 5 * PAGE_SIZE;
        pt.set(a, entryFor(a));
        assertEquals(entryFor(a), pt.getAndClear(a));
        assertEquals(0, pt.get(a));
        assertEquals(0, pt.getAndClear(a));
        assertEquals(0, pt.getAndClear(7 * PGDIR_SIZE), "absent tables");
        assertEquals(0, pt.entryCount());
    }

    @Test
    void nonUserAddresses_areRejected() {
        PageTable pt = new PageTable();
        assertThrows(IllegalArgumentException.class, () -> pt.get(TASK_SIZE));
        assertThrows(IllegalArgumentException.class, () -> pt.set(-PAGE_SIZE, 1));
        assertThrows(IllegalArgumentException.class, () -> pt.forEach(0, TASK_SIZE + PAGE_SIZE, (a, e) -> true));
        assertThrows(IllegalArgumentException.class, () -> pt.clearRange(PAGE_SIZE, 0));
        assertThrows(IllegalArgumentException.class, () -> pt.freeTables(1, PAGE_SIZE));
    }

    @Test
    void forEach_visitsExactlyTheNonNoneEntriesInOrder() {
        PageTable pt = new PageTable();
        List<Long> expected = new ArrayList<>();
        for (long a : EDGES) {
            pt.set(a, entryFor(a));
            expected.add(a);
        }
        long swapAt = 2 * PUD_SIZE;
        pt.set(swapAt, Pte.mkSwap(3));
        expected.add(swapAt);
        expected.sort(null);
        List<Long> seen = new ArrayList<>();
        assertTrue(pt.forEach(0, TASK_SIZE, (addr, pte) -> {
            seen.add(addr);
            assertEquals(pt.get(addr), pte);
            return true;
        }));
        assertEquals(expected, seen);
    }

    @Test
    void forEach_respectsRangeBoundsWithinATable() {
        PageTable pt = new PageTable();
        for (int i = 0; i < 16; i++) {
            pt.set(PMD_SIZE + i * PAGE_SIZE, entryFor(i));
        }
        List<Long> seen = new ArrayList<>();
        pt.forEach(PMD_SIZE + 4 * PAGE_SIZE, PMD_SIZE + 8 * PAGE_SIZE, (addr, pte) -> seen.add(addr));
        assertEquals(List.of(PMD_SIZE + 4 * PAGE_SIZE, PMD_SIZE + 5 * PAGE_SIZE, PMD_SIZE + 6 * PAGE_SIZE,
                PMD_SIZE + 7 * PAGE_SIZE), seen);
        assertTrue(pt.forEach(PAGE_SIZE, PAGE_SIZE, (addr, pte) -> false), "empty range visits nothing");
    }

    @Test
    void forEach_stopsWhenTheVisitorSaysSo() {
        PageTable pt = new PageTable();
        for (int i = 0; i < 10; i++) {
            pt.set(i * PMD_SIZE, entryFor(i));
        }
        List<Long> seen = new ArrayList<>();
        boolean completed = pt.forEach(0, TASK_SIZE, (addr, pte) -> {
            seen.add(addr);
            return seen.size() < 3;
        });
        assertFalse(completed);
        assertEquals(List.of(0L, PMD_SIZE, 2 * PMD_SIZE), seen);
    }

    @Test
    void forEach_overTheWholeSparseSpace_skipsAbsentTables() {
        // 2^35 pages: a per-page walk would not finish; a table-skipping walk is instant.
        PageTable pt = new PageTable();
        pt.set(0, entryFor(0));
        pt.set(TASK_SIZE - PAGE_SIZE, entryFor(TASK_SIZE - PAGE_SIZE));
        long[] visits = new long[1];
        assertTimeoutPreemptively(Duration.ofSeconds(10), () -> {
            for (int round = 0; round < 100; round++) {
                pt.forEach(0, TASK_SIZE, (addr, pte) -> ++visits[0] > 0);
            }
        });
        assertEquals(200, visits[0]);
    }

    @Test
    void clearRange_clearsOnlyTheRangeAndKeepsTables() {
        PageTable pt = new PageTable();
        for (int i = 0; i < 1024; i++) {
            pt.set(PMD_SIZE - 512 * PAGE_SIZE + i * PAGE_SIZE, Pte.mkSwap(i + 1));
        }
        long tables = pt.tableCount();
        long cleared = pt.clearRange(PMD_SIZE - 10 * PAGE_SIZE, PMD_SIZE + 10 * PAGE_SIZE);
        assertEquals(20, cleared);
        assertEquals(1004, pt.entryCount());
        assertEquals(0, pt.get(PMD_SIZE - PAGE_SIZE));
        assertEquals(0, pt.get(PMD_SIZE + 9 * PAGE_SIZE));
        assertEquals(Pte.mkSwap(502), pt.get(PMD_SIZE - 11 * PAGE_SIZE));
        assertEquals(tables, pt.tableCount());
        assertEquals(1004, pt.clearRange(0, TASK_SIZE));
    }

    @Test
    void freeTables_freesWhatTheRangeWhollyCovers() {
        PageTable pt = new PageTable();
        pt.set(0, entryFor(0));
        pt.set(PMD_SIZE, entryFor(PMD_SIZE));
        pt.set(PGDIR_SIZE, entryFor(PGDIR_SIZE));
        assertEquals(8, pt.tableCount(), "pgd + 2 PUD + 2 PMD + 3 PTE tables");

        pt.clearRange(0, PMD_SIZE);
        pt.freeTables(PAGE_SIZE, PMD_SIZE);
        assertNotNull(pt.pteTableOrNull(0), "range does not cover the whole first PTE table");
        pt.freeTables(0, PMD_SIZE);
        assertNull(pt.pteTableOrNull(0));
        assertEquals(entryFor(PMD_SIZE), pt.get(PMD_SIZE), "neighbouring table untouched");
        assertEquals(7, pt.tableCount());

        pt.clearRange(PMD_SIZE, 2 * PMD_SIZE);
        pt.freeTables(0, PGDIR_SIZE);
        assertEquals(4, pt.tableCount(), "whole first PUD subtree gone");
        assertEquals(entryFor(PGDIR_SIZE), pt.get(PGDIR_SIZE));

        pt.clearRange(0, TASK_SIZE);
        pt.freeTables(0, TASK_SIZE);
        assertFalse(pt.hasTablesBelowPgd());
        assertEquals(1, pt.tableCount());
        assertEquals(0, pt.get(PGDIR_SIZE));
    }

    @Test
    void freeTables_refusesTablesThatStillMapSomething() {
        PageTable pt = new PageTable();
        long a = PUD_SIZE + 3 * PAGE_SIZE;
        pt.set(a, entryFor(a));
        IllegalStateException e = assertThrows(IllegalStateException.class, () -> pt.freeTables(0, TASK_SIZE));
        assertTrue(e.getMessage().contains(Long.toHexString(a)), e.getMessage());
        assertEquals(entryFor(a), pt.get(a), "the live table was not freed");
    }

    @Test
    void pteTableOrNull_exposesTheLeafArray() {
        PageTable pt = new PageTable();
        long a = 9 * PUD_SIZE + 17 * PAGE_SIZE;
        pt.set(a, entryFor(a));
        long[] table = pt.pteTableOrNull(a);
        assertNotNull(table);
        assertEquals(Pte.PTRS_PER_TABLE, table.length);
        assertEquals(entryFor(a), table[Pte.pteIndex(a)]);
        assertNull(pt.pteTableOrNull(a + PMD_SIZE));
    }

    @Test
    void denseMapping_costsAtMostTenBytesPerEntry() {
        PageTable pt = new PageTable();
        long pages = 64 * Pte.PTRS_PER_TABLE;
        for (long i = 0; i < pages; i++) {
            pt.set(PUD_SIZE + i * PAGE_SIZE, Pte.mkPresent(i + 2, true));
        }
        assertEquals(pages, pt.entryCount());
        double perEntry = (double) pt.bytesUsed() / pages;
        assertTrue(perEntry <= 10.0, "bytes per entry: " + perEntry);
        assertTrue(perEntry >= 8.0, "an entry is a long: " + perEntry);
    }

    @Test
    void entriesOfEveryType_areStoredVerbatim() {
        PageTable pt = new PageTable();
        long[] entries = {
            Pte.mkPresent(7, false), Pte.mkZero(), Pte.mkSwap(7), Pte.mkMigration(7, true),
            Pte.mkDevicePrivate(7, false), Pte.mkDeviceExclusive(7, true),
        };
        for (int i = 0; i < entries.length; i++) {
            pt.set(i * PAGE_SIZE, entries[i]);
        }
        long[] back = new long[entries.length];
        for (int i = 0; i < entries.length; i++) {
            back[i] = pt.get(i * PAGE_SIZE);
        }
        assertArrayEquals(entries, back);
    }
}
