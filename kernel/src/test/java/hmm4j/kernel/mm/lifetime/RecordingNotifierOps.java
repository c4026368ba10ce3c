package hmm4j.kernel.mm.lifetime;

import hmm4j.kernel.mm.MmStruct;
import hmm4j.kernel.mm.notifier.MmuNotifier;
import hmm4j.kernel.mm.notifier.MmuNotifierOps;
import hmm4j.kernel.mm.notifier.MmuNotifierRange;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.function.Consumer;

/**
 * Classic notifier ops that record every callback as a line: {@code "release"},
 * {@code "start EVENT [start, end) blockable=B"} and {@code "end EVENT [start, end)"}
 * (addresses in hex, unsigned). An optional hook runs inside {@code ->release}.
 */
public final class RecordingNotifierOps implements MmuNotifierOps {
    private final List<String> events = new CopyOnWriteArrayList<>();
    private final Consumer<MmStruct> onRelease;

    public RecordingNotifierOps() {
        this(mm -> { });
    }

    public RecordingNotifierOps(Consumer<MmStruct> onRelease) {
        this.onRelease = onRelease;
    }

    /** The recorded callbacks so far, in call order. */
    public List<String> events() {
        return List.copyOf(events);
    }

    /** Forgets what was recorded so far. */
    public void clear() {
        events.clear();
    }

    /** The line recorded for a start callback. */
    public static String start(String event, long start, long end, boolean blockable) {
        return "start " + event + " [" + Long.toHexString(start) + ", " + Long.toHexString(end) + ") blockable="
                + blockable;
    }

    /** The line recorded for an end callback. */
    public static String end(String event, long start, long end) {
        return "end " + event + " [" + Long.toHexString(start) + ", " + Long.toHexString(end) + ")";
    }

    @Override
    public void release(MmuNotifier subscription, MmStruct mm) {
        events.add("release");
        onRelease.accept(mm);
    }

    @Override
    public int invalidateRangeStart(MmuNotifier subscription, MmuNotifierRange range) {
        events.add(start(range.event().name(), range.start(), range.end(), range.blockable()));
        return 0;
    }

    @Override
    public void invalidateRangeEnd(MmuNotifier subscription, MmuNotifierRange range) {
        events.add(end(range.event().name(), range.start(), range.end()));
    }
}
