package hmm4j.kernel.mm.migrate;

import static hmm4j.kernel.mm.lifetime.Runs.assertClean;
import static hmm4j.kernel.mm.lifetime.Runs.checkedKernel;
import static hmm4j.kernel.mm.migrate.MigrateHarness.PAGE;
import static hmm4j.kernel.mm.migrate.MigrateHarness.RW;
import static hmm4j.kernel.mm.migrate.MigrateHarness.assertNoLeak;
import static hmm4j.kernel.mm.migrate.MigrateHarness.check;
import static hmm4j.kernel.mm.migrate.MigrateHarness.fill;
import static hmm4j.kernel.mm.migrate.MigrateHarness.inProcess;
import static hmm4j.kernel.mm.migrate.MigrateHarness.mapAnon;
import static hmm4j.kernel.mm.migrate.MigrateHarness.pageAt;
import static hmm4j.kernel.mm.migrate.MigrateHarness.pte;
import static hmm4j.kernel.mm.migrate.MigrateHarness.readInt;
import static hmm4j.kernel.mm.migrate.MigrateHarness.writeInt;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertTrue;

import hmm4j.kernel.mm.ErrPtr;
import hmm4j.kernel.mm.Errno;
import hmm4j.kernel.mm.MmStruct;
import hmm4j.kernel.mm.Page;
import hmm4j.kernel.mm.PhysMem;
import hmm4j.kernel.mm.Pte;
import hmm4j.kernel.sched.Process;
import hmm4j.sim.Kernel;
import hmm4j.sim.Task;
import hmm4j.sim.sync.Completion;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;

/**
 * Device memory across fork and exit: device-private pages shared copy-on-write (the kernel's
 * {@code copy_nonpresent_pte}), migrated back for both address spaces at once through the
 * device rmap; device-exclusive entries restored before the copy; ordinary pages mapped twice
 * staying put; eviction of a chunk mapped in two address spaces; and exits that give every
 * page back.
 */
class DeviceForkExitTest {

    @Test
    void fork_sharesDevicePagesReadOnly_andEachSideSeesOnlyItsOwnWrites() {
        AtomicBoolean childDone = new AtomicBoolean();
        MigrateHarness.Run run = inProcess(21, 8, (k, self, mm, dev, rec) -> {
            long a = mapAnon(mm, 2, RW);
            fill(k, a, 2, 1);
            assertEquals(2, dev.migrateToDevice(mm, a, 2, null));
            Page d0 = pageAt(k, mm, a);
            Completion forked = new Completion(k, "forked");
            Completion parentWrote = new Completion(k, "parent wrote");
            Completion childWrote = new Completion(k, "child wrote");

            Task child = Process.fork(self, "child", c -> {
                MmStruct cm = MmStruct.of(c);
                forked.waitForCompletion();
                long e = pte(cm, a);
                assertTrue(Pte.isDevicePrivate(e) && !Pte.isWrite(e), "read-only in the child: " + Pte.toString(e));
                parentWrote.waitForCompletion();
                long moved = pte(cm, a);
                assertTrue(Pte.isPresent(moved) && !Pte.isWrite(moved),
                        "the parent's fault moved the child's mapping too: " + Pte.toString(moved));
                assertEquals(1000, readInt(k, a), "the parent's write is not seen");
                assertTrue(Pte.isDevicePrivate(pte(cm, a + PAGE)));
                writeInt(k, a + PAGE, 2222);
                assertTrue(Pte.isPresent(pte(cm, a + PAGE)) && Pte.isWrite(pte(cm, a + PAGE)));
                assertEquals(-1001, readInt(k, a + 2 * PAGE - 4));
                childWrote.complete();
                childDone.set(true);
            });

            long e = pte(mm, a);
            assertTrue(Pte.isDevicePrivate(e) && !Pte.isWrite(e), "read-only in the parent: " + Pte.toString(e));
            assertEquals(2, d0.refcount(), "one reference per mapping");
            assertEquals(2, d0.mapcount());
            assertEquals(2, dev.pgmap().rmapDescribe(d0).size(), dev.pgmap().rmapDescribe(d0).toString());
            forked.complete();

            writeInt(k, a, 1111);
            assertEquals(1, dev.faultsToRam());
            assertTrue(Pte.isPresent(pte(mm, a)) && Pte.isWrite(pte(mm, a)));
            assertEquals(Page.State.DEVICE_IDLE, d0.state(), "migrated for both mms, then freed");
            parentWrote.complete();
            childWrote.waitForCompletion();
            assertEquals(1111, readInt(k, a));
            assertEquals(1001, readInt(k, a + PAGE), "the child's write is not seen");
            child.join();
            assertEquals(0, dev.pgmap().pagesInUse());
        });
        assertTrue(childDone.get(), "the child ran to its end");
        assertNoLeak(run);
    }

