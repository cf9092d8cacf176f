package dev.ferry.control.testing;

import picocli.CommandLine;

import java.io.PrintWriter;
import java.io.StringWriter;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Supplier;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Walks a picocli command tree and checks that every command and subcommand answers {@code -h}
 * and {@code --help} with its usage and exit code 0, running nothing. Shared by the agent's tree
 * (ferry.jar) and the lab's (ferry-lab.jar, which adds {@code lab}).
 */
public final class HelpWalk {
    private HelpWalk() {
    }

    /**
     * Asks every command of the tree that {@code tree} builds for help, each on a fresh tree (a
     * parsed command keeps its options); returns how many commands it walked.
     */
    public static int assertEveryCommandAnswersHelp(final Supplier<CommandLine> tree) {
        final List<CommandLine> all = new ArrayList<>();
        collect(tree.get(), all);
        for (final CommandLine command : all) {
            final List<String> path = new ArrayList<>();
            for (CommandLine c = command; c.getParent() != null; c = c.getParent()) {
                path.addFirst(c.getCommandName());
            }
            for (final String flag : List.of("-h", "--help")) {
                final StringWriter out = new StringWriter();
                final StringWriter err = new StringWriter();
                final List<String> args = new ArrayList<>(path);
                args.add(flag);
                final int exit = tree.get().setOut(new PrintWriter(out)).setErr(new PrintWriter(err))
                    .execute(args.toArray(String[]::new));
                final String name = "ferry " + String.join(" ", args);
                assertEquals(0, exit, name + " exits 0: " + err);
                // picocli's own 'help' command describes itself in its own words
                final boolean usage = command.getCommand() instanceof CommandLine.HelpCommand
                    ? !out.toString().isBlank() : out.toString().startsWith("Usage: ferry");
                assertTrue(usage, name + " prints its usage: " + out + err);
            }
        }
        return all.size();
    }

    private static void collect(final CommandLine command, final List<CommandLine> out) {
        out.add(command);
        command.getSubcommands().values().stream().distinct().forEach(sub -> collect(sub, out));
    }
}
