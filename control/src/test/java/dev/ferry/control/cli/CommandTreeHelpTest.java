package dev.ferry.control.cli;

import dev.ferry.control.testing.HelpWalk;
import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Every command and subcommand of {@code ferry} answers {@code -h} and {@code --help} with its usage, and runs nothing. */
class CommandTreeHelpTest {
    @Test
    void shouldAnswerHelpOnEveryCommandOfTheTree() {
        final int walked = HelpWalk.assertEveryCommandAnswersHelp(FerryCli::commandLine);
        assertTrue(walked > 5, "the tree was walked: " + walked + " commands");
    }

    @Test
    void shouldListTheLaunchersCommandsWithoutCarryingTheLab() {
        final String usage = FerryCli.commandLine().getUsageMessage();
        for (final String launched : new String[] {"demo", "lab", "test", "build", "bench", "fuzz", "package"}) {
            assertTrue(usage.contains("\n  " + launched + " "), "ferry --help names ./ferry " + launched + ":\n" + usage);
        }
        assertFalse(FerryCli.commandLine().getSubcommands().containsKey("lab"), "the agent's jar carries no lab");
    }
}
