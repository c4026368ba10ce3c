package hmm4j.explore.report;

import java.util.ArrayList;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The structure of an HTML report as lines of text, for golden files that do not change
 * with the style sheet or the geometry: the page title, the verdict and facts, the lanes,
 * every mark of the timeline (kind, slot, task, tooltip) and every row of the event table.
 */
final class HtmlDigest {
    private static final Pattern TITLE = Pattern.compile("<title>([^<]*)</title>\\n<style>");
    private static final Pattern VERDICT = Pattern.compile("<p class=\"verdict (\\w+)\">([^<]*)</p>");
    private static final Pattern FACT = Pattern.compile("<dt>([^<]*)</dt><dd>(?:<code class=\"replay\">)?([^<]*)");
    private static final Pattern LANE = Pattern.compile("<text class=\"task\" data-task=\"(\\d+)\"[^>]*>([^<]*)</text>");
    private static final Pattern MARK = Pattern.compile("<(?:rect|g|line) class=\"([^\"]+)\" data-slot=\"(\\d+)\" "
            + "data-task=\"(\\d+)\" data-kind=\"[^\"]+\"[^>]*>(?:<title>([^<]*)</title>)?");
    private static final Pattern ROW = Pattern.compile("<tr id=\"([^\"]+)\" class=\"([^\"]+)\">(.*?)</tr>");
    private static final Pattern TAG = Pattern.compile("<[^>]+>");

    private HtmlDigest() {
    }

    static String of(String html) {
        List<String> lines = new ArrayList<>();
        find(TITLE, html, m -> lines.add("title: " + m.group(1)));
        find(VERDICT, html, m -> lines.add("verdict (" + m.group(1) + "): " + m.group(2)));
        find(FACT, html, m -> lines.add("fact " + m.group(1) + ": " + m.group(2)));
        find(LANE, html, m -> lines.add("lane " + m.group(1) + ": " + m.group(2)));
        find(MARK, html, m -> lines.add("mark " + m.group(1) + " slot " + m.group(2) + " task " + m.group(3) + ": "
                + (m.group(4) == null ? "" : m.group(4).replace("\n", " / "))));
        find(ROW, html, m -> lines.add("row " + m.group(1) + " (" + m.group(2) + "): "
                + TAG.matcher(m.group(3).replace("</td><td>", " | ")).replaceAll("")));
        return String.join("\n", lines) + "\n";
    }

    private static void find(Pattern p, String html, java.util.function.Consumer<Matcher> each) {
        Matcher m = p.matcher(html);
        while (m.find()) {
            each.accept(m);
        }
    }
}
