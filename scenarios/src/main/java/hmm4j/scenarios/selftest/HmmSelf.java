package hmm4j.scenarios.selftest;

import hmm4j.drivers.dmirror.DmirrorFile;

/** {@code FIXTURE(hmm)}: one open device file and the page geometry. */
final class HmmSelf implements FixtureData {
    /** {@code int fd}: the device the variant names, opened by the set-up. */
    DmirrorFile fd;
    /** {@code unsigned int page_size}. */
    long pageSize;
    /** {@code unsigned int page_shift}. */
    int pageShift;
}
