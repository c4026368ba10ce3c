package hmm4j.cli;

import java.nio.file.Files;
import java.nio.file.Path;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.ParameterException;

/**
 * Checks of option values that the commands make before any work, each failing with a
 * wrong-argument error (exit 2) worded in the option's own terms, e.g.
 * {@code --max-steps must be at least 1 (got 0)}.
 */
final class Options {
    private Options() {
    }

    /** {@code value} (when given) is at least {@code min}. */
    static void atLeast(CommandSpec spec, String option, Number value, long min) {
        if (value != null && value.longValue() < min) {
            throw new ParameterException(spec.commandLine(), option + " must be at least " + min + " (got " + value + ")");
        }
    }

    /** {@code dir} is a directory or does not exist yet (it is then created when needed). */
    static void directory(CommandSpec spec, String option, Path dir) {
        if (Files.exists(dir) && !Files.isDirectory(dir)) {
            throw new ParameterException(spec.commandLine(), option + " " + dir
                    + ": exists and is not a directory (give a directory for the output files)");
        }
        if (Files.isDirectory(dir) && !Files.isWritable(dir)) {
            throw new ParameterException(spec.commandLine(), option + " " + dir + ": directory not writable");
        }
        for (Path p = dir.toAbsolutePath().getParent(); p != null; p = p.getParent()) {
            if (Files.exists(p) && !Files.isDirectory(p)) {
                throw new ParameterException(spec.commandLine(), option + " " + dir + ": " + p + " is not a directory");
            }
        }
    }

    /** {@code file} is an existing regular file. */
    static void readableFile(CommandSpec spec, String option, Path file) {
        if (!Files.exists(file)) {
            throw new ParameterException(spec.commandLine(), (option == null ? "" : option + " ") + file + ": no such file");
        }
        if (!Files.isRegularFile(file) || !Files.isReadable(file)) {
            throw new ParameterException(spec.commandLine(), (option == null ? "" : option + " ") + file
                    + ": not a readable file");
        }
    }
}