    @Test
    void fork_restoresADeviceExclusiveEntryBeforeCopyingIt() {
        AtomicBoolean childDone = new AtomicBoolean();
        MigrateHarness.Run run = inProcess(22, 4, (k, self, mm, dev, rec) -> {
            long a = mapAnon(mm, 1, RW);
            fill(k, a, 1, 2);
            mm.mmapReadLock();
            ErrPtr<Page> got = DeviceExclusive.makeDeviceExclusive(mm, a, MigrateHarness.GPU);
            mm.mmapReadUnlock();
            Page p = got.get();
            p.unlock();
            p.put();
            rec.clear();
            Completion checked = new Completion(k, "checked");
            Task child = Process.fork(self, "child", c -> {
                checked.waitForCompletion();
                long e = pte(MmStruct.of(c), a);
                assertTrue(Pte.isPresent(e) && !Pte.isWrite(e) && Pte.pfn(e) == p.pfn(), Pte.toString(e));
                check(k, a, 1, 2);
                childDone.set(true);
            });
            long e = pte(mm, a);
            assertTrue(Pte.isPresent(e) && !Pte.isWrite(e) && Pte.pfn(e) == p.pfn(),
                    "restored, then write-protected for COW: " + Pte.toString(e));
            assertEquals(2, p.mapcount());
            assertEquals(2, p.refcount());
            assertTrue(rec.events().stream().anyMatch(l -> l.startsWith("MMU_NOTIFY_PROTECTION_PAGE [" + Long.toHexString(a))),
                    "the fork's invalidation tells the device: " + rec.events());
            checked.complete();
            child.join();
            writeInt(k, a, 7);
            assertEquals(7, readInt(k, a));
        });
        assertTrue(childDone.get());
        assertNoLeak(run);
    }

    /**
     * The kernel's {@code try_restore_exclusive_pte} only trylocks the page; when another task
     * holds the lock, {@code copy_pte_range} stops with {@code -EBUSY}, {@code copy_pmd_range}
     * makes it {@code -ENOMEM} and the fork fails, its partial copy released. Once the lock is
     * free, the same fork succeeds.
     */
    @Test
    void fork_failsWithEnomem_whenADeviceExclusivePageIsLockedByAnotherTask() {
        AtomicBoolean childDone = new AtomicBoolean();
        MigrateHarness.Run run = inProcess(37, 4, (k, self, mm, dev, rec) -> {
            long a = mapAnon(mm, 2, RW);
            fill(k, a, 2, 4);
            Page first = pageAt(k, mm, a);
            mm.mmapReadLock();
            Page p = DeviceExclusive.makeDeviceExclusive(mm, a + PAGE, MigrateHarness.GPU).get();
            mm.mmapReadUnlock();
            p.unlock();
            Completion locked = new Completion(k, "locked");
            Completion forkTried = new Completion(k, "fork tried");
            Task locker = k.spawnKthread("locker", t -> {
                p.lock();
                locked.complete();
                forkTried.waitForCompletion();
                p.unlock();
            });
            locked.waitForCompletion();
            ErrPtr<Task> failed = Process.tryFork(self, "child", c -> {
                throw new AssertionError("no child may run");
            });
            assertTrue(failed.isErr(), failed.toString());
            assertEquals(-Errno.ENOMEM, failed.ptrErr());
            assertTrue(Pte.isDeviceExclusive(pte(mm, a + PAGE)), "left exclusive: " + Pte.toString(pte(mm, a + PAGE)));
            assertEquals(1, first.mapcount(), "the child's copy of the page before it was released");
            assertEquals(1, first.refcount());
            assertEquals(1, p.mapcount());
            assertEquals(2, p.refcount(), "the mapping's and ours");
            forkTried.complete();
            locker.join();

            Task child = Process.fork(self, "child", c -> {
                check(k, a, 2, 4);
                childDone.set(true);
            });
            child.join();
            assertTrue(Pte.isPresent(pte(mm, a + PAGE)), Pte.toString(pte(mm, a + PAGE)));
            p.put();
        });
        assertTrue(childDone.get());
        assertNoLeak(run);
    }

