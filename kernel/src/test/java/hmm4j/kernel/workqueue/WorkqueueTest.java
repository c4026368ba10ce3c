package hmm4j.kernel.workqueue;

import static hmm4j.kernel.mm.lifetime.Runs.assertClean;
import static hmm4j.kernel.mm.lifetime.Runs.assertSingleFailure;
import static hmm4j.kernel.mm.lifetime.Runs.checkedKernel;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import hmm4j.check.lifetime.KObject;
import hmm4j.kernel.KernelRules;
import hmm4j.sim.Kernel;
import hmm4j.sim.RunResult;
import hmm4j.sim.failure.Failure;
import hmm4j.sim.rule.SimRules;
import hmm4j.sim.sync.Mutex;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import org.junit.jupiter.api.Test;

/** queue_work, flush_work, cancel_work_sync, delayed work and their lockdep annotations. */
class WorkqueueTest {

    /** A driver object embedding a work, as a driver's {@code struct foo { struct work_struct work; }}. */
    static final class Device extends KObject {
        final Mutex lock;
        final AtomicInteger runs = new AtomicInteger();
        final WorkStruct work;

        Device(Kernel k) {
            super(k, "device");
            this.lock = new Mutex(k, "dev->lock");
            this.work = new WorkStruct(this, "dev->refresh_work", w -> {
                Device d = (Device) w.container();
                d.lock.lock();
                d.runs.incrementAndGet();
                d.lock.unlock();
            });
        }
    }

    @ParameterizedTest
    @ValueSource(longs = {1, 2, 3, 7, 42})
    void queueWork_isFalseWhilePending_andFlushWaitsForTheRun(long seed) {
        Kernel k = checkedKernel(seed);
        AtomicInteger runs = new AtomicInteger();
        k.spawnKthread("driver", t -> {
            WorkStruct w = new WorkStruct(k, "count", x -> runs.incrementAndGet());
            WorkqueueStruct wq = WorkqueueStruct.allocOrderedWorkqueue(k, "drv_wq", 0);
            hmm4j.sim.sync.Completion gate = new hmm4j.sim.sync.Completion(k, "gate");
            assertTrue(wq.queueWork(new WorkStruct(k, "blocker", x -> gate.waitForCompletion())));
            assertTrue(wq.queueWork(w));
            assertFalse(wq.queueWork(w), "a pending work is not queued twice");
            gate.complete();
            w.flushWork();
            assertEquals(1, runs.get(), "the work ran once, before the flush returned");
            assertFalse(w.flushWork(), "an idle work is not waited for");
            wq.destroyWorkqueue();
        });
        assertClean(k.run());
    }

    @ParameterizedTest
    @ValueSource(longs = {1, 2, 3, 7, 11, 42, 99, 1234})
    void flushWorkUnderALockTheWorkTakes_isALockOrderCycle(long seed) {
        Kernel k = checkedKernel(seed);
        Device dev = new Device(k);
        k.spawnKthread("teardown", t -> {
            dev.work.scheduleWork();
            dev.lock.lock();
            dev.work.flushWork();
            dev.lock.unlock();
        });
        RunResult run = k.run();
        Failure.LockOrderCycle cycle = assertSingleFailure(run, Failure.LockOrderCycle.class);
        String both = cycle.held() + " " + cycle.acquiring();
        assertTrue(both.contains("dev->lock") && both.contains("(work_completion)(dev->refresh_work)"), both);
    }

    @ParameterizedTest
    @ValueSource(longs = {1, 2, 3, 7, 11, 42, 99, 1234})
    void cancelWorkSyncUnderTheLock_isALockOrderCycleToo(long seed) {
        Kernel k = checkedKernel(seed);
        Device dev = new Device(k);
        k.spawnKthread("teardown", t -> {
            dev.work.scheduleWork();
            dev.work.flushWork();
            dev.work.scheduleWork();
            dev.lock.lock();
            dev.work.cancelWorkSync();
            dev.lock.unlock();
            dev.kfree();
        });
        assertSingleFailure(k.run(), Failure.LockOrderCycle.class);
    }

