package hmm4j.scenarios.selftest;

/** The {@code self} of a fixture: {@link HmmSelf} or {@link Hmm2Self}. */
sealed interface FixtureData permits HmmSelf, Hmm2Self {
}
