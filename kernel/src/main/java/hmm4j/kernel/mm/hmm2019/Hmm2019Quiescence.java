package hmm4j.kernel.mm.hmm2019;

import hmm4j.sim.Kernel;
import hmm4j.sim.failure.Failure;
import java.util.ArrayList;
import java.util.List;

/**
 * The end-of-run check of I-H5 (rule hmm2019.notifiers-balanced): once every task is done no
 * invalidation is in flight, so every struct hmm still allocated has {@code notifiers == 0}.
 * One per kernel, registered with the first hmm; it keeps the hmms made on the kernel.
 */
final class Hmm2019Quiescence {
    private final List<Hmm2019> hmms = new ArrayList<>();

    private Hmm2019Quiescence(Kernel k) {
        k.atQuiescence(Hmm2019Rules.NOTIFIERS_BALANCED.id(), this::check);
    }

    /** Files {@code hmm} for the end-of-run check. */
    static void track(Hmm2019 hmm) {
        Kernel k = hmm.kernel();
        Hmm2019Quiescence q = k.component(Hmm2019Quiescence.class, () -> new Hmm2019Quiescence(k));
        synchronized (q) {
            q.hmms.add(hmm);
        }
    }

    private void check() {
        List<Hmm2019> all;
        synchronized (this) {
            all = List.copyOf(hmms);
        }
        for (Hmm2019 h : all) {
            if (!h.isFreed() && h.notifiersPeek() != 0) {
                Kernel k = h.kernel();
                k.report(new Failure.InvariantViolation(Hmm2019Rules.NOTIFIERS_BALANCED, h.name() + "->notifiers = "
                        + h.notifiersPeek() + " with no invalidation in flight; its ranges stay invalid", k.site()));
                return;
            }
        }
    }
}
