/**
 * The kernel's HMM selftests ({@code tools/testing/selftests/mm/hmm-tests.c}, Linux 6.x up
 * to the device-private THP series) ported to the model and run against the dmirror test
 * device ({@code lib/test_hmm.c}, {@link hmm4j.drivers.dmirror}).
 *
 * <p>Layout. A small kselftest-like harness ({@link hmm4j.scenarios.selftest.Kselftest}: the
 * fixtures {@code hmm} and {@code hmm2} with their device variants, set-up and tear-down, the
 * {@code ASSERT_*} helpers of {@link hmm4j.scenarios.selftest.Asserts}, TAP output in
 * {@link hmm4j.scenarios.selftest.Tap}); the user-side helpers of the C file
 * ({@link hmm4j.scenarios.selftest.HmmBuffer}, {@link hmm4j.scenarios.selftest.UserSpace});
 * and the tests, grouped by feature: {@link hmm4j.scenarios.selftest.CoreTests},
 * {@link hmm4j.scenarios.selftest.MigrateTests}, {@link hmm4j.scenarios.selftest.TwoDeviceTests},
 * {@link hmm4j.scenarios.selftest.ExclusiveTests}, {@link hmm4j.scenarios.selftest.HugeTests},
 * {@link hmm4j.scenarios.selftest.ThpMigrateTests} and the others; every test of the C file
 * runs (none is skipped by the model).
 * {@link hmm4j.scenarios.selftest.HmmTests} lists them in the order of the C file.
 *
 * <p>Convention. Test bodies are written the way the C tests are, so that a reader can hold
 * the two side by side: a process maps memory, fills it through the CPU, calls the device
 * through {@code hmm_dmirror_cmd} and checks values, counters and error codes with the same
 * assertions. Each test runs in a process of a fresh controlled {@link hmm4j.sim.Kernel}
 * with the checkers installed and a fixed seed; a failed assertion or any checker failure
 * of the run fails the test. docs/selftests.md maps every test to the C one.
 */
package hmm4j.scenarios.selftest;
