package hmm4j.kernel.mm.notifier;

import hmm4j.sim.sync.Completion;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;

/**
 * Interval-notifier ops for the tests: {@code invalidate} records {@code "name:event:cur_seq"},
 * calls {@code set_seq} as a driver must, and can be made to wait on a completion after
 * set_seq (so that an invalidation stays in flight while the test acts) and to signal one.
 */
class SeqRecorder implements MmuIntervalNotifierOps {
    private final List<String> log;
    private final Map<String, Completion> holdAfterSetSeq = new ConcurrentHashMap<>();
    private final Map<String, Completion> signalAfterSetSeq = new ConcurrentHashMap<>();

    SeqRecorder(List<String> log) {
        this.log = log;
    }

    SeqRecorder() {
        this(new CopyOnWriteArrayList<>());
    }

    List<String> log() {
        return log;
    }

    /** The next invalidate of {@code sub} signals {@code reached} after set_seq, then waits for {@code gate}. */
    SeqRecorder holdIn(String sub, Completion reached, Completion gate) {
        signalAfterSetSeq.put(sub, reached);
        holdAfterSetSeq.put(sub, gate);
        return this;
    }

    @Override
    public boolean invalidate(MmuIntervalNotifier subscription, MmuNotifierRange range, long curSeq) {
        subscription.mmuIntervalSetSeq(curSeq);
        log.add(subscription.name() + ":" + range.event() + ":" + curSeq);
        Completion reached = signalAfterSetSeq.remove(subscription.name());
        if (reached != null) {
            reached.complete();
        }
        Completion gate = holdAfterSetSeq.remove(subscription.name());
        if (gate != null) {
            gate.waitForCompletion();
        }
        return true;
    }
}
