/**
 * Tests of the checkers. They live outside {@code hmm4j.check} on purpose: the substrate
 * drops frames of {@code hmm4j.check.*} classes from report sites, and these tests play
 * the part of model and driver code whose frames the reports must show.
 */
package hmm4j.checktest;
