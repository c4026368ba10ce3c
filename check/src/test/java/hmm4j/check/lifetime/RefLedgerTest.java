package hmm4j.check.lifetime;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNotSame;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertTrue;

import hmm4j.check.Checkers;
import hmm4j.sim.Kernel;
import hmm4j.sim.RefHolder;
import hmm4j.sim.RunResult;
import hmm4j.sim.Task;
import hmm4j.sim.failure.Failure;
import hmm4j.sim.failure.Failure.RefcountProblem;
import hmm4j.sim.failure.Site;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * Who holds each reference, by identity: put without get, puts with another holder of the
 * same name, transfers, and leaks at the end of the run (listed by name).
 */
class RefLedgerTest {

    private static Kernel kernel() {
        Kernel k = Kernel.controlled(9);
        Checkers.install(k);
        return k;
    }

    @Test
    void put_byAHolderWithoutAGet_isReportedNamingTheHolder() {
        Kernel k = kernel();
        RefLedger users = new RefLedger(k, "mm#1 mm_users");
        RefHandle dmirror = new RefHandle("dmirror#1");
        RefHandle vhost = new RefHandle("vhost#1");
        k.spawnKthread("driver", self -> {
            users.get(dmirror);
            users.put(vhost);
        });
        RunResult r = k.run();
        Failure.RefcountError e = assertInstanceOf(Failure.RefcountError.class, r.firstFailure().orElseThrow());
        assertEquals("mm#1 mm_users", e.object());
        assertEquals(RefcountProblem.PUT_WITHOUT_GET, e.problem());
        assertTrue(e.detail().startsWith("put by vhost#1 at driver @ step "), e.detail());
        assertTrue(e.detail().contains("outstanding: dmirror#1 (get at driver @ step "), e.detail());
        assertEquals("driver", e.site().task());
        assertTrue(e.site().where().startsWith("RefLedgerTest.lambda$"), e.site().toString());
    }

    @Test
    void aDoublePut_citesTheFirstPut() {
        Kernel k = kernel();
        RefLedger users = new RefLedger(k, "mm#1 mm_users");
        RefHandle device = new RefHandle("device");
        k.spawnKthread("driver", self -> {
            users.get(device);
            users.put(device);
            users.put(device);
        });
        Failure.RefcountError e = assertInstanceOf(Failure.RefcountError.class, k.run().firstFailure().orElseThrow());
        assertEquals(RefcountProblem.PUT_WITHOUT_GET, e.problem());
        assertTrue(e.detail().contains("; its last reference was already put at driver @ step "), e.detail());
        String first = e.detail().substring(e.detail().indexOf("already put at "));
        assertTrue(first.contains("RefLedgerTest.lambda$"), "the first put's frames: " + first);
    }

    @Test
    void put_withAnotherHandleOfTheSameName_isAPutWithoutGet_andLeavesTheReference() {
        Kernel k = kernel();
        RefLedger count = new RefLedger(k, "mm#1 mm_count");
        RefHandle device = new RefHandle("device");
        RefHandle impostor = new RefHandle("device");
        k.spawnKthread("driver", self -> {
            count.get(device);
            count.put(impostor);
        });
        Failure.RefcountError e = assertInstanceOf(Failure.RefcountError.class, k.run().firstFailure().orElseThrow());
        assertEquals(RefcountProblem.PUT_WITHOUT_GET, e.problem());
        assertTrue(e.detail().startsWith("put by device at driver @ step "), e.detail());
        assertTrue(e.detail().contains("outstanding: device (get at driver @ step "), e.detail());
        assertTrue(count.holds(device));
        assertFalse(count.holds(impostor), "a holder is known by identity, not by its name");
        assertEquals(1, count.count());
    }

    @Test
    void balancedGetsAndPuts_byTasks_areClean_andTheLedgerEmpties() {
        Kernel k = kernel();
        RefLedger users = new RefLedger(k, "mm_users");
        users.checkBalancedAtQuiescence();
        for (String name : List.of("a", "b")) {
            k.spawnKthread(name, self -> {
                users.get(self);
                users.get(self);
                users.put(self);
                users.put(self);
            });
        }
        assertTrue(k.run().clean());
        assertEquals(0, users.count());
        assertTrue(users.outstanding().isEmpty());
    }

