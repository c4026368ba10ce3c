package hmm4j.scenarios;

import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

/** Every scenario {@code hmm4j check} runs, in catalogue order. */
public final class Catalogue {
    private Catalogue() {
    }

    /** All scenarios. */
    public static List<Scenario> all() {
        List<Scenario> all = new ArrayList<>();
        all.addAll(UseMmScenario.all());
        all.addAll(FfsAioScenario.all());
        all.addAll(NotifierScenarios.all());
        all.addAll(DmirrorScenarios.all());
        all.addAll(DeviceMapScenarios.all());
        all.addAll(OomScenarios.all());
        all.addAll(ServiceScenarios.all());
        all.addAll(RmapScenarios.all());
        all.addAll(UnmapScenarios.all());
        all.addAll(MigrationScenarios.all());
        all.addAll(Hmm2019Scenarios.all());
        return List.copyOf(all);
    }

    /** The scenario with this id. */
    public static Optional<Scenario> byId(String id) {
        return all().stream().filter(s -> s.id().equals(id)).findFirst();
    }
}
