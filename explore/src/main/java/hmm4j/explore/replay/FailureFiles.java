package hmm4j.explore.replay;

import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.databind.json.JsonMapper;
import hmm4j.explore.Version;
import hmm4j.sim.HiddenFromSites;
import java.io.IOException;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;

/**
 * Reads and writes {@link FailureFile}s as indented JSON, map keys sorted (the bytes of a file
 * depend only on its content). Reading checks the format tag and the fields replay needs, so a
 * truncated, hand-edited or foreign file fails with one clear line in the file's terms (a JSON
 * path and what it should hold, never a Java type): text after the JSON object, a shard result,
 * a file of another format (the first format, {@value FailureFile#FORMAT_1}, must be
 * re-recorded), an unknown verdict kind, an exploration whose lanes or positions are
 * impossible ({@link FailureFileChecks}). A file of another hmm4j version but the same format
 * is read, and {@link #versionNote} says so.
 */
@HiddenFromSites
public final class FailureFiles {
    /** Configured once, never changed: Jackson mappers are thread-safe once configured. */
    private static final ObjectMapper JSON = JsonMapper.builder()
            .enable(SerializationFeature.INDENT_OUTPUT)
            .enable(SerializationFeature.ORDER_MAP_ENTRIES_BY_KEYS)
            .enable(DeserializationFeature.FAIL_ON_TRAILING_TOKENS)
            .disable(DeserializationFeature.FAIL_ON_UNKNOWN_PROPERTIES)
            .build();

    /** The format tags of failure files start with this. */
    private static final String FORMAT_PREFIX = "hmm4j-failure/";
    /** The format tags of shard results start with this. */
    private static final String SHARD_FORMAT_PREFIX = "hmm4j-shard/";

    private FailureFiles() {
    }

    /**
     * The mapper for hmm4j's JSON files (also used for shard results and JSON summaries): map
     * keys are written sorted, so a file's bytes do not depend on the JVM, and reading refuses
     * anything after the value.
     */
    public static ObjectMapper json() {
        return JSON;
    }

