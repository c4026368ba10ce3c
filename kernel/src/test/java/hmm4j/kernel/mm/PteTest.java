package hmm4j.kernel.mm;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import java.util.function.LongPredicate;
import org.junit.jupiter.api.Test;

class PteTest {

    private static final long BIG_PFN = (1L << 40) + 12345;

    @Test
    void geometry_matchesX86FourLevel() {
        assertEquals(4096, Pte.PAGE_SIZE);
        assertEquals(0xFFFF_FFFF_FFFF_F000L, Pte.PAGE_MASK);
        assertEquals(Pte.PAGE_SIZE * Pte.PTRS_PER_TABLE, Pte.PMD_SIZE);
        assertEquals(Pte.PMD_SIZE * Pte.PTRS_PER_TABLE, Pte.PUD_SIZE);
        assertEquals(Pte.PUD_SIZE * Pte.PTRS_PER_TABLE, Pte.PGDIR_SIZE);
        assertEquals(0x8000_0000_0000L, Pte.TASK_SIZE);
        long addr = (3L << Pte.PGDIR_SHIFT) | (5L << Pte.PUD_SHIFT) | (7L << Pte.PMD_SHIFT) | (9L << Pte.PAGE_SHIFT) | 0x123;
        assertEquals(3, Pte.pgdIndex(addr));
        assertEquals(5, Pte.pudIndex(addr));
        assertEquals(7, Pte.pmdIndex(addr));
        assertEquals(9, Pte.pteIndex(addr));
        assertEquals(255, Pte.pgdIndex(Pte.TASK_SIZE - 1));
        assertEquals(511, Pte.pteIndex(Pte.TASK_SIZE - 1));
        assertEquals(0x2000, Pte.pageAlign(0x1001));
        assertEquals(0x1000, Pte.pageAlign(0x1000));
        assertTrue(Pte.isPageAligned(0x5000));
        assertFalse(Pte.isPageAligned(0x5008));
    }

    @Test
    void none_isZeroAndNothingElse() {
        assertTrue(Pte.isNone(0));
        assertFalse(Pte.isPresent(0));
        assertFalse(Pte.isSwapPte(0));
        assertEquals(Pte.Type.NONE, Pte.type(0));
        assertEquals("none", Pte.toString(0));
    }

    @Test
    void present_roundTripsPfnAndWrite() {
        for (long pfn : new long[] {0, 2, 0x1234, BIG_PFN, Pte.MAX_PFN}) {
            for (boolean write : new boolean[] {false, true}) {
                long pte = Pte.mkPresent(pfn, write);
                assertNotEquals(0, pte);
                assertTrue(Pte.isPresent(pte));
                assertTrue(Pte.hasPfn(pte));
                assertEquals(pfn, Pte.pfn(pte));
                assertEquals(write, Pte.isWrite(pte));
                assertFalse(Pte.isDirty(pte));
                assertFalse(Pte.isYoung(pte));
                assertFalse(Pte.isSpecial(pte));
                assertFalse(Pte.isProtNone(pte));
                assertFalse(Pte.isHuge(pte));
                assertEquals(Pte.Type.PRESENT, Pte.type(pte));
            }
        }
    }

    @Test
    void flagHelpers_changeOnlyTheirBit() {
        long pte = Pte.mkPresent(BIG_PFN, false);
        long all = Pte.mkYoung(Pte.mkDirty(Pte.mkWrite(pte)));
        assertTrue(Pte.isWrite(all) && Pte.isDirty(all) && Pte.isYoung(all));
        assertEquals(BIG_PFN, Pte.pfn(all));
        assertTrue(Pte.isPresent(all));
        long ro = Pte.wrprotect(all);
        assertFalse(Pte.isWrite(ro));
        assertTrue(Pte.isDirty(ro) && Pte.isYoung(ro));
        assertFalse(Pte.isDirty(Pte.mkClean(all)));
        assertFalse(Pte.isYoung(Pte.mkOld(all)));
        assertEquals(pte, Pte.mkOld(Pte.mkClean(Pte.wrprotect(all))));
        assertTrue(Pte.isSpecial(Pte.mkSpecial(pte)));
    }

    @Test
    void protNone_staysPresentButIsInaccessible() {
        long pte = Pte.mkProtNone(Pte.mkPresent(42, true));
        assertTrue(Pte.isPresent(pte));
        assertTrue(Pte.isProtNone(pte));
        assertEquals(42, Pte.pfn(pte));
        long back = Pte.clearProtNone(pte);
        assertFalse(Pte.isProtNone(back));
        assertEquals(Pte.mkPresent(42, true), back);
        assertTrue(Pte.toString(pte).contains("PROTNONE"));
    }

