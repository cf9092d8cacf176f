package dev.ferry.control.cli;

import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Spec;

import java.util.concurrent.Callable;

/**
 * Entry point of the {@code ferry} command: a picocli command whose subcommands are Ferry's
 * tools. Exit codes: 0 success, 1 the command ran and found a problem, 2 bad usage or a bad
 * node config.
 */
@Command(name = "ferry",
    mixinStandardHelpOptions = true,
    version = "ferry 0.1.0",
    description = "Ferry: a Kubernetes Service dataplane in userspace Java.",
    footer = {"", "In a checkout, the ./ferry launcher also runs:",
        "  demo          the lab demo (root): every Service type, agents in namespaces",
        "  lab           the lab itself (root): up, status, exec, pod, down (docs/LAB.md)",
        "  test          the whole test suite, as CI runs it",
        "  build         the jars, without tests",
        "  bench         JMH and lab benchmark reports (perf/README.md)",
        "  fuzz          coverage-guided fuzzing of one target with Jazzer",
        "  package       the Debian package for a node, built and checked",
        "Each answers --help."},
    subcommands = {AgentCommand.class, TraceCommand.class, ServicesCommand.class, ConntrackCommand.class, StatCommand.class, AotTrainingCommand.class, CommandLine.HelpCommand.class})
public final class FerryCli implements Callable<Integer> {
    @Spec
    CommandSpec spec;

    /** The configured command line; tests execute it with their own writers. */
    public static CommandLine commandLine() {
        return new CommandLine(new FerryCli());
    }

    public static void main(final String[] args) {
        System.exit(commandLine().execute(args));
    }

    /** Without a subcommand: the usage, as an error. */
    @Override
    public Integer call() {
        spec.commandLine().usage(spec.commandLine().getErr());
        return CommandLine.ExitCode.USAGE;
    }
}
