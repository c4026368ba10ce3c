package hmm4j.check.lifetime;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertTrue;

import hmm4j.check.Checkers;
import hmm4j.sim.Kernel;
import hmm4j.sim.RunResult;
import hmm4j.sim.failure.Failure;
import hmm4j.sim.failure.Failure.RefcountProblem;
import hmm4j.sim.failure.Site;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** Who holds each reference: put without get, transfers, and leaks at the end of the run. */
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
        k.spawnKthread("driver", self -> {
            users.get("dmirror#1");
            users.put("vhost#1");
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
    void balancedGetsAndPuts_areClean_andTheLedgerEmpties() {
        Kernel k = kernel();
        RefLedger users = new RefLedger(k, "mm_users");
        users.checkBalancedAtQuiescence();
        for (String holder : List.of("a", "b")) {
            k.spawnKthread(holder, self -> {
                users.get(holder);
                users.get(holder);
                users.put(holder);
                users.put(holder);
            });
        }
        assertTrue(k.run().clean());
        assertEquals(0, users.count());
        assertTrue(users.outstanding().isEmpty());
    }

    @Test
    void leak_atTheEndOfTheRun_namesEveryHolderAndItsGetSite() {
        Kernel k = kernel();
        RefLedger users = new RefLedger(k, "mm#1 mm_users");
        users.checkBalancedAtQuiescence();
        k.spawnKthread("worker", self -> {
            users.get("kthread_use_mm(worker)");
            users.get("dmirror#1");
            users.put("kthread_use_mm(worker)");
        });
        RunResult r = k.run();
        assertEquals(1, r.failures().size(), r.failures().toString());
        Failure.RefcountError e = assertInstanceOf(Failure.RefcountError.class, r.failures().get(0));
        assertEquals(RefcountProblem.LEAK, e.problem());
        assertTrue(e.detail().startsWith("1 reference(s) never put: dmirror#1 (get at worker @ step "), e.detail());
        assertTrue(e.detail().contains("RefLedgerTest.lambda$"), e.detail());
        assertFalse(e.detail().contains("kthread_use_mm"), e.detail());
        assertEquals("<end of run>", e.site().task());
    }

    @Test
    void transfer_movesTheReferenceWithItsGetSite() {
        Kernel k = kernel();
        RefLedger ledger = new RefLedger(k, "obj");
        Site site = new Site("setup", 0, List.of("Setup.alloc(Setup.java:1)"));
        ledger.get("creator", site);
        ledger.transfer("creator", "owner");
        assertFalse(ledger.holds("creator"));
        assertTrue(ledger.holds("owner"));
        assertEquals(Map.of("owner", List.of(site)), ledger.outstanding());
        k.spawnKthread("owner", self -> ledger.put("owner"));
        assertTrue(k.run().clean());
        assertEquals(0, ledger.count());
    }

    @Test
    void transfer_fromAHolderWithNoReference_isAPutWithoutGet() {
        Kernel k = kernel();
        RefLedger ledger = new RefLedger(k, "obj");
        k.spawnKthread("t", self -> ledger.transfer("nobody", "owner"));
        Failure.RefcountError e = assertInstanceOf(Failure.RefcountError.class,
                k.run().firstFailure().orElseThrow());
        assertEquals(RefcountProblem.PUT_WITHOUT_GET, e.problem());
        assertTrue(e.detail().startsWith("transfer from nobody to owner"), e.detail());
        assertFalse(ledger.holds("owner"));
    }
}
