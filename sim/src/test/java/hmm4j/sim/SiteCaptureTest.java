package hmm4j.sim;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertTrue;

import hmm4j.sim.failure.Failure;
import hmm4j.sim.failure.Site;
import hmm4j.sim.sync.AtomicT;
import hmm4j.sim.sync.Mutex;
import java.io.IOException;
import java.net.URISyntaxException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;

/**
 * Which frames a site shows: the hiding rule of {@link HiddenFromSites}, sites in test
 * classes of the substrate's own packages, lazily resolved sites and trace events.
 */
class SiteCaptureTest {

    /** Captures a site here, one frame below the task's body. */
    private static Site siteHere(Kernel k) {
        return k.site();
    }

    @Test
    void site_inATestClassOfTheSimPackage_showsTheTestFrames() {
        Kernel k = Kernel.controlled(1);
        List<Site> sites = new ArrayList<>();
        k.spawnKthread("t", self -> sites.add(siteHere(k)));
        assertTrue(k.run().clean());
        Site s = sites.get(0);
        assertEquals("t", s.task());
        assertTrue(s.where().startsWith("SiteCaptureTest.siteHere(SiteCaptureTest.java:"), s.toString());
        assertTrue(s.frames().get(1).startsWith("SiteCaptureTest.lambda$"), s.frames().toString());
        assertEquals(2, s.frames().size(), "the runtime's and the JDK's frames below the body are hidden: " + s);
    }

    @Test
    void failureSite_inAPrimitive_showsItsCaller_notThePrimitive() {
        Kernel k = Kernel.controlled(1);
        Mutex m = new Mutex(k, "m");
        k.spawnKthread("t", self -> m.unlock());
        Failure.InvariantViolation v = assertInstanceOf(Failure.InvariantViolation.class,
                k.run().firstFailure().orElseThrow());
        assertTrue(v.site().where().startsWith("SiteCaptureTest.lambda$"), v.site().toString());
        for (String frame : v.site().frames()) {
            assertFalse(frame.startsWith("Mutex.") || frame.startsWith("AbstractLock.") || frame.startsWith("Kernel.")
                    || frame.startsWith("ControlledRuntime"), frame);
        }
    }

    @Test
    void lazySite_readAfterTheRun_namesWhereItWasCaptured_andEqualsAResolvedOne() {
        Kernel k = Kernel.controlled(2);
        List<Site> sites = new ArrayList<>();
        k.spawnKthread("t", self -> {
            sites.add(siteHere(k));
            TestOps.point(self.kernel(), "later");
        });
        assertTrue(k.run().clean());
        Site lazy = sites.get(0);
        Site resolved = new Site(lazy.task(), lazy.step(), lazy.frames());
        assertTrue(lazy.where().startsWith("SiteCaptureTest.siteHere("), lazy.toString());
        assertEquals(resolved, lazy);
        assertEquals(resolved.hashCode(), lazy.hashCode());
        assertEquals(resolved.toString(), lazy.toString());
        assertEquals(lazy.frames(), lazy.frames(), "reading twice gives the same frames");
    }

    @Test
    void traceEvent_where_isTheCallerOfThePrimitive() {
        Kernel k = Kernel.controlled(3);
        AtomicT a = new AtomicT(k, "a", 0);
        k.spawnKthread("t", self -> a.inc());
        RunResult r = k.run();
        TraceEvent inc = r.trace().stream().filter(e -> e.op().equals("atomic_inc(a)")).findFirst().orElseThrow();
        assertTrue(inc.where().startsWith("SiteCaptureTest.lambda$"), inc.where());
        assertTrue(inc.where().contains("(SiteCaptureTest.java:"), inc.where());
    }

    @Test
    void sitesOff_traceEventsHaveNoWhere_butFailureSitesStillDo() {
        Kernel k = Kernel.builder().seed(3).sites(false).build();
        AtomicT a = new AtomicT(k, "a", 0);
        Mutex m = new Mutex(k, "m");
        k.spawnKthread("t", self -> {
            a.inc();
            m.unlock();
        });
        RunResult r = k.run();
        assertTrue(r.trace().stream().allMatch(e -> e.where().isEmpty()), r.trace().toString());
        assertTrue(r.firstFailure().orElseThrow().site().where().startsWith("SiteCaptureTest.lambda$"));
    }

