package hmm4j.scenarios.rules;

import hmm4j.sim.rule.RuleCatalogue;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;

/**
 * The citation check: in source text, every {@code rule <id>} must name a rule of the
 * catalogue, and nothing may point at a document outside the repository (the section marks
 * and invariant numbers of the specification documents the model was first written from).
 */
final class Citations {
    /**
     * {@code rule mm.pin}: the one citation form for a rule in comments; the id may follow on
     * the next line of a comment.
     */
    static final Pattern RULE_CITATION = Pattern.compile(
            "\\b[Rr]ule(?:\\s|\\*|//)+([a-z][a-z0-9-]*(?:\\.[a-z0-9][a-z0-9-]*)+)");
    /** Pointers at documents outside the repository. */
    static final Pattern OUTSIDE = Pattern.compile(
            "§|\\b[Ss]pec I-?\\d|\\bI-\\d+\\b|kernel-spec|dmirror-and-selftests|hmm-2019|\\.\\./shared|shared/(?:spec|seeds|design)");

    private Citations() {
    }

    /** The problems of one file's {@code text}, each as {@code file:line: what}. */
    static List<String> problems(String file, String text, RuleCatalogue catalogue) {
        List<String> found = new ArrayList<>();
        Matcher m = RULE_CITATION.matcher(text);
        while (m.find()) {
            if (catalogue.find(m.group(1)).isEmpty()) {
                int line = (int) text.substring(0, m.start(1)).chars().filter(c -> c == '\n').count() + 1;
                found.add(file + ":" + line + ": cites rule " + m.group(1) + ", which the catalogue does not have");
            }
        }
        String[] lines = text.split("\n", -1);
        for (int i = 0; i < lines.length; i++) {
            Matcher o = OUTSIDE.matcher(lines[i]);
            if (o.find()) {
                found.add(file + ":" + (i + 1) + ": '" + o.group() + "' points at a document outside the repository"
                        + " (cite a rule id, the kernel source file and function, or a doc under docs/)");
            }
        }
        return found;
    }

    /** The problems of every {@code .java} file under each module's {@code src/main/java} in {@code root}. */
    static List<String> problemsUnder(Path root, RuleCatalogue catalogue) {
        List<String> found = new ArrayList<>();
        for (Path source : sources(root)) {
            try {
                String text = Files.readString(source, StandardCharsets.UTF_8);
                found.addAll(problems(root.relativize(source).toString(), text, catalogue));
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
        }
        return found;
    }

    /** The main sources of every module of {@code root}. */
    static List<Path> sources(Path root) {
        List<Path> all = new ArrayList<>();
        try (Stream<Path> modules = Files.list(root)) {
            for (Path module : modules.sorted().toList()) {
                Path main = module.resolve("src/main/java");
                if (Files.isDirectory(main)) {
                    try (Stream<Path> files = Files.walk(main)) {
                        files.filter(p -> p.toString().endsWith(".java")).sorted().forEach(all::add);
                    }
                }
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return all;
    }

    /** The repository root: the parent of this module's directory. */
    static Path repositoryRoot() {
        Path module = Path.of("").toAbsolutePath();
        Path root = module.getParent();
        if (!Files.isRegularFile(root.resolve("pom.xml")) || !Files.isDirectory(root.resolve("sim"))) {
            throw new IllegalStateException("not run from a module of the repository: " + module);
        }
        return root;
    }
}
