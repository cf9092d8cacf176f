package dev.ferry.control.lab;

import dev.ferry.control.cli.FerryCli;
import picocli.CommandLine;

/**
 * Main class of ferry-lab.jar: the {@code ferry} command with {@code lab} added, which is how
 * {@code ./ferry lab ...} and {@code ./ferry demo} run. The agent's own jar (ferry.jar, the
 * Debian package) carries no lab.
 */
public final class LabCli {
    private LabCli() {
    }

    /** {@code ferry} and its {@code lab} subcommand; tests execute it with their own writers. */
    public static CommandLine commandLine() {
        return FerryCli.commandLine().addSubcommand(new LabCommand());
    }

    public static void main(final String[] args) {
        System.exit(commandLine().execute(args));
    }
}