    @Test
    void siteFramesOff_sitesAreTaskAndStepOnly_andTheRunIsTheSame() {
        List<Site> withFrames = new ArrayList<>();
        List<Site> without = new ArrayList<>();
        RunResult on = twoTaskRun(Kernel.builder().seed(5).build(), withFrames);
        RunResult off = twoTaskRun(Kernel.builder().seed(5).siteFrames(false).build(), without);
        assertEquals(on.decisions(), off.decisions(), "frames do not change the schedule");
        assertEquals(withFrames.size(), without.size());
        for (int i = 0; i < without.size(); i++) {
            assertEquals(withFrames.get(i).task(), without.get(i).task());
            assertEquals(withFrames.get(i).step(), without.get(i).step());
            assertTrue(without.get(i).frames().isEmpty(), without.get(i).toString());
            assertTrue(withFrames.get(i).where().startsWith("SiteCaptureTest.siteHere("), withFrames.get(i).toString());
        }
        // The verdict is the same; its site has no frames, but the runtime's own do.
        assertEquals(on.firstFailure().orElseThrow().headline(), off.firstFailure().orElseThrow().headline());
        assertTrue(off.firstFailure().orElseThrow().site().frames().isEmpty());
        Kernel deadlock = Kernel.builder().seed(1).siteFrames(false).build();
        Mutex m = new Mutex(deadlock, "m");
        deadlock.spawnKthread("t", self -> {
            m.lock();
            m.lock();
        });
        Failure d = deadlock.run().firstFailure().orElseThrow();
        assertInstanceOf(Failure.Deadlock.class, d);
        assertFalse(d.site().frames().isEmpty(), "a deadlock's site comes from the runtime: " + d.site());
    }

    /** Two tasks that each record a site twice; the second then unlocks a mutex it does not hold. */
    private static RunResult twoTaskRun(Kernel k, List<Site> sites) {
        AtomicT a = new AtomicT(k, "a", 0);
        Mutex m = new Mutex(k, "m");
        k.spawnKthread("one", self -> {
            sites.add(siteHere(k));
            a.inc();
            sites.add(siteHere(k));
        });
        k.spawnKthread("two", self -> {
            sites.add(siteHere(k));
            a.inc();
            sites.add(siteHere(k));
            m.unlock();
        });
        return k.run();
    }

    @Test
    void throwingTask_stackAndSite_stopAtTheTaskBody() {
        Kernel k = Kernel.controlled(4);
        k.spawnKthread("bad", self -> fail());
        Failure.UnexpectedException e = assertInstanceOf(Failure.UnexpectedException.class,
                k.run().firstFailure().orElseThrow());
        assertTrue(e.stack().get(0).startsWith("  at hmm4j.sim.SiteCaptureTest.fail(SiteCaptureTest.java:"),
                e.stack().toString());
        assertTrue(e.stack().get(1).startsWith("  at hmm4j.sim.SiteCaptureTest.lambda$"), e.stack().toString());
        assertEquals(2, e.stack().size(), "no runtime or JDK frames below the body: " + e.stack());
        assertTrue(e.site().where().startsWith("SiteCaptureTest.fail(SiteCaptureTest.java:"), e.site().toString());
    }

    private static void fail() {
        throw new IllegalStateException("driver bug");
    }

    /** A hidden class with a nested class, and an unmarked subclass. */
    @HiddenFromSites
    static class HiddenBase {
        static final class Nested {
        }
    }

    static final class VisibleChild extends HiddenBase {
    }

    @Test
    void hiding_coversTheNest_butIsNotInherited() {
        assertTrue(SiteCapture.hidden(HiddenBase.class));
        assertTrue(SiteCapture.hidden(HiddenBase.Nested.class));
        assertFalse(SiteCapture.hidden(VisibleChild.class));
        assertFalse(SiteCapture.hidden(SiteCaptureTest.class));
        assertTrue(SiteCapture.hidden(String.class));
        assertTrue(SiteCapture.hidden("hmm4j.sim.sync.Mutex", null));
        assertFalse(SiteCapture.hidden("hmm4j.sim.SiteCaptureTest", SiteCaptureTest.class.getClassLoader()));
        assertFalse(SiteCapture.hidden("no.such.Class", null), "a class that cannot be found is shown");
    }

    @Test
    void everyClassOfTheSubstratesMainCode_isHidden() throws IOException, URISyntaxException {
        Path classes = Path.of(Kernel.class.getProtectionDomain().getCodeSource().getLocation().toURI());
        assertTrue(Files.isDirectory(classes), "expected the main classes as a directory: " + classes);
        List<String> visible = new ArrayList<>();
        int checked = 0;
        try (Stream<Path> files = Files.walk(classes)) {
            for (Path p : files.filter(f -> f.toString().endsWith(".class")).toList()) {
                String name = classes.relativize(p).toString().replace(p.getFileSystem().getSeparator(), ".")
                        .replaceAll("\\.class$", "");
                if (name.endsWith("package-info") || name.equals(HiddenFromSites.class.getName())) {
                    continue;
                }
                checked++;
                if (!SiteCapture.hidden(name, Kernel.class.getClassLoader())) {
                    visible.add(name);
                }
            }
        }
        assertTrue(checked > 40, "only " + checked + " classes found under " + classes);
        assertEquals(List.of(), visible, "main classes of sim without @HiddenFromSites");
    }
}