    @ParameterizedTest
    @ValueSource(longs = {1, 2, 3, 7, 11, 42, 99, 1234})
    void cancelWorkSyncOutsideTheLock_thenFree_isClean(long seed) {
        Kernel k = checkedKernel(seed);
        Device dev = new Device(k);
        k.spawnKthread("teardown", t -> {
            dev.work.scheduleWork();
            dev.lock.lock();
            dev.lock.unlock();
            dev.work.cancelWorkSync();
            assertFalse(dev.work.workBusy(), "neither pending nor running after cancel_work_sync");
            dev.kfree();
        });
        assertClean(k.run());
    }

    @Test
    void queueWorkOnAFreedObject_isAUseAfterFree() {
        Kernel k = checkedKernel(1);
        Device dev = new Device(k);
        k.spawnKthread("driver", t -> {
            dev.kfree();
            dev.work.scheduleWork();
        });
        Failure.UseAfterFree uaf = assertSingleFailure(k.run(), Failure.UseAfterFree.class);
        assertTrue(uaf.access().contains("queue_work"), uaf.access());
    }

    @Test
    void freeWithoutCancel_whileTheWorkIsQueued_isFoundAsAUseAfterFreeInTheWorker() {
        int found = 0;
        for (long seed = 1; seed <= 40; seed++) {
            Kernel k = checkedKernel(seed);
            Device dev = new Device(k);
            k.spawnKthread("teardown", t -> {
                dev.work.scheduleWork();
                dev.kfree();
                dev.lock.lock();
                dev.lock.unlock();
            });
            RunResult run = k.run();
            if (!run.failures().isEmpty()) {
                Failure.UseAfterFree uaf = assertSingleFailure(run, Failure.UseAfterFree.class);
                assertTrue(uaf.access().contains("process_one_work"), uaf.access());
                found++;
            }
        }
        assertTrue(found > 0, "some interleaving runs the work after the free");
    }

    @Test
    void workFlushingItself_isRecursiveLocking() {
        Kernel k = checkedKernel(1);
        WorkStruct[] self = new WorkStruct[1];
        self[0] = new WorkStruct(k, "self-flush", w -> w.flushWork());
        k.spawnKthread("driver", t -> {
            self[0].scheduleWork();
            self[0].flushWork();
        });
        Failure f = assertSingleFailure(k.run(), Failure.LockOrderCycle.class);
        assertEquals(SimRules.RECURSIVE_LOCKING, f.rule());
    }

    @ParameterizedTest
    @ValueSource(longs = {1, 2, 3})
    void delayedWork_runsAfterItsVirtualDelay(long seed) {
        Kernel k = checkedKernel(seed);
        AtomicLong ranAt = new AtomicLong(-1);
        DelayedWork dw = new DelayedWork(k, "poll", w -> ranAt.set(k.runtime().nanoTime()));
        k.spawnKthread("driver", t -> {
            long start = k.runtime().nanoTime();
            assertTrue(dw.scheduleDelayedWork(5_000_000));
            assertFalse(dw.scheduleDelayedWork(5_000_000), "already pending on its timer");
            assertFalse(dw.work().flushWork(), "flush_work does not fire an armed timer");
            assertTrue(dw.flushDelayedWork(), "flush_delayed_work queues it now and waits");
            assertTrue(ranAt.get() >= start);
            ranAt.set(-1);
            assertTrue(dw.scheduleDelayedWork(5_000_000));
            k.spawnKthread("waiter", u -> {
                while (ranAt.get() < 0) {
                    new hmm4j.sim.sync.Completion(k, "tick").waitForCompletionTimeout(1_000_000);
                }
            }).join();
            assertTrue(ranAt.get() - start >= 5_000_000, "ran at " + ranAt.get() + ", queued at " + start);
        });
        assertClean(k.run());
    }

    @Test
    void cancelDelayedWorkSync_beforeTheTimer_meansItNeverRuns() {
        Kernel k = checkedKernel(1);
        AtomicInteger runs = new AtomicInteger();
        DelayedWork dw = new DelayedWork(k, "poll", w -> runs.incrementAndGet());
        k.spawnKthread("driver", t -> {
            dw.scheduleDelayedWork(10_000_000);
            assertTrue(dw.cancelDelayedWorkSync(), "it was pending");
            assertFalse(dw.work().workPending());
            new hmm4j.sim.sync.Completion(k, "later").waitForCompletionTimeout(50_000_000);
        });
        assertClean(k.run());
        assertEquals(0, runs.get());
    }