    @Test
    void zeroPage_isPresentSpecialReadOnly() {
        long z = Pte.mkZero();
        assertTrue(Pte.isPresent(z));
        assertTrue(Pte.isZero(z));
        assertTrue(Pte.isSpecial(z));
        assertFalse(Pte.isWrite(z));
        assertEquals(PhysMem.ZERO_PFN, Pte.pfn(z));
        assertFalse(Pte.isZero(Pte.mkPresent(PhysMem.FIRST_PFN, false)));
        assertFalse(Pte.isZero(Pte.mkMigration(PhysMem.ZERO_PFN, false)));
        assertTrue(Pte.toString(z).startsWith("zero"));
    }

    @Test
    void swap_roundTripsOffset() {
        for (long off : new long[] {1, 77, BIG_PFN, Pte.MAX_PFN}) {
            long pte = Pte.mkSwap(off);
            assertTrue(Pte.isSwap(pte));
            assertTrue(Pte.isSwapPte(pte));
            assertFalse(Pte.isPresent(pte));
            assertFalse(Pte.hasPfn(pte));
            assertEquals(off, Pte.swapOffset(pte));
            assertEquals(Pte.Type.SWAP, Pte.type(pte));
        }
        assertEquals("swap off=0x4d", Pte.toString(Pte.mkSwap(77)));
    }

    @Test
    void pfnCarryingNonPresentEntries_roundTripPfnAndWrite() {
        record Kind(Pte.Type type, java.util.function.BiFunction<Long, Boolean, Long> make, LongPredicate is) {
        }
        List<Kind> kinds = List.of(
                new Kind(Pte.Type.MIGRATION, Pte::mkMigration, Pte::isMigration),
                new Kind(Pte.Type.DEVICE_PRIVATE, Pte::mkDevicePrivate, Pte::isDevicePrivate),
                new Kind(Pte.Type.DEVICE_EXCLUSIVE, Pte::mkDeviceExclusive, Pte::isDeviceExclusive));
        for (Kind k : kinds) {
            for (boolean write : new boolean[] {false, true}) {
                long pte = k.make().apply(BIG_PFN, write);
                assertTrue(k.is().test(pte), k.type().toString());
                assertFalse(Pte.isPresent(pte));
                assertFalse(Pte.isSwap(pte));
                assertTrue(Pte.isSwapPte(pte));
                assertTrue(Pte.hasPfn(pte));
                assertEquals(BIG_PFN, Pte.pfn(pte));
                assertEquals(write, Pte.isWrite(pte));
                assertEquals(k.type(), Pte.type(pte));
            }
        }
    }

    @Test
    void everyType_isRecognisedByExactlyOnePredicate() {
        long[] entries = {
            0, Pte.mkPresent(9, true), Pte.mkZero(), Pte.mkSwap(9), Pte.mkMigration(9, true),
            Pte.mkDevicePrivate(9, true), Pte.mkDeviceExclusive(9, true),
        };
        List<LongPredicate> predicates = List.of(Pte::isNone, Pte::isPresent, Pte::isSwap, Pte::isMigration,
                Pte::isDevicePrivate, Pte::isDeviceExclusive);
        for (long e : entries) {
            long matches = predicates.stream().filter(p -> p.test(e)).count();
            assertEquals(1, matches, Pte.toString(e));
        }
        // Same pfn and write bit, different kinds: all distinct values.
        assertEquals(entries.length, java.util.Arrays.stream(entries).distinct().count());
    }

    @Test
    void outOfRangePfn_isRejected() {
        assertThrows(IllegalArgumentException.class, () -> Pte.mkPresent(-1, false));
        assertThrows(IllegalArgumentException.class, () -> Pte.mkSwap(Pte.MAX_PFN + 1));
        assertThrows(IllegalArgumentException.class, () -> Pte.mkDevicePrivate(Long.MIN_VALUE, true));
    }

    @Test
    void malformedEntry_isRejectedByType() {
        assertThrows(IllegalArgumentException.class, () -> Pte.type(Pte.WRITE));
        assertThrows(IllegalArgumentException.class, () -> Pte.type(7));
        assertTrue(Pte.toString(6).startsWith("malformed"));
    }

    @Test
    void toString_namesKindPfnAndFlags() {
        long pte = Pte.mkYoung(Pte.mkDirty(Pte.mkPresent(0x2a, true)));
        assertEquals("present pfn=0x2a W D Y", Pte.toString(pte));
        assertEquals("migration pfn=0x2a", Pte.toString(Pte.mkMigration(0x2a, false)));
        assertEquals("device-private pfn=0x2a W", Pte.toString(Pte.mkDevicePrivate(0x2a, true)));
        assertEquals("device-exclusive pfn=0x2a", Pte.toString(Pte.mkDeviceExclusive(0x2a, false)));
    }
}
