/**
 * The test kit: what a test of a driver written against hmm4j needs before its first
 * assertion, written once for the project's own tests and for a user's.
 *
 * <ul>
 *   <li>{@link hmm4j.testkit.TestKernels}: a controlled, seeded kernel with the checkers
 *       (lockdep, the lifetime sanitizer) installed;</li>
 *   <li>{@link hmm4j.testkit.UserProcess} and {@link hmm4j.testkit.UserMemory}: a process
 *       task with its own mm, a mapping it has touched, and user-memory accessors that assert
 *       as they go (the set-up of a C test program such as hmm-tests.c);</li>
 *   <li>{@link hmm4j.testkit.RunAssertions} and {@link hmm4j.testkit.ExploreAssertions}: a
 *       run or an exploration is clean, or is caught with the expected failure;</li>
 *   <li>{@link hmm4j.testkit.Fixtures}: the small programs every concurrency checker is tried
 *       on (AB-BA lock order, a lost update, a use-after-free probe), as explorer targets.</li>
 * </ul>
 *
 * <p>The kit follows no kernel file: it is the user-space and test-harness side
 * (tools/testing/selftests/mm's {@code FIXTURE_SETUP} is the closest kernel analogue). The
 * modules below the kernel model (sim, check, explore) cannot use it, since it depends on
 * them; their tests keep their own two-line helpers.
 */
package hmm4j.testkit;