    @Test
    void anOrdinaryPageMappedInTwoMms_isNotMigrated_andStaysIntact() {
        MigrateHarness.Run run = inProcess(23, 4, (k, self, mm, dev, rec) -> {
            long a = mapAnon(mm, 2, RW);
            fill(k, a, 2, 3);
            Completion done = new Completion(k, "parent done");
            Task child = Process.fork(self, "child", c -> {
                done.waitForCompletion();
                check(k, a, 2, 3);
            });
            assertEquals(0, dev.migrateToDevice(mm, a, 2, null), "no rmap for ordinary pages: they stay");
            for (int i = 0; i < 2; i++) {
                long e = pte(mm, a + i * PAGE);
                assertTrue(Pte.isPresent(e) && !Pte.isWrite(e), Pte.toString(e));
                assertEquals(2, pageAt(k, mm, a + i * PAGE).mapcount());
                assertFalse(pageAt(k, mm, a + i * PAGE).isLocked());
            }
            check(k, a, 2, 3);
            done.complete();
            child.join();
            assertEquals(2, dev.migrateToDevice(mm, a, 2, null), "mapped once again: it migrates");
        });
        assertNoLeak(run);
    }

    @Test
    void evictingAChunk_bringsItsPagesBackForEveryAddressSpace_thenTheChunkCanBeUnmapped() {
        AtomicBoolean childDone = new AtomicBoolean();
        MigrateHarness.Run run = inProcess(24, 8, (k, self, mm, dev, rec) -> {
            long a = mapAnon(mm, 3, RW);
            fill(k, a, 3, 4);
            assertEquals(3, dev.migrateToDevice(mm, a, 3, null));
            Completion evicted = new Completion(k, "evicted");
            Task child = Process.fork(self, "child", c -> {
                evicted.waitForCompletion();
                MmStruct cm = MmStruct.of(c);
                for (int i = 0; i < 3; i++) {
                    assertTrue(Pte.isPresent(pte(cm, a + i * PAGE)), "evicted in the child too");
                }
                check(k, a, 3, 4);
                childDone.set(true);
            });
            Page first = pageAt(k, mm, a);
            assertEquals(3, dev.evictAll());
            assertEquals(0, dev.pgmap().pagesInUse());
            assertNotEquals(first, pageAt(k, mm, a));
            assertEquals(2, pageAt(k, mm, a).mapcount(), "one system page, mapped by both");
            evicted.complete();
            dev.pgmap().memunmapPages();
            assertSame(DevPagemap.State.DEAD, dev.pgmap().state());
            check(k, a, 3, 4);
            child.join();
        });
        assertTrue(childDone.get());
        assertEquals(0, run.dev().pgmap().pagesInUse());
        assertEquals(0, PhysMem.of(run.k()).usedPages());
        assertEquals(0, PhysMem.of(run.k()).devicePrivatePages());
    }

    @Test
    void exit_withDevicePagesMappedInTwoMms_givesEveryPageBack() {
        MigrateHarness.Run run = inProcess(25, 8, (k, self, mm, dev, rec) -> {
            long a = mapAnon(mm, 4, RW);
            fill(k, a, 4, 5);
            assertEquals(4, dev.migrateToDevice(mm, a, 4, null));
            long x = mapAnon(mm, 1, RW);
            mm.mmapReadLock();
            Page locked = DeviceExclusive.makeDeviceExclusive(mm, x, MigrateHarness.GPU).get();
            mm.mmapReadUnlock();
            locked.unlock();
            locked.put();
            Process.fork(self, "child", c -> assertTrue(Pte.isDevicePrivate(pte(MmStruct.of(c), a))));
            assertEquals(4, dev.pgmap().pagesInUse());
        });
        assertEquals(4, run.dev().pagesFreed(), "page_free for every device page, from the zaps");
        assertNoLeak(run);
    }

    @Test
    void memunmapPages_waitsUntilTheLastMappedDevicePageIsFreedByTheExit() {
        int waited = 0;
        for (long seed = 26; seed < 36; seed++) {
            Kernel k = checkedKernel(seed);
            TestDevice[] dev = new TestDevice[1];
            AtomicInteger inUseAtEntry = new AtomicInteger(-1);
            AtomicBoolean unmapped = new AtomicBoolean();
            MigrateHarness.spawn(k, 4, dev, (kk, self, mm, d, rec) -> {
                long a = mapAnon(mm, 2, RW);
                fill(kk, a, 2, 6);
                assertEquals(2, d.migrateToDevice(mm, a, 2, null));
                kk.spawnKthread("unmapper", t -> {
                    inUseAtEntry.set(d.pgmap().pagesInUse());
                    d.pgmap().memunmapPages();
                    unmapped.set(true);
                });
            });
            assertClean(k.run());
            assertTrue(unmapped.get(), "seed " + seed);
            assertSame(DevPagemap.State.DEAD, dev[0].pgmap().state());
            assertEquals(2, dev[0].pagesFreed(), "freed by the exit's zap");
            assertEquals(0, PhysMem.of(k).devicePrivatePages());
            assertEquals(0, PhysMem.of(k).usedPages());
            waited += inUseAtEntry.get() > 0 ? 1 : 0;
        }
        assertTrue(waited > 0, "no seed called memunmap_pages while pages were still mapped");
    }
}