    @Test
    void flushWorkqueue_waitsForEveryQueuedWork() {
        Kernel k = checkedKernel(5);
        AtomicInteger runs = new AtomicInteger();
        k.spawnKthread("driver", t -> {
            WorkqueueStruct wq = WorkqueueStruct.allocWorkqueue(k, "multi", WorkqueueStruct.WQ_UNBOUND, 0);
            for (int i = 0; i < 3; i++) {
                wq.queueWork(new WorkStruct(k, "w" + i, w -> runs.incrementAndGet()));
            }
            wq.flushWorkqueue();
            assertEquals(3, runs.get());
            wq.destroyWorkqueue();
        });
        assertClean(k.run());
    }

    @Test
    void queueOnADestroyedWorkqueue_isReported() {
        Kernel k = checkedKernel(1);
        k.spawnKthread("driver", t -> {
            WorkqueueStruct wq = WorkqueueStruct.allocWorkqueue(k, "gone", 0, 1);
            wq.destroyWorkqueue();
            wq.queueWork(new WorkStruct(k, "late", w -> { }));
        });
        Failure f = assertSingleFailure(k.run(), Failure.InvariantViolation.class);
        assertEquals(KernelRules.WQ_QUEUE_ON_DESTROYED, f.rule());
    }

    @Test
    void flushWorkUnderASpinlock_sleepsInAtomicContext() {
        Kernel k = checkedKernel(1);
        hmm4j.sim.sync.SpinLock lock = new hmm4j.sim.sync.SpinLock(k, "dev->irq_lock");
        WorkStruct w = new WorkStruct(k, "w", x -> { });
        k.spawnKthread("driver", t -> {
            w.scheduleWork();
            lock.lock();
            w.flushWork();
            lock.unlock();
        });
        Failure f = k.run().failures().get(0);
        assertEquals(SimRules.SLEEP_IN_ATOMIC_RULE, f.rule());
    }

    @Test
    void flushWorkqueueUnderALockOneOfItsWorksTakes_isALockOrderCycle() {
        Kernel k = checkedKernel(1);
        Device dev = new Device(k);
        k.spawnKthread("driver", t -> {
            WorkqueueStruct wq = WorkqueueStruct.allocWorkqueue(k, "dev_wq", 0, 1);
            wq.queueWork(dev.work);
            wq.flushWorkqueue();
            dev.lock.lock();
            wq.flushWorkqueue();
            dev.lock.unlock();
        });
        Failure.LockOrderCycle cycle = assertSingleFailure(k.run(), Failure.LockOrderCycle.class);
        String both = cycle.held() + " " + cycle.acquiring();
        assertTrue(both.contains("dev->lock") && both.contains("(wq_completion)dev_wq"), both);
    }

    @Test
    void workFlushingAnotherWorkOfItsOrderedQueue_isALockOrderReportOnTheQueueMap() {
        Kernel k = checkedKernel(1);
        k.spawnKthread("driver", t -> {
            WorkqueueStruct wq = WorkqueueStruct.allocOrderedWorkqueue(k, "ordered", 0);
            WorkStruct second = new WorkStruct(k, "second", w -> { });
            WorkStruct first = new WorkStruct(k, "first", w -> {
                wq.queueWork(second);
                second.flushWork();
            });
            wq.queueWork(first);
            first.flushWork();
        });
        Failure.LockOrderCycle f = assertSingleFailure(k.run(), Failure.LockOrderCycle.class);
        assertTrue((f.held() + " " + f.acquiring()).contains("(wq_completion)ordered"), f.toString());
    }

    @Test
    void destroyWithATimerArmed_isReported() {
        Kernel k = checkedKernel(1);
        k.spawnKthread("driver", t -> {
            WorkqueueStruct wq = WorkqueueStruct.allocWorkqueue(k, "timers", 0, 1);
            wq.queueDelayedWork(new DelayedWork(k, "late", w -> { }), 1_000_000);
            wq.destroyWorkqueue();
        });
        Failure f = assertSingleFailure(k.run(), Failure.InvariantViolation.class);
        assertEquals(KernelRules.WQ_QUEUE_ON_DESTROYED, f.rule());
    }
}
