package hmm4j.cli;

import java.util.ArrayList;
import java.util.List;
import java.util.Objects;

/**
 * A plain-text table: a header line, a rule of dashes, then the rows. Columns are as wide
 * as their widest cell and separated by two spaces; each column is left- or right-aligned.
 * Trailing spaces are trimmed, so the output is stable for golden tests.
 */
final class Table {

    /** How the cells of a column are aligned. */
    enum Align { LEFT, RIGHT }

    private final List<String> headers;
    private final List<Align> aligns;
    private final List<List<String>> rows = new ArrayList<>();

    /**
     * A table with the given column headers and alignments (one per column).
     *
     * @throws IllegalArgumentException if the two lists differ in length or are empty
     */
    Table(List<String> headers, List<Align> aligns) {
        if (headers.isEmpty() || headers.size() != aligns.size()) {
            throw new IllegalArgumentException("need one alignment per column, got "
                    + aligns.size() + " for " + headers.size() + " columns");
        }
        this.headers = List.copyOf(headers);
        this.aligns = List.copyOf(aligns);
    }

    /**
     * Appends a row.
     *
     * @throws IllegalArgumentException if the row does not have one cell per column
     */
    Table addRow(String... cells) {
        if (cells.length != headers.size()) {
            throw new IllegalArgumentException("row has " + cells.length + " cells, table has "
                    + headers.size() + " columns");
        }
        for (String c : cells) {
            Objects.requireNonNull(c, "cell");
        }
        rows.add(List.of(cells));
        return this;
    }

    /** The table as text, every line ending in a newline. */
    String render() {
        int[] width = new int[headers.size()];
        for (int c = 0; c < width.length; c++) {
            width[c] = headers.get(c).length();
            for (List<String> row : rows) {
                width[c] = Math.max(width[c], row.get(c).length());
            }
        }
        StringBuilder b = new StringBuilder();
        line(b, headers, width);
        List<String> rule = new ArrayList<>(width.length);
        for (int w : width) {
            rule.add("-".repeat(w));
        }
        line(b, rule, width);
        for (List<String> row : rows) {
            line(b, row, width);
        }
        return b.toString();
    }

    private void line(StringBuilder b, List<String> cells, int[] width) {
        int start = b.length();
        for (int c = 0; c < width.length; c++) {
            if (c > 0) {
                b.append("  ");
            }
            String cell = cells.get(c);
            String pad = " ".repeat(width[c] - cell.length());
            if (aligns.get(c) == Align.RIGHT) {
                b.append(pad).append(cell);
            } else {
                b.append(cell).append(pad);
            }
        }
        int end = b.length();
        while (end > start && b.charAt(end - 1) == ' ') {
            end--;
        }
        b.setLength(end);
        b.append('\n');
    }
}
