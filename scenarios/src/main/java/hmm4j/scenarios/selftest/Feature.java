package hmm4j.scenarios.selftest;

/**
 * The feature keys of the selftest table (docs/selftests.md, "The tests"): what a test needs
 * from the kernel and the device. The model has C, M, X, W, R, 2, F, G, anonymous THP and
 * hugetlbfs (H); the tests that need device-private THP migration (part of T) are skipped with
 * that reason.
 */
public enum Feature {
    /** Core mirroring: READ, WRITE, SNAPSHOT and invalidation. */
    C("C", "core mirroring"),
    /** Migration to and from device-private (or coherent) memory. */
    M("M", "migration"),
    /** Exclusive device access ({@code make_device_exclusive}). */
    X("X", "exclusive access"),
    /** Transparent huge pages. */
    T("T", "THP"),
    /** hugetlbfs. */
    H("H", "hugetlbfs"),
    /** The {@code gup_test} debugfs module. */
    G("G", "gup_test"),
    /** Copy-on-write of device pages across fork. */
    W("W", "COW across fork"),
    /** Fault injection through {@code HMM_DMIRROR_FLAGS}. */
    F("F", "fault injection"),
    /** Two devices (the {@code hmm2} fixture). */
    TWO("2", "two devices"),
    /** Races with a concurrent thread. */
    R("R", "races");

    private final String key;
    private final String meaning;

    Feature(String key, String meaning) {
        this.key = key;
        this.meaning = meaning;
    }

    /** The key as the catalogue writes it ({@code C}, {@code M}, ..., {@code 2}). */
    public String key() {
        return key;
    }

    /** What the key stands for. */
    public String meaning() {
        return meaning;
    }
}
