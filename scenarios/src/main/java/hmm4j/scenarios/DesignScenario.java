package hmm4j.scenarios;

import hmm4j.sim.Kernel;
import java.util.Objects;
import java.util.function.Consumer;

/**
 * A catalogue entry whose set-up is a function: the design variants of S3 and S4, each a
 * few tasks over a driver in {@code hmm4j.drivers}.
 *
 * @param id          stable identifier
 * @param title       the design and the race, in one line
 * @param expectation what the checkers should conclude
 * @param setUp       builds one run on a kernel that has the checkers installed
 */
public record DesignScenario(String id, String title, Expectation expectation, Consumer<Kernel> setUp)
        implements Scenario {

    public DesignScenario {
        Objects.requireNonNull(id);
        Objects.requireNonNull(title);
        Objects.requireNonNull(expectation);
        Objects.requireNonNull(setUp);
    }

    @Override
    public void setUp(Kernel kernel) {
        setUp.accept(kernel);
    }
}
