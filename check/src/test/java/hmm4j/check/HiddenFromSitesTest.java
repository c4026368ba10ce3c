package hmm4j.check;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import hmm4j.sim.HiddenFromSites;
import java.io.IOException;
import java.net.URISyntaxException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;

/**
 * Every class of the checkers' main code is hidden from report sites, so that sites name the
 * code that called a checker; the checkers' tests are not, so their frames are reported.
 */
class HiddenFromSitesTest {

    private static boolean hidden(Class<?> type) {
        for (Class<?> c = type; c != null; c = c.getEnclosingClass()) {
            if (c.isAnnotationPresent(HiddenFromSites.class)) {
                return true;
            }
        }
        return false;
    }

    @Test
    void everyMainClassOfCheck_isHidden() throws IOException, URISyntaxException, ClassNotFoundException {
        Path classes = Path.of(Checkers.class.getProtectionDomain().getCodeSource().getLocation().toURI());
        assertTrue(Files.isDirectory(classes), "expected the main classes as a directory: " + classes);
        List<String> visible = new ArrayList<>();
        int checked = 0;
        try (Stream<Path> files = Files.walk(classes)) {
            for (Path p : files.filter(f -> f.toString().endsWith(".class")).toList()) {
                String name = classes.relativize(p).toString().replace(p.getFileSystem().getSeparator(), ".")
                        .replaceAll("\\.class$", "");
                if (name.endsWith("package-info")) {
                    continue;
                }
                checked++;
                if (!hidden(Class.forName(name, false, Checkers.class.getClassLoader()))) {
                    visible.add(name);
                }
            }
        }
        assertTrue(checked >= 8, "only " + checked + " classes found under " + classes);
        assertEquals(List.of(), visible, "main classes of check without @HiddenFromSites");
    }

    @Test
    void testClasses_inTheCheckersPackages_areNotHidden() throws ClassNotFoundException {
        for (String name : List.of("hmm4j.check.HiddenFromSitesTest", "hmm4j.check.lifetime.Buffer",
                "hmm4j.check.lockdep.ReportSitesTest")) {
            assertTrue(!hidden(Class.forName(name)), name);
        }
    }
}
