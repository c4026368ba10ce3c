package hmm4j.cli;

import hmm4j.scenarios.Catalogue;
import hmm4j.scenarios.Scenario;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.util.List;
import java.util.Map;
import java.util.function.Supplier;
import java.util.stream.Stream;
import picocli.CommandLine;

/** Runs the hmm4j command line in-process and captures what it prints. */
final class Console {
    private final StringWriter out = new StringWriter();
    private final StringWriter err = new StringWriter();
    private final CommandLine commandLine;
    private int exitCode = -1;

    private Console(CommandLine commandLine) {
        this.commandLine = commandLine;
    }

    /** The real command line, with an empty environment. */
    static Console real() {
        return new Console(new CommandLine(new Main(Map.of())));
    }

    /** The command line with {@code check} replaced by {@code check} and extra commands added. */
    static Console with(Map<String, String> env, CheckCommand check, Object... extraCommands) {
        CommandLine.IFactory factory = new CommandLine.IFactory() {
            @Override
            public <K> K create(Class<K> cls) throws Exception {
                return cls == CheckCommand.class ? cls.cast(check) : CommandLine.defaultFactory().create(cls);
            }
        };
        CommandLine cl = new CommandLine(new Main(env), factory);
        for (Object c : extraCommands) {
            cl.addSubcommand(c);
        }
        return new Console(cl);
    }

    /** The real command line whose {@code explore} and {@code replay} see {@code extra} scenarios too. */
    static Console over(List<Scenario> extra) {
        Supplier<List<Scenario>> all = () -> Stream.concat(extra.stream(), Catalogue.all().stream()).toList();
        CommandLine.IFactory factory = new CommandLine.IFactory() {
            @Override
            public <K> K create(Class<K> cls) throws Exception {
                if (cls == ExploreCommand.class) {
                    return cls.cast(new ExploreCommand(all));
                }
                if (cls == ReplayCommand.class) {
                    return cls.cast(new ReplayCommand(all));
                }
                return CommandLine.defaultFactory().create(cls);
            }
        };
        return new Console(new CommandLine(new Main(Map.of()), factory));
    }

    /** Executes {@code args}; returns this for chaining. */
    Console run(String... args) {
        Main.configure(commandLine, new PrintWriter(out, true), new PrintWriter(err, true));
        exitCode = commandLine.execute(args);
        return this;
    }

    int exitCode() {
        return exitCode;
    }

    String out() {
        return out.toString();
    }

    String err() {
        return err.toString();
    }

    /** Standard error split into lines (no trailing empty line). */
    List<String> errLines() {
        return err.toString().lines().toList();
    }
}
