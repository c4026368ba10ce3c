package hmm4j.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import hmm4j.sim.Kernel;
import hmm4j.sim.Op;
import hmm4j.sim.Runtime;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;

/**
 * Keeps identity and meaning out of display text: no scheduling point is built from text, and
 * neither POS nor replay reads meaning out of an operation's label; no reference holder is
 * named by a string, no rule is given as text, no expectation is compared by a label. Scans
 * every module's {@code src/main/java} of the repository (this module's parent directory).
 */
class TypedOperationsTest {

    /** A rule: the lines of main code matching {@code pattern} break it. */
    private record Rule(String why, Pattern pattern) {
    }

    private static final List<Rule> EVERYWHERE = List.of(
            new Rule("a scheduling point built from a string literal", Pattern.compile("\\.point\\(\\s*\"")),
            new Rule("a scheduling point that takes a String", Pattern.compile("\\bpoint\\(\\s*(final\\s+)?String\\b")),
            new Rule("the string-keyed point-name cache", Pattern.compile("\\bPointNames\\b")),
            new Rule("an operation identified by its text", Pattern.compile(
                    "\\.op\\(\\)\\s*\\.\\s*(equals|startsWith|endsWith|contains|indexOf|lastIndexOf|substring|split|matches)\\(")),
            new Rule("an operation's label parsed", Pattern.compile(
                    "\\.label\\(\\)\\s*\\.\\s*(startsWith|endsWith|contains|indexOf|lastIndexOf|substring|split|matches)\\(")),
            new Rule("a reference holder named by text", Pattern.compile(
                    "\\b(mmgrabAs|mmdropAs|transferUsersRef|holds)\\(\\s*(\"|[\\w.]*name\\(\\))")),
            new Rule("a rule given as text", Pattern.compile("\\bInvariantViolation\\(\\s*\"")),
            new Rule("an expectation compared by its label", Pattern.compile(
                    "\\bactual\\(\\)\\s*\\.equals\\(|\\.kind\\(\\)\\s*\\.label\\(\\)\\s*\\.equals\\(")));

    /** POS and replay compare typed operations only: no text handling of any kind. */
    private static final List<Rule> POS_AND_REPLAY = List.of(
            new Rule("text parsing in POS or replay", Pattern.compile(
                    "\\b(indexOf|lastIndexOf)\\(\\s*['\"]|\\b(substring|split|matches|startsWith|endsWith)\\(|\\bPattern\\b")));

    private static final List<String> POS_AND_REPLAY_FILES = List.of(
            "explore/src/main/java/hmm4j/explore/strategy/PosStrategy.java",
            "sim/src/main/java/hmm4j/sim/ReplayStrategy.java");

    private static Path root() {
        return Path.of(System.getProperty("basedir", System.getProperty("user.dir"))).toAbsolutePath().getParent();
    }

    private static List<Path> mainSources() throws IOException {
        List<Path> files = new ArrayList<>();
        try (Stream<Path> modules = Files.list(root())) {
            for (Path module : modules.filter(p -> Files.isDirectory(p.resolve("src/main/java"))).toList()) {
                try (Stream<Path> s = Files.walk(module.resolve("src/main/java"))) {
                    s.filter(p -> p.toString().endsWith(".java")).forEach(files::add);
                }
            }
        }
        return files;
    }

    /** The lines of {@code file} that break one of {@code rules}, as {@code path:line: why: text}. */
    private static List<String> violations(Path file, List<Rule> rules) throws IOException {
        List<String> found = new ArrayList<>();
        List<String> lines = Files.readAllLines(file);
        for (int i = 0; i < lines.size(); i++) {
            String line = lines.get(i);
            String code = line.strip();
            if (code.startsWith("*") || code.startsWith("/*") || code.startsWith("//")) {
                continue; // comments may quote the old forms
            }
            for (Rule r : rules) {
                if (r.pattern().matcher(line).find()) {
                    found.add(root().relativize(file) + ":" + (i + 1) + ": " + r.why() + ": " + code);
                }
            }
        }
        return found;
    }

    @Test
    void noSchedulingPoint_isBuiltFromText_orIdentifiedByIt() throws IOException {
        List<Path> sources = mainSources();
        assertTrue(sources.size() > 100, "found only " + sources.size() + " main sources under " + root());
        List<String> found = new ArrayList<>();
        for (Path f : sources) {
            found.addAll(violations(f, EVERYWHERE));
        }
        assertEquals(List.of(), found);
    }

    @Test
    void posAndReplay_neverParseOperationText() throws IOException {
        List<String> found = new ArrayList<>();
        for (String f : POS_AND_REPLAY_FILES) {
            Path file = root().resolve(f);
            assertTrue(Files.isRegularFile(file), f);
            found.addAll(violations(file, POS_AND_REPLAY));
        }
        assertEquals(List.of(), found);
    }

    @Test
    void theKernelAndTheRuntime_haveNoTextPoint() throws NoSuchMethodException {
        assertThrows(NoSuchMethodException.class, () -> Kernel.class.getMethod("point", String.class));
        assertThrows(NoSuchMethodException.class, () -> Runtime.class.getMethod("point", String.class));
        Kernel.class.getMethod("point", Op.class);
        Runtime.class.getMethod("point", Op.class);
    }

    @Test
    void theRules_catchTheOldForms_andSparePrinting() {
        List<String> old = List.of(
                "        kernel.point(\"kfree(\" + name + \")\");",
                "    public void point(String op) {",
                "        kernel.point(points.of(\"mutex_lock\")); // PointNames",
                "        if (decisions.get(0).op().equals(\"start\")) {",
                "        int open = op.label().indexOf('(');",
                "        mm.mmgrabAs(\"worker\");",
                "        if (users.holds(t.name())) {",
                "        k.report(new Failure.InvariantViolation(\"lost update\", detail, k.site()));",
                "        return actual().equals(e.label());",
                "        return f.kind().label().equals(expected.label());");
        for (String line : old) {
            assertTrue(EVERYWHERE.stream().anyMatch(r -> r.pattern().matcher(line).find()), line);
        }
        assertTrue(POS_AND_REPLAY.get(0).pattern().matcher("        int open = op.indexOf('(');").find());
        assertTrue(POS_AND_REPLAY.get(0).pattern().matcher("        return op.substring(open + 1, close);").find());
        assertFalse(POS_AND_REPLAY.get(0).pattern().matcher("        return enabled.indexOf(d.chosen());").find());
        List<String> fine = List.of(
                "        kernel.point(lockOp);",
                "        k.point(new Op(EXIT_MMAP, mm.target(), \"exit_mmap(\" + mm.name() + \"): mmu_notifier_release\"));",
                "        if (!point.op().sameAs(d.op())) {",
                "        return \"'\" + op.label() + \"' (\" + op.kind().name() + \")\";",
                "            if (!k.label().equals(name)) {",
                "        mm.mmgrabAs(handle);",
                "        if (users.holds(t)) {",
                "        k.report(new Failure.InvariantViolation(KernelRules.END_PAIRS_START, detail, k.site()));",
                "        return actualRule().map(r -> r.id().equals(e.finds().id())).orElse(false);");
        for (String line : fine) {
            assertFalse(EVERYWHERE.stream().anyMatch(r -> r.pattern().matcher(line).find()), line);
        }
    }
}
