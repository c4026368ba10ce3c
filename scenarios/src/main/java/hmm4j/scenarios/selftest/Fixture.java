package hmm4j.scenarios.selftest;

import java.util.List;

/**
 * The two fixtures of hmm-tests.c with their variants, set-up and tear-down.
 *
 * <p>{@code hmm} opens one device, {@code hmm2} two. The set-up runs in the test process:
 * it records the page geometry and opens the variant's device(s); a coherent device that
 * cannot be opened skips the test ({@code DEVICE_COHERENT not available}), as the C set-up
 * does; the model's module has coherent devices 2 and 3 ({@link DmirrorModule}), so the
 * coherent variants run. The tear-down closes
 * the files and asserts that {@code close} returned 0. Variants run in the order the C file
 * adds them, private first.
 */
public enum Fixture {
    /** {@code FIXTURE(hmm)}: one device file. */
    HMM("hmm", List.of(new Variant("hmm_device_private", 0, -1), new Variant("hmm_device_coherent", 2, -1))),
    /** {@code FIXTURE(hmm2)}: two device files of two devices. */
    HMM2("hmm2", List.of(new Variant("hmm2_device_private", 0, 1), new Variant("hmm2_device_coherent", 2, 3)));

    /** The reason the C set-up gives when a coherent device cannot be opened. */
    static final String COHERENT_UNAVAILABLE = "DEVICE_COHERENT not available";

    private final String id;
    private final List<Variant> variants;

    Fixture(String id, List<Variant> variants) {
        this.id = id;
        this.variants = variants;
    }

    /** The fixture's name as kselftest prints it ({@code hmm}, {@code hmm2}). */
    public String id() {
        return id;
    }

    /** The variants, in the order the C file adds them. */
    public List<Variant> variants() {
        return variants;
    }

    /** {@code FIXTURE_SETUP}: in the test process; skips (throws {@link SkipTest}) or asserts. */
    FixtureData setUp(UserSpace sys, Variant variant) {
        switch (this) {
            case HMM -> {
                HmmSelf self = new HmmSelf();
                self.pageSize = UserSpace.PAGE_SIZE;
                self.pageShift = UserSpace.PAGE_SHIFT;
                self.fd = sys.hmmOpen(variant.deviceNumber());
                if (self.fd == null && UserSpace.hmmIsCoherentType(variant.deviceNumber())) {
                    sys.skip(COHERENT_UNAVAILABLE);
                }
                sys.assertOpen("self->fd", self.fd);
                return self;
            }
            case HMM2 -> {
                Hmm2Self self = new Hmm2Self();
                self.pageSize = UserSpace.PAGE_SIZE;
                self.pageShift = UserSpace.PAGE_SHIFT;
                self.fd0 = sys.hmmOpen(variant.deviceNumber());
                if (self.fd0 == null && UserSpace.hmmIsCoherentType(variant.deviceNumber())) {
                    sys.skip(COHERENT_UNAVAILABLE);
                }
                sys.assertOpen("self->fd0", self.fd0);
                self.fd1 = sys.hmmOpen(variant.deviceNumber1());
                sys.assertOpen("self->fd1", self.fd1);
                return self;
            }
            default -> throw new IllegalStateException(name());
        }
    }

    /** {@code FIXTURE_TEARDOWN}: closes the fixture's files, asserting each {@code close} returned 0. */
    void tearDown(UserSpace sys, FixtureData data) {
        switch (data) {
            case HmmSelf self -> {
                int ret = sys.close(self.fd);
                sys.assertEq("ret", ret, 0);
                self.fd = null;
            }
            case Hmm2Self self -> {
                int ret = sys.close(self.fd0);
                sys.assertEq("ret", ret, 0);
                ret = sys.close(self.fd1);
                sys.assertEq("ret", ret, 0);
            }
        }
    }
}
