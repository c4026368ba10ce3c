package hmm4j.explore.junit;

import static org.junit.platform.engine.discovery.DiscoverySelectors.selectClass;

import hmm4j.sim.Kernel;
import hmm4j.sim.Op;
import java.util.concurrent.atomic.AtomicBoolean;
import org.junit.platform.testkit.engine.EngineTestKit;

/**
 * Runs an {@code @Explore} test whose driver calls {@code System.exit(0)} through the JUnit
 * engine, for {@link ExploreExitTest}, which runs this in a JVM of its own. The test class
 * is nested and static, so the build's test run never picks it up itself.
 */
public final class ExploreExitMain {
    private ExploreExitMain() {
    }

    /** A driver developer's test whose task {@code exiter} exits the JVM once {@code worker} has worked. */
    static class ExitingTests {
        @Explore(runs = 200, workers = 1, strategy = "random")
        void exitingDriver(Kernel k) {
            AtomicBoolean worked = new AtomicBoolean();
            k.spawnKthread("worker", self -> {
                point(self.kernel(), "work");
                worked.set(true);
            });
            k.spawnKthread("exiter", self -> {
                point(self.kernel(), "look");
                if (worked.get()) {
                    System.exit(0);
                }
            });
        }
    }

    private static void point(Kernel kernel, String label) {
        kernel.point(new Op(new Op.Kind(label, Op.Access.WRITE), kernel.newTarget(label), label));
    }

    /** {@code args[0]}: the failure directory. */
    public static void main(String[] args) {
        System.setProperty(ExploreExtension.FAILURES_PROPERTY, args[0]);
        EngineTestKit.engine("junit-jupiter").selectors(selectClass(ExitingTests.class)).execute();
        System.exit(10); // never reached when the driver exits
    }
}