    /**
     * Writes {@code file} to {@code path}, creating its directory. The text goes to a temporary
     * file beside it first and is then moved over {@code path} atomically, so a reader (or a
     * second writer of the same run: an exploration's report and a shutdown hook's) never sees
     * a half-written or interleaved file.
     */
    public static void write(FailureFile file, Path path) throws IOException {
        Path abs = path.toAbsolutePath();
        Path dir = abs.getParent();
        if (dir != null) {
            Files.createDirectories(dir);
        }
        Path tmp = Files.createTempFile(dir, "." + abs.getFileName(), ".tmp");
        try {
            Files.writeString(tmp, toJson(file) + "\n");
            try {
                Files.move(tmp, abs, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
            } catch (AtomicMoveNotSupportedException e) {
                Files.move(tmp, abs, StandardCopyOption.REPLACE_EXISTING);
            }
        } finally {
            Files.deleteIfExists(tmp);
        }
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
        JsonNode tree = tree(text, source, "failure file");
        String format = tree.path("format").isTextual() ? tree.get("format").asText() : null;
        String version = tree.path("version").isTextual() ? tree.get("version").asText() : "?";
        if (format != null && format.startsWith(SHARD_FORMAT_PREFIX)) {
            throw new BadFailureFileException(source + ": this is a shard result, not a failure file (join shard "
                    + "results with 'hmm4j merge'; a failing shard names its failure file)");
        }
        if (FailureFile.FORMAT_1.equals(format)) {
            throw new BadFailureFileException(source + ": a failure file of format " + FailureFile.FORMAT_1
                    + ", which names operations by their text only; re-record it with this version (format "
                    + FailureFile.FORMAT + ")");
        }
        if (format != null && format.startsWith(FORMAT_PREFIX) && !FailureFile.FORMAT.equals(format)) {
            throw new BadFailureFileException(source + ": a failure file of format " + format + " (recorded by hmm4j "
                    + version + "), which hmm4j " + Version.current() + " cannot read (it reads " + FailureFile.FORMAT
                    + "); replay it with the version that recorded it, or re-record it");
        }
        if (!FailureFile.FORMAT.equals(format)) {
            throw new BadFailureFileException(source + ": not an hmm4j failure file (expected \"format\": \""
                    + FailureFile.FORMAT + "\")");
        }
        FailureFile f;
        try {
            f = JSON.treeToValue(tree, FailureFile.class);
        } catch (JsonProcessingException e) {
            throw new BadFailureFileException(source + ": not a valid failure file: " + describe(e));
        } catch (IllegalArgumentException e) {
            throw new BadFailureFileException(source + ": not a valid failure file: " + e.getMessage());
        }
        if (f == null || f.scenario() == null || f.bounds() == null || f.decisions().isEmpty()) {
            throw new BadFailureFileException(source + ": incomplete failure file (needs scenario, bounds and decisions)");
        }
        String problem = FailureFileChecks.problem(f);
        if (problem != null) {
            throw new BadFailureFileException(source + ": " + problem);
        }
        return f;
    }

    /**
     * A one-line note when {@code file} was recorded by another hmm4j version (it is replayed,
     * since its format is the one this version reads), or empty.
     */
    public static java.util.Optional<String> versionNote(FailureFile file) {
        String current = Version.current();
        if (current.equals(file.version())) {
            return java.util.Optional.empty();
        }
        return java.util.Optional.of("note: recorded by hmm4j " + file.version() + ", replayed by hmm4j " + current
                + "; the format " + file.format() + " is the same, so it replays as recorded");
    }

    /**
     * The JSON object of {@code text}: exactly one object and nothing after it but white space.
     * {@code what} names the kind of file in messages.
     *
     * @throws BadFailureFileException with a one-line message naming {@code source}
     */
    public static JsonNode tree(String text, String source, String what) {
        try (JsonParser p = JSON.getFactory().createParser(text)) {
            // Trailing text is checked below, to name it rather than fail on its first token.
            JsonNode tree = JSON.reader().without(DeserializationFeature.FAIL_ON_TRAILING_TOKENS).readTree(p);
            if (tree == null || tree.isMissingNode()) {
                throw new BadFailureFileException(source + ": empty file (expected a " + what + ")");
            }
            if (!atEnd(p)) {
                throw new BadFailureFileException(source + ": not a valid " + what + ": text after the end of the "
                        + "JSON object at line " + p.currentLocation().getLineNr());
            }
            if (!tree.isObject()) {
                throw new BadFailureFileException(source + ": not a valid " + what + ": expected a JSON object");
            }
            return tree;
        } catch (JsonProcessingException e) {
            throw new BadFailureFileException(source + ": not a valid " + what + ": " + syntax(e));
        } catch (IOException e) {
            throw new BadFailureFileException(source + ": cannot read: " + e.getMessage());
        }
    }

    /** True when nothing but white space follows the value {@code p} has read. */
    private static boolean atEnd(JsonParser p) throws IOException {
        try {
            return p.nextToken() == null;
        } catch (JsonProcessingException e) {
            return false;
        }
    }

    /**
     * A data-binding error in the file's terms: the field (as a JSON path such as
     * {@code decisions[3].chosen}) and what it should be, never a Java type.
     */
    public static String describe(JsonProcessingException e) {
        if (e instanceof com.fasterxml.jackson.databind.JsonMappingException m && !m.getPath().isEmpty()) {
            StringBuilder path = new StringBuilder();
            for (var r : m.getPath()) {
                if (r.getFieldName() != null) {
                    path.append(path.isEmpty() ? "" : ".").append(r.getFieldName());
                } else if (r.getIndex() >= 0) {
                    path.append('[').append(r.getIndex()).append(']');
                }
            }
            String expected = m instanceof com.fasterxml.jackson.databind.exc.MismatchedInputException mi
                    ? expected(mi.getTargetType()) : null;
            if (expected != null) {
                return "field '" + path + "' must be " + expected;
            }
            Throwable cause = m.getCause();
            String why = cause != null && cause.getMessage() != null ? cause.getMessage() : "has a wrong value";
            return "field '" + path + "': " + (cause instanceof NullPointerException ? "missing " + why : why);
        }
        return brief(e);
    }

    /** What a value of {@code type} looks like in JSON, or null for a type with no simple word. */
    private static String expected(Class<?> type) {
        if (type == null) {
            return null;
        }
        if (type == int.class || type == long.class || type == Integer.class || type == Long.class) {
            return "a whole number";
        }
        if (type == boolean.class || type == Boolean.class) {
            return "true or false";
        }
        if (type == String.class) {
            return "a string";
        }
        if (type.isEnum()) {
            return "one of " + java.util.Arrays.toString(type.getEnumConstants());
        }
        if (java.util.Collection.class.isAssignableFrom(type)) {
            return "a list";
        }
        return "an object";
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

    /**
     * What is wrong with text that is not JSON, in the file's terms rather than the parser's
     * (no token names): the file ends before its object does (cut short), or the text at a
     * line is not JSON.
     */
    static String syntax(JsonProcessingException e) {
        int line = e.getLocation() == null ? -1 : e.getLocation().getLineNr();
        String parser = String.valueOf(e.getOriginalMessage());
        if (e instanceof com.fasterxml.jackson.core.io.JsonEOFException || parser.contains("end-of-input")) {
            return "the file ends" + (line > 0 ? " at line " + line : "")
                    + " before its JSON object is complete (cut short?)";
        }
        return "the text" + (line > 0 ? " at line " + line : "") + " is not JSON";
    }

    /** A failure file that cannot be used, with a one-line message. */
    public static final class BadFailureFileException extends RuntimeException {
        private static final long serialVersionUID = 1L;

        public BadFailureFileException(String message) {
            super(message);
        }
    }
}
