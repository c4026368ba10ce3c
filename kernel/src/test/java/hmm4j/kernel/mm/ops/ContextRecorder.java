package hmm4j.kernel.mm.ops;

import hmm4j.check.lockdep.HeldLock;
import hmm4j.check.lockdep.Lockdep;
import hmm4j.kernel.mm.MmStruct;
import hmm4j.kernel.mm.notifier.MmuIntervalNotifier;
import hmm4j.kernel.mm.notifier.MmuIntervalNotifierOps;
import hmm4j.kernel.mm.notifier.MmuNotifierEvent;
import hmm4j.kernel.mm.notifier.MmuNotifierRange;
import hmm4j.sim.Kernel;
import hmm4j.sim.LockMode;
import java.util.ArrayList;
import java.util.List;

/**
 * An interval subscription whose callback records the context it runs in: the event, the
 * blockable flag, the range and owner, the locks lockdep says the invalidating task holds (class and mode, bottom
 * of the stack first) and whether the VMA tree still has a VMA at the range's start. The
 * tree is read without taking the mmap lock (the invalidating task holds it, or not: the
 * record says which), through {@link MmStruct#vmas}'s pin-checked accessor.
 */
final class ContextRecorder implements MmuIntervalNotifierOps {

    /** What one callback saw. */
    record Seen(MmuNotifierEvent event, boolean blockable, List<String> held, boolean vmaAtStart, long start,
                long end, Object owner) {
        /** True if a lock of {@code lockClass} was held in {@code mode}. */
        boolean holds(String lockClass, LockMode mode) {
            return held.contains(lockClass + ":" + mode);
        }

        /** True if a lock of {@code lockClass} was held in any mode. */
        boolean holdsAny(String lockClass) {
            return held.stream().anyMatch(h -> h.startsWith(lockClass + ":"));
        }
    }

    final MmuIntervalNotifier sub = new MmuIntervalNotifier("context-recorder");
    private final List<Seen> seen = new ArrayList<>();

    @Override
    public boolean invalidate(MmuIntervalNotifier subscription, MmuNotifierRange range, long curSeq) {
        Kernel k = range.mm().kernel();
        List<String> held = new ArrayList<>();
        for (HeldLock h : Lockdep.of(k).heldLocks(k.current())) {
            held.add(h.lockClass().name() + ":" + h.mode());
        }
        boolean vma = range.mm().vmas("context-recorder").vmaLookup(range.start()) != null;
        synchronized (seen) {
            seen.add(new Seen(range.event(), range.blockable(), List.copyOf(held), vma, range.start(), range.end(),
                    range.owner()));
        }
        subscription.mmuIntervalSetSeq(curSeq);
        return true;
    }

    /** The callbacks seen so far, in order. */
    List<Seen> seen() {
        synchronized (seen) {
            return List.copyOf(seen);
        }
    }

    /** The only callback of {@code event} seen; fails if there is not exactly one. */
    Seen only(MmuNotifierEvent event) {
        List<Seen> of = seen().stream().filter(s -> s.event() == event).toList();
        if (of.size() != 1) {
            throw new AssertionError("expected one " + event + " callback, saw " + seen());
        }
        return of.get(0);
    }
}
