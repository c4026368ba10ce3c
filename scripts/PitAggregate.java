import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.stream.Stream;
import javax.xml.parsers.DocumentBuilderFactory;
import org.w3c.dom.Element;
import org.w3c.dom.NodeList;

/**
 * Joins the per-module PIT reports of one mutation run into one score per mutated class.
 *
 * <p>PIT runs each module's own tests (with {@code crossModule}, also against the classes of the
 * modules it depends on), so one mutant of a kernel class appears in the kernel's, the drivers' and
 * the scenarios' reports. A mutant counts as killed when any module's tests killed it (the catalogue
 * counts, as the issue asks). Run from the repository root after {@code scripts/pit.sh}:
 * {@code java scripts/PitAggregate.java [root]}. Prints one row per class and writes the surviving
 * mutants to {@code target/pit-survivors.txt}.
 */
public final class PitAggregate {

    private record Mutant(String cls, String method, String desc, String line, String mutator,
            String indexes, String description) {}

    public static void main(String[] args) throws Exception {
        Path root = Path.of(args.length > 0 ? args[0] : ".");
        List<Path> reports;
        try (Stream<Path> walk = Files.walk(root, 4)) {
            reports = walk.filter(p -> p.endsWith(Path.of("pit-reports", "mutations.xml"))).sorted().toList();
        }
        if (reports.isEmpty()) {
            System.err.println("no PIT report under " + root + " (run scripts/pit.sh first)");
            System.exit(2);
        }
        Map<Mutant, Boolean> killed = new LinkedHashMap<>();
        Map<Mutant, String> killer = new LinkedHashMap<>();
        for (Path report : reports) {
            read(report, killed, killer);
        }
        Map<String, int[]> perClass = new TreeMap<>();
        List<String> survivors = new ArrayList<>();
        killed.forEach((m, k) -> {
            int[] c = perClass.computeIfAbsent(m.cls(), x -> new int[2]);
            c[0]++;
            if (k) {
                c[1]++;
            } else {
                survivors.add(m.cls() + ":" + m.line() + " " + m.method() + ": " + m.description());
            }
        });
        int total = 0;
        int dead = 0;
        System.out.printf("%-60s %8s %8s %6s%n", "class", "mutants", "killed", "score");
        for (var e : perClass.entrySet()) {
            int[] c = e.getValue();
            total += c[0];
            dead += c[1];
            System.out.printf("%-60s %8d %8d %5.0f%%%n", e.getKey(), c[0], c[1], 100.0 * c[1] / c[0]);
        }
        System.out.printf("%-60s %8d %8d %5.0f%%%n", "all (" + reports.size() + " module reports)", total, dead,
                total == 0 ? 0 : 100.0 * dead / total);
        Path out = root.resolve("target").resolve("pit-survivors.txt");
        Files.createDirectories(out.getParent());
        Files.write(out, survivors);
        System.out.println("surviving mutants: " + out);
    }

    private static void read(Path report, Map<Mutant, Boolean> killed, Map<Mutant, String> killer)
            throws IOException {
        try {
            var doc = DocumentBuilderFactory.newInstance().newDocumentBuilder().parse(report.toFile());
            NodeList list = doc.getElementsByTagName("mutation");
            for (int i = 0; i < list.getLength(); i++) {
                Element e = (Element) list.item(i);
                Mutant m = new Mutant(text(e, "mutatedClass"), text(e, "mutatedMethod"),
                        text(e, "methodDescription"), text(e, "lineNumber"), text(e, "mutator"),
                        text(e, "indexes"), text(e, "description"));
                boolean detected = "true".equals(e.getAttribute("detected"));
                killed.merge(m, detected, Boolean::logicalOr);
                if (detected) {
                    killer.putIfAbsent(m, text(e, "killingTest"));
                }
            }
        } catch (javax.xml.parsers.ParserConfigurationException | org.xml.sax.SAXException ex) {
            throw new IOException(report + ": " + ex.getMessage(), ex);
        }
    }

    private static String text(Element e, String tag) {
        NodeList n = e.getElementsByTagName(tag);
        return n.getLength() == 0 ? "" : n.item(0).getTextContent().trim();
    }
}
