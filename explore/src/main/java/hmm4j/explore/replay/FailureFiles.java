package hmm4j.explore.replay;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.databind.json.JsonMapper;
import hmm4j.sim.HiddenFromSites;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;

/**
 * Reads and writes {@link FailureFile}s as indented JSON. Reading checks the format tag and
 * the fields replay needs, so a truncated or foreign file fails with one clear line; a file of
 * the first format ({@value FailureFile#FORMAT_1}, operations as text only) is refused with a
 * line saying it must be re-recorded.
 */
@HiddenFromSites
public final class FailureFiles {
    /** Configured once, never changed: Jackson mappers are thread-safe once configured. */
    private static final ObjectMapper JSON = JsonMapper.builder()
            .enable(SerializationFeature.INDENT_OUTPUT)
            .disable(DeserializationFeature.FAIL_ON_UNKNOWN_PROPERTIES)
            .build();

    private FailureFiles() {
    }

    /** The mapper for hmm4j's JSON files (also used for shard results). */
    public static ObjectMapper json() {
        return JSON;
    }

    /** Writes {@code file} to {@code path}, creating its directory. */
    public static void write(FailureFile file, Path path) throws IOException {
        Path dir = path.toAbsolutePath().getParent();
        if (dir != null) {
            Files.createDirectories(dir);
        }
        Files.writeString(path, toJson(file) + "\n");
    }

    /** The JSON text of {@code file}. */
    public static String toJson(FailureFile file) {
        try {
            return JSON.writeValueAsString(file);
        } catch (JsonProcessingException e) {
            throw new IllegalStateException("cannot write a failure file: " + e.getOriginalMessage(), e);
        }
    }

    /**
     * Reads a failure file.
     *
     * @throws BadFailureFileException when the file is missing, unreadable, not JSON, or not a
     *                                 failure file (one-line message naming the file)
     */
    public static FailureFile read(Path path) {
        String text;
        try {
            text = Files.readString(path);
        } catch (NoSuchFileException e) {
            throw new BadFailureFileException(path + ": no such file");
        } catch (IOException e) {
            throw new BadFailureFileException(path + ": cannot read: " + e.getMessage());
        }
        return parse(text, path.toString());
    }

    /** Parses the JSON text of a failure file; {@code source} names it in messages. */
    public static FailureFile parse(String text, String source) {
        if (FailureFile.FORMAT_1.equals(formatOf(text))) {
            throw new BadFailureFileException(source + ": a failure file of format " + FailureFile.FORMAT_1
                    + ", which names operations by their text only; re-record it with this version (format "
                    + FailureFile.FORMAT + ")");
        }
        FailureFile f;
        try {
            f = JSON.readValue(text, FailureFile.class);
        } catch (JsonProcessingException e) {
            String where = e.getLocation() == null ? "" : " at line " + e.getLocation().getLineNr();
            throw new BadFailureFileException(source + ": not a valid failure file" + where + ": " + brief(e));
        }
        if (f == null || !FailureFile.FORMAT.equals(f.format())) {
            throw new BadFailureFileException(source + ": not an hmm4j failure file (expected \"format\": \""
                    + FailureFile.FORMAT + "\")");
        }
        if (f.scenario() == null || f.bounds() == null || f.decisions().isEmpty()) {
            throw new BadFailureFileException(source + ": incomplete failure file (needs scenario, bounds and decisions)");
        }
        return f;
    }

    /** The file's {@code "format"} tag, or null when the text is not a JSON object with one. */
    private static String formatOf(String text) {
        try {
            JsonNode format = JSON.readTree(text).get("format");
            return format == null ? null : format.asText();
        } catch (JsonProcessingException e) {
            return null;
        }
    }

    /** The first line of Jackson's message, without its parenthesised source location. */
    public static String brief(JsonProcessingException e) {
        String m = e.getOriginalMessage() == null ? e.getClass().getSimpleName() : e.getOriginalMessage();
        m = m.lines().findFirst().orElse("");
        int cut = m.indexOf(" (");
        if (cut < 0) {
            cut = m.indexOf(" at [Source");
        }
        return cut > 0 ? m.substring(0, cut) : m;
    }

    /** A failure file that cannot be used, with a one-line message. */
    public static final class BadFailureFileException extends RuntimeException {
        private static final long serialVersionUID = 1L;

        public BadFailureFileException(String message) {
            super(message);
        }
    }
}
