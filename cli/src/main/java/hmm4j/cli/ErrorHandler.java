package hmm4j.cli;

import java.io.IOException;
import java.io.PrintWriter;
import java.io.UncheckedIOException;
import java.nio.file.AccessDeniedException;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.FileSystemException;
import java.nio.file.NoSuchFileException;
import java.util.List;
import java.util.function.BooleanSupplier;
import picocli.CommandLine;
import picocli.CommandLine.IExecutionExceptionHandler;
import picocli.CommandLine.IParameterExceptionHandler;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.ParseResult;
import picocli.CommandLine.UnmatchedArgumentException;

/**
 * Turns picocli's parse errors and the exceptions of commands into one line on standard
 * error: {@code hmm4j: <what> (see 'hmm4j check --help')} with exit code {@link #USAGE} for
 * wrong arguments or an unusable file, {@code hmm4j: <message>} with exit code
 * {@link #FOUND} for a command that failed (plus the stack trace of either when debugging
 * is on). The exit codes are those of {@link ExitCodes}.
 */
final class ErrorHandler implements IParameterExceptionHandler, IExecutionExceptionHandler {
    /** Exit code for wrong arguments or an unusable file. */
    static final int USAGE = ExitCodes.USAGE;
    /** Exit code for a command that failed with an exception. */
    static final int ERROR = ExitCodes.FOUND;

    private final PrintWriter err;
    private final BooleanSupplier debug;

    ErrorHandler(PrintWriter err, BooleanSupplier debug) {
        this.err = err;
        this.debug = debug;
    }

    /** Reports a wrong argument in one line (and its stack when debugging); returns {@link #USAGE}. */
    @Override
    public int handleParseException(ParameterException ex, String[] args) {
        CommandLine cmd = ex.getCommandLine();
        err.println("hmm4j: " + oneLine(describe(ex)) + " (see '"
                + cmd.getCommandSpec().qualifiedName() + " --help')");
        if (debug.getAsBoolean()) {
            ex.printStackTrace(err);
        }
        err.flush();
        return USAGE;
    }

    /**
     * Reports a failed command in one line (and its stack when debugging); returns
     * {@link #USAGE} for a file that cannot be read or written, else {@link #ERROR}.
     */
    @Override
    public int handleExecutionException(Exception ex, CommandLine cmd, ParseResult parseResult) {
        String message = ex.getMessage();
        Throwable io = ex instanceof UncheckedIOException u ? u.getCause() : ex;
        if (io instanceof FileSystemException f && f.getFile() != null) {
            message = f.getFile() + ": " + (f.getReason() != null ? f.getReason()
                    : f instanceof AccessDeniedException ? "permission denied"
                    : f instanceof NoSuchFileException ? "no such file or directory"
                    : f instanceof FileAlreadyExistsException ? "already exists"
                    : "cannot be read or written");
        } else if (message == null || message.isBlank() || isInternal(ex)) {
            message = "internal error in '" + cmd.getCommandSpec().qualifiedName() + "'"
                    + (debug.getAsBoolean() ? "" : " (" + Main.DEBUG_VARIABLE + "=1 shows the stack trace)");
        }
        err.println("hmm4j: " + oneLine(message));
        if (debug.getAsBoolean()) {
            ex.printStackTrace(err);
        }
        err.flush();
        return ex instanceof IOException || ex instanceof UncheckedIOException ? USAGE : ERROR;
    }

    /** An exception whose message is Java's, not ours: never shown to the user. */
    private static boolean isInternal(Exception ex) {
        return ex instanceof NullPointerException || ex instanceof ClassCastException
                || ex instanceof IndexOutOfBoundsException || ex instanceof ArithmeticException
                || ex instanceof UnsupportedOperationException;
    }

    /** Picocli's message, except for a stray word, which is named as an unknown command. */
    private static String describe(ParameterException ex) {
        if (ex instanceof UnmatchedArgumentException u && !u.isUnknownOption()) {
            List<String> unmatched = u.getUnmatched();
            if (!unmatched.isEmpty() && !unmatched.get(0).startsWith("-")) {
                boolean hasCommands = !ex.getCommandLine().getSubcommands().isEmpty();
                return (hasCommands ? "Unknown command: '" : "Unexpected argument: '") + unmatched.get(0) + "'";
            }
        }
        return ex.getMessage();
    }

    private static String oneLine(String s) {
        String trimmed = s.strip();
        int nl = trimmed.indexOf('\n');
        return nl < 0 ? trimmed : trimmed.substring(0, nl).strip();
    }
}
