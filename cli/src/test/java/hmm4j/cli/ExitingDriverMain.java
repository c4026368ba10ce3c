package hmm4j.cli;

import hmm4j.scenarios.Expectation;
import hmm4j.scenarios.Scenario;
import hmm4j.sim.Kernel;
import hmm4j.sim.Op;
import java.io.OutputStreamWriter;
import java.io.PrintWriter;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.concurrent.atomic.AtomicBoolean;
import picocli.CommandLine;

/**
 * The {@code hmm4j} command line over a catalogue of one scenario whose driver calls
 * {@code System.exit(0)}, for {@link JvmExitTest}, which runs it in a JVM of its own: the
 * task {@code exiter} exits the JVM when it runs after the task {@code worker} finished its
 * operation, so some runs are clean and one exits.
 */
public final class ExitingDriverMain {
    /** The scenario's id. */
    static final String ID = "T-exit";

    static final Scenario EXITING = new Scenario() {
        @Override
        public String id() {
            return ID;
        }

        @Override
        public String title() {
            return "a driver task that calls System.exit(0)";
        }

        @Override
        public Expectation expectation() {
            return Expectation.clean();
        }

        @Override
        public void setUp(Kernel kernel) {
            AtomicBoolean worked = new AtomicBoolean();
            kernel.spawnKthread("worker", self -> {
                point(self.kernel(), "work");
                worked.set(true);
            });
            kernel.spawnKthread("exiter", self -> {
                point(self.kernel(), "look");
                if (worked.get()) {
                    exitTheJvm();
                }
            });
        }
    };

    private ExitingDriverMain() {
    }

    private static void point(Kernel kernel, String label) {
        kernel.point(new Op(new Op.Kind(label, Op.Access.WRITE), kernel.newTarget(label), label));
    }

    /** The driver's call, in a frame of its own so that the report can name it. */
    static void exitTheJvm() {
        System.exit(0);
    }

    public static void main(String[] args) throws Exception {
        PrintWriter out = new PrintWriter(new OutputStreamWriter(System.out, StandardCharsets.UTF_8), true);
        PrintWriter err = new PrintWriter(new OutputStreamWriter(System.err, StandardCharsets.UTF_8), true);
        CommandLine.IFactory factory = new CommandLine.IFactory() {
            @Override
            public <K> K create(Class<K> cls) throws Exception {
                if (cls == ExploreCommand.class) {
                    return cls.cast(new ExploreCommand(() -> List.of(EXITING)));
                }
                if (cls == ReplayCommand.class) {
                    return cls.cast(new ReplayCommand(() -> List.of(EXITING)));
                }
                return CommandLine.defaultFactory().create(cls);
            }
        };
        int code = Main.configure(new CommandLine(new Main(), factory), out, err).execute(args);
        out.flush();
        err.flush();
        System.exit(code + 10); // never reached when the driver exits: 10 + the command's code otherwise
    }
}
