package hmm4j.scenarios.rules;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * Every rule citation in the main sources resolves to the catalogue, and none points at a
 * document outside the repository.
 */
class CitationTest {

    @Test
    void everyCitationInTheMainSources_resolvesToTheCatalogue() {
        List<String> problems = Citations.problemsUnder(Citations.repositoryRoot(), Rules.catalogue());
        assertEquals(List.of(), problems, () -> "fix these citations (form: rule <id>, ids in docs/invariants.md):\n"
                + String.join("\n", problems));
    }

    @Test
    void theMainSources_citeRules() {
        String all = String.join("\n", Citations.sources(Citations.repositoryRoot()).stream()
                .map(p -> p.toString()).toList());
        assertTrue(all.contains("MmStruct.java"), "the scan sees the kernel module");
        long citations = Citations.sources(Citations.repositoryRoot()).stream().mapToLong(p -> {
            try {
                return Citations.RULE_CITATION.matcher(java.nio.file.Files.readString(p)).results().count();
            } catch (java.io.IOException e) {
                throw new java.io.UncheckedIOException(e);
            }
        }).sum();
        assertTrue(citations >= 10, "expected the model to cite its rules, found " + citations + " citations");
    }

    @Test
    void aDanglingCitation_isReported() {
        List<String> problems = Citations.problems("X.java", """
                /** Reports it (rule mm.pin). */
                /** Reports it (rule mm.no-such-rule). */
                /**
                 * Broken across lines (rule
                 * interval.no-such-rule).
                 */
                """, Rules.catalogue());
        assertEquals(List.of("X.java:2: cites rule mm.no-such-rule, which the catalogue does not have",
                "X.java:5: cites rule interval.no-such-rule, which the catalogue does not have"), problems);
    }

    @Test
    void aPointerOutsideTheRepository_isReported() {
        List<String> problems = Citations.problems("Y.java", """
                /** The pin rule (kernel-spec §1.7). */
                /** As spec I-3 says. */
                /** See dmirror-and-selftests.md. */
                /** (I-22) */
                /** mm/hmm.c: hmm_range_fault, docs/kernel-mapping.md */
                """, Rules.catalogue());
        assertEquals(4, problems.size(), problems::toString);
        assertTrue(problems.get(0).startsWith("Y.java:1: '"), problems.get(0));
        assertTrue(problems.get(3).startsWith("Y.java:4: 'I-22'"), problems.get(3));
    }
}
