package hmm4j.sim.sync;

import hmm4j.sim.HiddenFromSites;
import hmm4j.sim.Kernel;
import hmm4j.sim.Op;
import hmm4j.sim.Task;
import hmm4j.sim.WaitChannel;
import hmm4j.sim.failure.Failure;
import hmm4j.sim.rule.SimRules;
import java.util.ArrayDeque;
import java.util.Deque;
import java.util.TreeMap;

/**
 * {@code struct srcu_struct}: sleepable RCU.
 *
 * <p>Overview: every read section gets a ticket, increasing with the order in which
 * sections start. A grace period requested when the last issued ticket was {@code g} ends
 * once no section with a ticket {@code <= g} is still open: exactly "every read section
 * that began before the call has ended". {@code synchronize_srcu} waits for that;
 * {@code call_srcu} queues a callback run by this domain's callback thread (a daemon
 * kernel thread, started on first use) once its grace period has ended, in a non-blocking
 * section like the kernel's BH-disabled callback invocation; {@code srcu_barrier} waits
 * for every callback queued before it.
 *
 * <p>Differences from the kernel: no per-CPU counters and no two-phase index flip; the
 * observable guarantee is the same. Tickets are ints; a kernel would need two billion read
 * sections in one run to wrap them.
 *
 * <p>Locking: the fields are guarded by {@code this}, held only for updates.
 */
@HiddenFromSites
public final class SrcuStruct {
    private static final Op.Kind SRCU_READ_LOCK = new Op.Kind("srcu_read_lock", Op.Access.WRITE);
    private static final Op.Kind SRCU_READ_UNLOCK = new Op.Kind("srcu_read_unlock", Op.Access.WRITE);
    private static final Op.Kind SYNCHRONIZE_SRCU = new Op.Kind("synchronize_srcu", Op.Access.WRITE);
    private static final Op.Kind CALL_SRCU = new Op.Kind("call_srcu", Op.Access.WRITE);
    private static final Op.Kind SRCU_BARRIER = new Op.Kind("srcu_barrier", Op.Access.WRITE);
    /** The callback thread about to run one callback whose grace period has ended. */
    private static final Op.Kind SRCU_CALLBACK = new Op.Kind("srcu callback", Op.Access.WRITE);

    private final Kernel kernel;
    private final String name;
    /** This object as the target of its operations, which it builds once. */
    private final Op.Target target;
    private final Op srcuReadLockOp;
    private final Op srcuReadUnlockOp;
    private final Op synchronizeSrcuOp;
    private final Op callSrcuOp;
    private final Op srcuBarrierOp;
    private final Op srcuCallbackOp;
    private final WaitChannel channel;
    private final TreeMap<Integer, String> open = new TreeMap<>();
    private final Deque<Pending> callbacks = new ArrayDeque<>();
    private int lastTicket;
    private long queued;
    private long invoked;
    private boolean callbackThreadStarted;

    private record Pending(int ticket, long serial, Runnable callback) {
    }

    public SrcuStruct(Kernel kernel, String name) {
        this.kernel = kernel;
        this.name = name;
        this.target = kernel.newTarget(name);
        this.srcuReadLockOp = Op.of(SRCU_READ_LOCK, target);
        this.srcuReadUnlockOp = Op.of(SRCU_READ_UNLOCK, target);
        this.synchronizeSrcuOp = Op.of(SYNCHRONIZE_SRCU, target);
        this.callSrcuOp = Op.of(CALL_SRCU, target);
        this.srcuBarrierOp = Op.of(SRCU_BARRIER, target);
        this.srcuCallbackOp = Op.of(SRCU_CALLBACK, target);
        this.channel = kernel.runtime().newChannel(name);
    }

    /** {@code srcu_read_lock}: opens a read section; pass the result to {@link #readUnlock}. */
    public int readLock() {
        kernel.point(srcuReadLockOp);
        Task t = kernel.current();
        synchronized (this) {
            int ticket = ++lastTicket;
            open.put(ticket, t == null ? "<main>" : t.name());
            return ticket;
        }
    }