    @Test
    void twoTasksWithOneName_areTwoHolders() {
        Kernel k = kernel();
        RefLedger users = new RefLedger(k, "mm#1 mm_users");
        Task first = k.spawnKthread("worker", self -> users.get(self));
        Task second = k.spawnKthread("worker", self -> {
            first.join();
            assertTrue(users.holds(first));
            assertFalse(users.holds(self), "the other worker's reference is not this one's");
            users.put(self);
        });
        assertNotSame(first, second);
        Failure.RefcountError e = assertInstanceOf(Failure.RefcountError.class, k.run().firstFailure().orElseThrow());
        assertEquals(RefcountProblem.PUT_WITHOUT_GET, e.problem());
        assertTrue(e.detail().contains("outstanding: worker (get at worker @ step "), e.detail());
        assertEquals(Map.of(first, users.outstanding().get(first)), users.outstanding());
    }

    @Test
    void leak_atTheEndOfTheRun_listsEveryHolderByNameInTheOrderTaken_withItsGetSite() {
        Kernel k = kernel();
        RefLedger users = new RefLedger(k, "mm#1 mm_users");
        users.checkBalancedAtQuiescence();
        RefHandle useMm = new RefHandle("kthread_use_mm(worker)");
        RefHandle dmirror = new RefHandle("dmirror#1");
        k.spawnKthread("worker", self -> {
            users.get(useMm);
            users.get(dmirror);
            users.get(self);
            users.put(useMm);
        });
        RunResult r = k.run();
        assertEquals(1, r.failures().size(), r.failures().toString());
        Failure.RefcountError e = assertInstanceOf(Failure.RefcountError.class, r.failures().get(0));
        assertEquals(RefcountProblem.LEAK, e.problem());
        assertTrue(e.detail().startsWith("2 reference(s) never put: dmirror#1 (get at worker @ step "), e.detail());
        assertTrue(e.detail().contains(", worker (get at worker @ step "), e.detail());
        assertTrue(e.detail().contains("RefLedgerTest.lambda$"), e.detail());
        assertFalse(e.detail().contains("kthread_use_mm"), e.detail());
        assertEquals("<end of run>", e.site().task());
        assertEquals(List.of("dmirror#1", "worker"), users.holderNames());
    }

    @Test
    void transfer_toATaskByIdentity_movesTheReferenceWithItsGetSite() {
        Kernel k = kernel();
        RefLedger ledger = new RefLedger(k, "obj");
        ledger.checkBalancedAtQuiescence();
        RefHandle creator = new RefHandle("creator");
        Site site = new Site("setup", 0, List.of("Setup.alloc(Setup.java:1)"));
        ledger.get(creator, site);
        Task owner = k.spawnKthread("owner", self -> ledger.put(self));
        Task namesake = k.spawnKthread("owner", self -> assertFalse(ledger.holds(self)));
        ledger.transfer(creator, owner);
        assertFalse(ledger.holds(creator));
        assertTrue(ledger.holds(owner));
        assertFalse(ledger.holds(namesake), "the transfer named the task, not its name");
        Map<RefHolder, List<Site>> refs = ledger.outstanding();
        assertEquals(1, refs.size());
        assertSame(owner, refs.keySet().iterator().next());
        assertEquals(List.of(site), refs.get(owner));
        assertTrue(k.run().clean());
        assertEquals(0, ledger.count());
    }

    @Test
    void transfer_fromAHolderWithNoReference_isAPutWithoutGet() {
        Kernel k = kernel();
        RefLedger ledger = new RefLedger(k, "obj");
        RefHandle nobody = new RefHandle("nobody");
        RefHandle owner = new RefHandle("owner");
        k.spawnKthread("t", self -> ledger.transfer(nobody, owner));
        Failure.RefcountError e = assertInstanceOf(Failure.RefcountError.class,
                k.run().firstFailure().orElseThrow());
        assertEquals(RefcountProblem.PUT_WITHOUT_GET, e.problem());
        assertTrue(e.detail().startsWith("transfer from nobody to owner"), e.detail());
        assertFalse(ledger.holds(owner));
    }

    @Test
    void currentHolder_isTheTask_orOneMainContextHandlePerKernel() {
        Kernel k = kernel();
        RefHandle main = RefHandle.mainContext(k);
        assertSame(main, RefHandle.current(k));
        assertEquals("<main>", main.name());
        assertNotSame(main, RefHandle.mainContext(kernel()), "one per kernel");
        k.spawnKthread("t", self -> assertSame(self, RefHandle.current(k)));
        assertTrue(k.run().clean());
    }
}
