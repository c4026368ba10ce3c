package hmm4j.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import hmm4j.cli.Table.Align;
import java.util.List;
import org.junit.jupiter.api.Test;

class TableTest {

    @Test
    void render_alignsColumnsToWidestCell() {
        Table t = new Table(List.of("scenario", "runs", "time", ""),
                List.of(Align.LEFT, Align.RIGHT, Align.RIGHT, Align.LEFT));
        t.addRow("S1-vhost", "1000", "-", "ok");
        t.addRow("S2-kvm-mmgrab-long", "3", "12.5 ms", "MISMATCH");
        String expected = """
                scenario            runs     time
                ------------------  ----  -------  --------
                S1-vhost            1000        -  ok
                S2-kvm-mmgrab-long     3  12.5 ms  MISMATCH
                """;
        assertEquals(expected, t.render());
    }

    @Test
    void render_headerWiderThanCells() {
        Table t = new Table(List.of("a long header", "n"), List.of(Align.LEFT, Align.RIGHT));
        t.addRow("x", "12");
        assertEquals("""
                a long header   n
                -------------  --
                x              12
                """, t.render());
    }

    @Test
    void render_withoutRowsIsHeaderAndRule() {
        Table t = new Table(List.of("id", "verdict"), List.of(Align.LEFT, Align.LEFT));
        assertEquals("id  verdict\n--  -------\n", t.render());
    }

    @Test
    void addRow_wrongCellCountIsRejected() {
        Table t = new Table(List.of("a", "b"), List.of(Align.LEFT, Align.LEFT));
        assertThrows(IllegalArgumentException.class, () -> t.addRow("only one"));
        assertThrows(NullPointerException.class, () -> t.addRow("x", null));
    }

    @Test
    void constructor_needsOneAlignmentPerColumn() {
        assertThrows(IllegalArgumentException.class, () -> new Table(List.of("a", "b"), List.of(Align.LEFT)));
        assertThrows(IllegalArgumentException.class, () -> new Table(List.of(), List.of()));
    }
}
