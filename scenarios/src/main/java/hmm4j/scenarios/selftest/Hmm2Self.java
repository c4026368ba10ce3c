package hmm4j.scenarios.selftest;

import hmm4j.drivers.dmirror.DmirrorFile;

/** {@code FIXTURE(hmm2)}: two open device files (two devices) and the page geometry. */
final class Hmm2Self implements FixtureData {
    /** {@code int fd0}: the variant's first device. */
    DmirrorFile fd0;
    /** {@code int fd1}: the variant's second device. */
    DmirrorFile fd1;
    /** {@code unsigned int page_size}. */
    long pageSize;
    /** {@code unsigned int page_shift}. */
    int pageShift;
}
