package hmm4j.check.lockdep;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import hmm4j.sim.LockClass;
import hmm4j.sim.LockMode;
import hmm4j.sim.failure.Site;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * The dependency graph on its own: kinds of dependencies and the strong-path rule of the
 * cycle search (a lock entered by a recursive read and left as a reader breaks a path).
 */
class LockGraphTest {

    private static final LockClass A = new LockClass("A");
    private static final LockClass B = new LockClass("B");
    private static final LockClass R = new LockClass("R");
    private static final LockClass X = new LockClass("X");
    private static final LockClass Y = new LockClass("Y");
    private static final Site SITE = new Site("t", 1, List.of());

    private static List<LockGraph.Dependency> add(LockGraph g, LockClass from, LockClass to, DependencyKind kind) {
        return g.add(from, to, kind, SITE, 1, 1, 0);
    }

    private static List<String> names(List<LockGraph.Dependency> path) {
        return path.stream().map(d -> d.from() + "-" + d.kind() + "->" + d.to()).toList();
    }

    @Test
    void kind_followsHowEachEndIsHeld() {
        assertEquals(DependencyKind.EN, DependencyKind.of(LockMode.EXCLUSIVE, LockMode.EXCLUSIVE));
        assertEquals(DependencyKind.EN, DependencyKind.of(LockMode.EXCLUSIVE, LockMode.SHARED));
        assertEquals(DependencyKind.ER, DependencyKind.of(LockMode.EXCLUSIVE, LockMode.RECURSIVE_READ));
        assertEquals(DependencyKind.SN, DependencyKind.of(LockMode.SHARED, LockMode.EXCLUSIVE));
        assertEquals(DependencyKind.SN, DependencyKind.of(LockMode.RECURSIVE_READ, LockMode.SHARED));
        assertEquals(DependencyKind.SR, DependencyKind.of(LockMode.RECURSIVE_READ, LockMode.RECURSIVE_READ));
    }

    @Test
    void pathThroughALockEnteredByARecursiveReadAndLeftAsAReader_isNotStrong() {
        LockGraph g = new LockGraph();
        assertNull(add(g, A, R, DependencyKind.ER));
        assertNull(add(g, R, B, DependencyKind.SN));
        assertNull(add(g, B, A, DependencyKind.EN), "A -(ER)-> R -(SN)-> B is no path for a cycle");
        assertEquals(List.of(), g.path(A, B));
        // R held exclusively while B is taken closes B -> A -> R into a strong cycle.
        assertEquals(List.of("B-EN->A", "A-ER->R"), names(add(g, R, B, DependencyKind.EN)));
        assertEquals(List.of("A-ER->R", "R-EN->B"), names(g.path(A, B)));
    }

    @Test
    void newDependencyLeavingAReader_isNoCycle_withAPathEnteringItByARecursiveRead() {
        LockGraph g = new LockGraph();
        add(g, A, R, DependencyKind.ER);
        assertNull(add(g, R, A, DependencyKind.SN), "two recursive readers of R in opposite order with A");
        assertEquals(List.of("A-ER->R"), names(add(g, R, A, DependencyKind.EN)));
    }

    @Test
    void newDependencyEnteringByARecursiveRead_isNoCycle_withAPathLeavingAsAReader() {
        LockGraph g = new LockGraph();
        add(g, A, B, DependencyKind.SN);
        assertNull(add(g, B, A, DependencyKind.ER));
        assertTrue(g.hasDependency(B, A, DependencyKind.ER));
        assertEquals(List.of("A-SN->B"), names(add(g, B, A, DependencyKind.EN)));
    }

    @Test
    void search_findsTheStrongPath_whenTheShortestOneIsNotStrong() {
        LockGraph g = new LockGraph();
        add(g, A, X, DependencyKind.ER);
        add(g, A, Y, DependencyKind.EN);
        add(g, Y, X, DependencyKind.EN);
        add(g, X, B, DependencyKind.SN);
        assertEquals(List.of("A-EN->Y", "Y-EN->X", "X-SN->B"), names(g.path(A, B)));
    }

    @Test
    void oneEdgeInTwoKinds_countsTwice_andKeepsEachKindsSite() {
        LockGraph g = new LockGraph();
        Site other = new Site("u", 7, List.of());
        add(g, A, B, DependencyKind.EN);
        assertNull(g.add(A, B, DependencyKind.ER, other, 2, 1, 0));
        assertNull(add(g, A, B, DependencyKind.EN), "present already");
        assertEquals(2, g.dependencyCount());
        List<LockGraph.Dependency> all = g.dependencies();
        assertEquals(List.of(DependencyKind.EN, DependencyKind.ER), all.stream().map(LockGraph.Dependency::kind).toList());
        assertEquals(other, all.get(1).site());
        assertEquals("A -> B (B taken for recursive read) at u @ step 7 at ?", all.get(1).line(1));
    }

    @Test
    void aCycle_isReportedOncePerGraph_whateverKindClosesItAgain() {
        LockGraph g = new LockGraph();
        add(g, A, B, DependencyKind.EN);
        assertNotNull(add(g, B, A, DependencyKind.EN));
        assertNull(add(g, B, A, DependencyKind.SN), "the cycle A B was reported already");
    }

    @Test
    void twoDistinctCycles_inOneGraph_areEachReportedOnce() {
        LockGraph g = new LockGraph();
        add(g, A, B, DependencyKind.EN);
        assertEquals(List.of("A-EN->B"), names(add(g, B, A, DependencyKind.EN)));
        add(g, X, Y, DependencyKind.EN);
        List<LockGraph.Dependency> second = add(g, Y, X, DependencyKind.EN);
        assertNotNull(second, "a second cycle with other classes is not the first one again");
        assertEquals(List.of("X-EN->Y"), names(second));
        add(g, B, X, DependencyKind.EN);
        assertEquals(List.of("B-EN->X"), names(add(g, X, B, DependencyKind.EN)), "a third one, sharing classes");
        assertNull(add(g, Y, X, DependencyKind.SN), "the cycle X Y was reported already");
    }
}
