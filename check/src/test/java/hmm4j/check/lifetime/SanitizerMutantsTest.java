package hmm4j.check.lifetime;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertTrue;

import hmm4j.check.Checkers;
import hmm4j.sim.Kernel;
import hmm4j.sim.RunResult;
import hmm4j.sim.failure.Failure;
import hmm4j.sim.failure.Failure.RefcountProblem;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * Sanitizer, KObject and RefLedger behaviour that mutation testing found unchecked: the
 * installed flag, the per-type counts after frees, where an end-of-run leak is detected,
 * the plain access check, and a holder with more than two references.
 */
class SanitizerMutantsTest {

    /** A tracked object of its own type. */
    static final class Thing extends KObject {
        Thing(Kernel k, String name) {
            super(k, name);
        }
    }

    @Test
    void checkersInstall_marksTheSanitizerInstalled_andOnlyThen() {
        Kernel bare = Kernel.controlled(1);
        assertFalse(Sanitizer.of(bare).installed());
        Kernel checked = Kernel.controlled(1);
        Checkers.install(checked);
        assertTrue(Sanitizer.of(checked).installed());
    }

    @Test
    void liveCountsByType_dropsATypeWhoseObjectsAreAllFreed() {
        Kernel k = Kernel.controlled(1);
        Checkers.install(k);
        Thing one = new Thing(k, "one");
        Thing two = new Thing(k, "two");
        Sanitizer s = Sanitizer.of(k);
        k.spawnKthread("t", self -> {
            one.kfree();
            assertEquals(Map.of("Thing", 1), s.liveCountsByType());
            two.kfree();
        });
        assertTrue(k.run().clean());
        assertFalse(s.liveCountsByType().containsKey("Thing"), s.liveCountsByType().toString());
        assertEquals(0, s.liveCount(Thing.class));
        assertEquals(2, s.allocations());
        assertEquals(2, s.frees());
    }

    @Test
    void aLeakFoundAtTheEndOfTheRun_isDetectedAtAnEndOfRunSiteWithoutFrames() {
        Kernel k = Kernel.controlled(1);
        Checkers.install(k);
        k.spawnKthread("allocator", self -> new Thing(k, "kept").expectFreedAtQuiescence());
        RunResult r = k.run();
        Failure.RefcountError e = assertInstanceOf(Failure.RefcountError.class, r.firstFailure().orElseThrow());
        assertEquals(RefcountProblem.LEAK, e.problem());
        assertEquals("<end of run>", e.site().task());
        assertEquals(List.of(), e.site().frames());
        assertTrue(e.detail().contains("allocated by allocator"), e.detail());
    }

    @Test
    void aLeakFoundDuringTheRun_isDetectedAtTheCheckingTask() {
        Kernel k = Kernel.controlled(1);
        Checkers.install(k);
        k.spawnKthread("validator", self -> {
            new Thing(k, "kept").expectFreedAtQuiescence();
            Sanitizer.of(k).checkLeaks();
        });
        RunResult r = k.run();
        assertEquals(1, r.failures().size(), "reported once: " + r.failures());
        Failure.RefcountError e = assertInstanceOf(Failure.RefcountError.class, r.failures().get(0));
        assertEquals("validator", e.site().task());
        assertFalse(e.site().frames().isEmpty());
    }

    @Test
    void kobject_accessors_andThePlainAccessCheck() {
        Kernel k = Kernel.controlled(1);
        Checkers.install(k);
        Thing t = new Thing(k, "thing");
        assertSame(k, t.kernel());
        assertNotNull(t.target());
        k.spawnKthread("user", self -> {
            t.kfree();
            t.checkAccess("read thing->field");
        });
        Failure.UseAfterFree u = assertInstanceOf(Failure.UseAfterFree.class, k.run().firstFailure().orElseThrow());
        assertEquals("read thing->field", u.access());
        assertEquals("thing", u.object());
    }

    @Test
    void aHolderWithThreeReferences_putsThemAll() {
        Kernel k = Kernel.controlled(1);
        Checkers.install(k);
        RefLedger ledger = new RefLedger(k, "obj refs");
        RefHandle h = new RefHandle("holder");
        assertEquals("obj refs", ledger.object());
        assertEquals("holder", h.toString());
        k.spawnKthread("t", self -> {
            for (int i = 0; i < 5; i++) {
                ledger.get(h);
            }
            assertEquals(5, ledger.outstanding().get(h).size());
            for (int i = 0; i < 5; i++) {
                ledger.put(h);
            }
            ledger.checkBalanced();
        });
        assertTrue(k.run().clean());
        assertEquals(0, ledger.count());
        assertTrue(ledger.toString().startsWith("obj refs refs 0: none"), ledger.toString());
    }

    @Test
    void aPutWithNothingOutstanding_saysNone() {
        Kernel k = Kernel.controlled(1);
        Checkers.install(k);
        RefLedger ledger = new RefLedger(k, "obj refs");
        k.spawnKthread("t", self -> ledger.put(new RefHandle("stranger")));
        Failure.RefcountError e = assertInstanceOf(Failure.RefcountError.class, k.run().firstFailure().orElseThrow());
        assertTrue(e.detail().endsWith("outstanding: none"), e.detail());
    }

    @Test
    void theAccessCheckNamingItsSubject_reportsBoth() {
        Kernel k = Kernel.controlled(1);
        Checkers.install(k);
        Thing t = new Thing(k, "drv");
        k.spawnKthread("user", self -> {
            t.kfree();
            t.checkAccess("->release", "drv->notifier");
        });
        Failure.UseAfterFree u = assertInstanceOf(Failure.UseAfterFree.class, k.run().firstFailure().orElseThrow());
        assertEquals("->release of drv->notifier", u.access());
    }

    @Test
    void holders_areListedInTheOrderTheyFirstTookAReference_whateverTheirIdentity() {
        Kernel k = Kernel.controlled(1);
        Checkers.install(k);
        RefLedger ledger = new RefLedger(k, "obj refs");
        List<String> names = new java.util.ArrayList<>();
        List<RefHandle> handles = new java.util.ArrayList<>();
        for (int i = 0; i < 12; i++) {
            names.add("h" + i);
            handles.add(new RefHandle("h" + i));
        }
        k.spawnKthread("t", self -> {
            handles.forEach(ledger::get);
            assertEquals(names, ledger.holderNames());
            assertEquals(handles, List.copyOf(ledger.outstanding().keySet()));
            handles.forEach(ledger::put);
        });
        assertTrue(k.run().clean());
    }
}
