package hmm4j.scenarios.selftest;

/**
 * A {@code FIXTURE_VARIANT} of hmm-tests.c: the device minor(s) a fixture opens.
 *
 * @param name          the variant's name as kselftest prints it, e.g. {@code hmm_device_private}
 * @param deviceNumber  {@code device_number} of the {@code hmm} fixture, {@code device_number0} of {@code hmm2}
 * @param deviceNumber1 {@code device_number1} of {@code hmm2}; -1 for {@code hmm}
 */
public record Variant(String name, int deviceNumber, int deviceNumber1) {
}