    /** {@code srcu_read_unlock}. */
    public void readUnlock(int idx) {
        kernel.point(srcuReadUnlockOp);
        boolean known;
        synchronized (this) {
            known = open.remove(idx) != null;
        }
        if (!known) {
            kernel.report(new Failure.InvariantViolation(SimRules.SRCU_UNLOCK_PAIRS_LOCK,
                    "srcu_read_unlock without srcu_read_lock: " + name + ": no open read section " + idx, kernel.site()));
            return;
        }
        channel.wakeAll();
    }

    private synchronized boolean gracePeriodOver(int ticket) {
        return open.isEmpty() || open.firstKey() > ticket;
    }

    /** {@code synchronize_srcu}: waits for every read section that began before the call. May sleep. */
    public void synchronizeSrcu() {
        kernel.syncObserver().mightSleep(kernel.current(), synchronizeSrcuOp.label());
        kernel.point(synchronizeSrcuOp);
        int target;
        synchronized (this) {
            target = lastTicket;
        }
        // The reason names the readers still in the way; it is renewed when one of them leaves.
        while (true) {
            String readers = readersBefore(target);
            boolean[] readersChanged = new boolean[1];
            channel.await(this.target, () -> {
                if (gracePeriodOver(target)) {
                    return true;
                }
                readersChanged[0] = !readersBefore(target).equals(readers);
                return readersChanged[0];
            }, "synchronize_srcu(" + name + ") waiting for readers " + readers, WaitChannel.FOREVER);
            if (!readersChanged[0]) {
                return;
            }
        }
    }

    /** The tasks with a read section open since ticket {@code ticket} or earlier, by ticket. */
    private synchronized String readersBefore(int ticket) {
        return String.join(", ", open.headMap(ticket, true).values());
    }

    /** {@code call_srcu}: runs {@code callback} after a grace period, from the callback thread. */
    public void callSrcu(Runnable callback) {
        kernel.point(callSrcuOp);
        boolean startThread;
        synchronized (this) {
            callbacks.add(new Pending(lastTicket, ++queued, callback));
            startThread = !callbackThreadStarted;
            callbackThreadStarted = true;
        }
        // Spawning is a scheduling point: never under the monitor.
        if (startThread) {
            kernel.spawnDaemon("srcu_cb(" + name + ")", this::callbackLoop);
        }
        channel.wakeAll();
    }

    private synchronized Pending readyCallback() {
        Pending p = callbacks.peekFirst();
        return p != null && gracePeriodOver(p.ticket()) ? p : null;
    }

    private void callbackLoop(Task self) {
        while (true) {
            channel.await(this.target, () -> readyCallback() != null, "srcu_cb(" + name + ") waiting for callbacks",
                    WaitChannel.FOREVER);
            Pending p;
            synchronized (this) {
                p = callbacks.pollFirst();
            }
            kernel.point(srcuCallbackOp);
            self.nonBlockStart();
            try {
                p.callback().run();
            } finally {
                self.nonBlockEnd();
            }
            synchronized (this) {
                invoked = p.serial();
            }
            channel.wakeAll();
        }
    }

    /** {@code srcu_barrier}: waits until every callback queued before the call has run. May sleep. */
    public void srcuBarrier() {
        kernel.syncObserver().mightSleep(kernel.current(), srcuBarrierOp.label());
        kernel.point(srcuBarrierOp);
        long target;
        synchronized (this) {
            target = queued;
        }
        channel.await(this.target, () -> {
            synchronized (this) {
                return invoked >= target;
            }
        }, "srcu_barrier(" + name + ") waiting for queued callbacks of " + name, WaitChannel.FOREVER);
    }

    /** Open read sections (for checkers and tests). */
    public synchronized int openReaders() {
        return open.size();
    }

    /** Callbacks queued and not yet run (for leak checks and tests). */
    public synchronized int pendingCallbacks() {
        return callbacks.size();
    }
}
