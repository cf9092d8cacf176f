package dev.ferry.control.cli;

import org.junit.jupiter.api.Test;
import picocli.CommandLine;

import java.io.PrintWriter;
import java.io.StringWriter;
import java.util.ArrayList;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Every command and subcommand of {@code ferry} answers {@code -h} and {@code --help} with its usage, and runs nothing. */
class CommandTreeHelpTest {
    private static void collect(final CommandLine command, final List<CommandLine> out) {
        out.add(command);
        command.getSubcommands().values().stream().distinct().forEach(sub -> collect(sub, out));
    }

    @Test
    void shouldAnswerHelpOnEveryCommandOfTheTree() {
        final List<CommandLine> all = new ArrayList<>();
        collect(FerryCli.commandLine(), all);
        assertTrue(all.size() > 5, "the tree was walked: " + all.size() + " commands");
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
                final int exit = FerryCli.commandLine().setOut(new PrintWriter(out)).setErr(new PrintWriter(err))
                    .execute(args.toArray(String[]::new));
                final String name = "ferry " + String.join(" ", args);
                assertEquals(0, exit, name + " exits 0: " + err);
                // picocli's own 'help' command describes itself in its own words
                final boolean usage = command.getCommand() instanceof CommandLine.HelpCommand
                    ? !out.toString().isBlank() : out.toString().startsWith("Usage: ferry");
                assertTrue(usage, name + " prints its usage: " + out + err);
            }
        }
    }
}
