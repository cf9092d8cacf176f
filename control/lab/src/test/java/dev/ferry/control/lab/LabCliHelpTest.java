package dev.ferry.control.lab;

import dev.ferry.control.cli.FerryCli;
import dev.ferry.control.testing.HelpWalk;
import org.junit.jupiter.api.Test;
import picocli.CommandLine;

import java.util.HashSet;
import java.util.Set;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** ferry-lab.jar's tree (ferry's commands and {@code lab}) answers {@code -h} and {@code --help} everywhere. */
class LabCliHelpTest {
    @Test
    void shouldAnswerHelpOnEveryCommandOfTheLabTree() {
        final int walked = HelpWalk.assertEveryCommandAnswersHelp(LabCli::commandLine);
        assertTrue(LabCli.commandLine().getSubcommands().containsKey("lab"), "the lab's jar adds lab");
        final int labCommands = walked - countCommands(FerryCli.commandLine());
        assertTrue(labCommands >= 5, "lab and its subcommands were walked too: " + labCommands);
    }

    @Test
    void shouldKeepEveryCommandOfTheAgentsTree() {
        final Set<String> labTree = new HashSet<>(LabCli.commandLine().getSubcommands().keySet());
        labTree.remove("lab");
        assertEquals(FerryCli.commandLine().getSubcommands().keySet(), labTree);
    }

    private static int countCommands(final CommandLine command) {
        return 1 + command.getSubcommands().values().stream().distinct().mapToInt(LabCliHelpTest::countCommands).sum();
    }
}
