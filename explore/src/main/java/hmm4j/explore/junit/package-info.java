/**
 * The JUnit 5 extension: {@link hmm4j.explore.junit.Explore} on a test method turns it into
 * an exploration whose failure fails the test with the report and the replay command.
 * This package needs {@code junit-jupiter-api} on the class path; the explore module
 * declares it optional, so the command line does not carry JUnit while tests that use the
 * extension already have it.
 */
package hmm4j.explore.junit;
