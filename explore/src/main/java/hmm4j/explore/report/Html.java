package hmm4j.explore.report;

import hmm4j.sim.HiddenFromSites;

/** Escaping for text and attribute values in the HTML and SVG the reports write. */
@HiddenFromSites
final class Html {
    private Html() {
    }

    /** {@code s} with {@code & < > " '} escaped, safe in text and in quoted attributes. */
    static String escape(String s) {
        StringBuilder b = new StringBuilder(s.length() + 16);
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            switch (c) {
                case '&' -> b.append("&amp;");
                case '<' -> b.append("&lt;");
                case '>' -> b.append("&gt;");
                case '"' -> b.append("&quot;");
                case '\'' -> b.append("&#39;");
                default -> b.append(c);
            }
        }
        return b.toString();
    }
}
