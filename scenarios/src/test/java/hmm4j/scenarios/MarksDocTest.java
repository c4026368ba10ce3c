package hmm4j.scenarios;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import hmm4j.drivers.dmirror.DmirrorDevice;
import hmm4j.kernel.mm.MmStruct;
import hmm4j.sim.Mark;
import java.io.IOException;
import java.lang.reflect.Field;
import java.lang.reflect.Modifier;
import java.net.URISyntaxException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.jar.JarFile;
import java.util.stream.Collectors;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;

/**
 * Keeps {@code docs/marks.md}, the list of every coverage mark of the kernel model and the
 * drivers, in sync with the code: the table is generated from the {@code Mark} constants found
 * in the compiled classes of both modules and the catalogue's expectations. Regenerate after a
 * deliberate change with {@code -Dhmm4j.updateGolden=true}.
 */
class MarksDocTest {
    private static final String UPDATE = "hmm4j.updateGolden";

    /** One declared mark: its constant and the field it is declared in. */
    record Declared(Mark mark, Field field) {
        String where() {
            return field.getDeclaringClass().getName() + "." + field.getName();
        }
    }

    @Test
    void docsMarksMd_listsEveryMarkOfTheCode() throws Exception {
        String rendered = render(declared());
        Path doc = repoRoot().resolve("docs/marks.md");
        if (Boolean.getBoolean(UPDATE)) {
            Files.writeString(doc, rendered, StandardCharsets.UTF_8);
            return;
        }
        String actual = Files.exists(doc) ? Files.readString(doc, StandardCharsets.UTF_8).replace("\r\n", "\n") : "";
        if (!actual.equals(rendered)) {
            fail("docs/marks.md is out of date with the marks in the code; regenerate it with\n"
                    + "  ./verify -pl scenarios -am -Dtest=MarksDocTest -Dsurefire.failIfNoSpecifiedTests=false "
                    + "-D" + UPDATE + "=true\nexpected:\n" + rendered);
        }
    }

    @Test
    void everyMark_isAPublicConstant_withAUniqueId_andEveryListedMarkIsDeclared() throws Exception {
        List<Declared> all = declared();
        assertTrue(all.size() >= 20, "found only " + all.size() + " marks");
        for (Declared d : all) {
            int m = d.field().getModifiers();
            assertTrue(Modifier.isPublic(m) && Modifier.isStatic(m) && Modifier.isFinal(m),
                    d.where() + " must be public static final");
        }
        assertEquals(all.size(), all.stream().map(d -> d.mark().id()).distinct().count(), "duplicate mark ids");
        List<Mark> declaredMarks = all.stream().map(Declared::mark).toList();
        for (Scenario s : Catalogue.all()) {
            for (Mark listed : s.expectation().marks()) {
                assertTrue(declaredMarks.contains(listed), s.id() + " lists " + listed + ", declared nowhere scanned");
            }
        }
    }

    static String render(List<Declared> marks) {
        StringBuilder b = new StringBuilder();
        b.append("# Coverage marks\n\n")
                .append("Generated from the `hmm4j.sim.Mark` constants of the kernel model and the drivers by\n")
                .append("`MarksDocTest` (scenarios module), which fails when this file is out of date. A clean\n")
                .append("catalogue scenario lists the marks its exploration must reach; `hmm4j check` fails it\n")
                .append("when one is not reached (see docs/architecture.md, \"Coverage marks\").\n\n")
                .append("| id | what happened | declared in | listed by |\n")
                .append("|---|---|---|---|\n");
        for (Declared d : marks) {
            String listedBy = Catalogue.all().stream().filter(s -> s.expectation().marks().contains(d.mark()))
                    .map(Scenario::id).collect(Collectors.joining(", "));
            String cls = d.field().getDeclaringClass().getName().replace("hmm4j.", "");
            b.append("| `").append(d.mark().id()).append("` | ").append(d.mark().statement().replace("|", "\\|"))
                    .append(" | `").append(cls).append('.').append(d.field().getName()).append("` | ")
                    .append(listedBy.isEmpty() ? "-" : listedBy).append(" |\n");
        }
        return b.toString();
    }

    /** Every {@code Mark} constant of the kernel and drivers modules, ordered by id. */
    static List<Declared> declared() throws Exception {
        List<Declared> all = new ArrayList<>();
        for (Class<?> anchor : List.of(MmStruct.class, DmirrorDevice.class)) {
            for (String name : classNames(Path.of(anchor.getProtectionDomain().getCodeSource().getLocation().toURI()))) {
                Class<?> c = Class.forName(name, false, anchor.getClassLoader());
                for (Field f : c.getDeclaredFields()) {
                    if (f.getType() == Mark.class && Modifier.isStatic(f.getModifiers())) {
                        f.setAccessible(true);
                        all.add(new Declared((Mark) f.get(null), f));
                    }
                }
            }
        }
        all.sort(Comparator.comparing(d -> d.mark().id()));
        return all;
    }

    /** The class names in a classes directory or a jar. */
    private static List<String> classNames(Path location) throws IOException {
        List<String> names = new ArrayList<>();
        if (Files.isDirectory(location)) {
            try (Stream<Path> files = Files.walk(location)) {
                files.filter(p -> p.toString().endsWith(".class"))
                        .map(p -> location.relativize(p).toString().replace('\\', '/'))
                        .forEach(n -> names.add(n));
            }
        } else {
            try (JarFile jar = new JarFile(location.toFile())) {
                jar.stream().map(e -> e.getName()).filter(n -> n.endsWith(".class")).forEach(names::add);
            }
        }
        return names.stream().filter(n -> !n.endsWith("package-info.class") && !n.startsWith("META-INF"))
                .map(n -> n.substring(0, n.length() - ".class".length()).replace('/', '.')).sorted().toList();
    }

    /** The repository root: the parent of this module's directory. */
    private static Path repoRoot() throws URISyntaxException {
        String basedir = System.getProperty("basedir");
        Path module = basedir != null ? Path.of(basedir) : Path.of("").toAbsolutePath();
        return module.getParent();
    }
}
