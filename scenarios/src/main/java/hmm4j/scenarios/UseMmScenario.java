package hmm4j.scenarios;

import hmm4j.drivers.usemm.AmdkfdStyleDevice;
import hmm4j.drivers.usemm.KvmStyleDevice;
import hmm4j.drivers.usemm.UseMmDevice;
import hmm4j.drivers.usemm.VhostStyleDevice;
import hmm4j.kernel.mm.Errno;
import hmm4j.kernel.mm.MmStruct;
import hmm4j.kernel.mm.Mmap;
import hmm4j.kernel.mm.UserAccess;
import hmm4j.kernel.mm.notifier.MmuNotifier;
import hmm4j.kernel.sched.Process;
import hmm4j.scenarios.rules.ScenarioRules;
import hmm4j.sim.Kernel;
import hmm4j.sim.failure.Failure;
import hmm4j.sim.rule.SimRules;
import java.util.Arrays;
import java.util.List;

/**
 * S1 (Linus Torvalds' {@code use_mm} mail): a process P maps
 * and fills a page, creates a device that keeps {@code mmgrab} on its mm and starts a
 * kernel worker K that copies the page out with {@code kthread_use_mm}; P then exits
 * concurrently. The variants differ only in how K keeps the address space alive.
 *
 * <p>Every run also checks the data: a copy that returned 0 must have read what P wrote.
 */
public final class UseMmScenario implements Scenario {

    /** How the device is built in P's context. */
    private interface DeviceFactory {
        UseMmDevice create(Kernel kernel, MmStruct mm, long addr, int length);
    }

    private final String id;
    private final String title;
    private final Expectation expectation;
    private final DeviceFactory factory;

    private UseMmScenario(String id, String title, Expectation expectation, DeviceFactory factory) {
        this.id = id;
        this.title = title;
        this.expectation = expectation;
        this.factory = factory;
    }

    /** The S1 variants: vhost (clean), kvm/i915 (found), amdkfd with and without the release flush. */
    public static List<Scenario> all() {
        return List.of(
                new UseMmScenario("S1-vhost", "vhost-style worker: mmget_not_zero before kthread_use_mm",
                        Expectation.clean().reaching(MmStruct.MMGET_NOT_ZERO_FAILED), VhostStyleDevice::new),
                new UseMmScenario("S1-kvm-mmgrab", "kvm/i915-style worker holding only mmgrab",
                        Expectation.finds(SimRules.PIN), KvmStyleDevice::new),
                new UseMmScenario("S1-amdkfd-fence", "amdkfd-style worker fenced by a release notifier that waits for it",
                        Expectation.clean().reaching(MmStruct.RELEASE_FENCE_ACCESS, MmuNotifier.RELEASE_FROM_EXIT),
                        (k, mm, a, n) -> new AmdkfdStyleDevice(k, mm, a, n, true)),
                new UseMmScenario("S1-amdkfd-no-flush", "amdkfd-style worker whose release notifier does not wait",
                        Expectation.finds(SimRules.PIN),
                        (k, mm, a, n) -> new AmdkfdStyleDevice(k, mm, a, n, false)));
    }

    @Override
    public String id() {
        return id;
    }

    @Override
    public String title() {
        return title;
    }

    @Override
    public Expectation expectation() {
        return expectation;
    }

    @Override
    public void setUp(Kernel kernel) {
        byte[] pattern = new byte[64];
        for (int i = 0; i < pattern.length; i++) {
            pattern[i] = (byte) (0x5a ^ i);
        }
        Process.spawn(kernel, "process", self -> {
            MmStruct mm = MmStruct.of(self);
            long addr = Mmap.mmapAnonymous(mm, 4096, Mmap.PROT_READ | Mmap.PROT_WRITE);
            if (Errno.isError(addr) || UserAccess.copyToUser(kernel, addr, pattern) != 0) {
                throw new IllegalStateException("process could not set up its buffer: " + addr);
            }
            UseMmDevice device = factory.create(kernel, mm, addr, pattern.length);
            kernel.spawnKthread("kworker", k -> {
                device.work();
                if (device.lastResult() == 0 && !Arrays.equals(device.lastCopy(), pattern)) {
                    kernel.report(new Failure.InvariantViolation(ScenarioRules.COPY_FROM_USER_DATA,
                            "read " + Arrays.toString(device.lastCopy()), kernel.site()));
                }
            }, worker -> {
                if (device instanceof AmdkfdStyleDevice kfd) {
                    kfd.attachWorker(worker);
                }
            });
        });
    }
}
