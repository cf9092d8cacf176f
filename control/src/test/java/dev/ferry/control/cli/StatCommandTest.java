package dev.ferry.control.cli;

import dev.ferry.dataplane.counters.CounterType;
import dev.ferry.dataplane.counters.DataplaneCounters;
import dev.ferry.dataplane.packet.DropReason;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

class StatCommandTest {
    @TempDir
    Path dir;

    @Test
    void shouldPrintCountersSummedOverAgentsOnceFromTheMappedFile() {
        final Path file = dir.resolve("counters");
        try (DataplaneCounters counters = DataplaneCounters.mapped(file, 2)) {
            counters.queue(0).add(CounterType.RX_PACKETS, 1000);
            counters.queue(0).add(CounterType.NEW_FLOWS, 7);
            counters.queue(1).add(CounterType.NEW_FLOWS, 5);
            counters.queue(1).drop(DropReason.CONNTRACK_FULL);
            counters.queue(0).add(CounterType.TX_PACKETS, 990);

            final CliRun run = CliRun.run("stat", "--once", "--counters-file", file.toString());
            assertEquals(0, run.exitCode(), run.err());
            final List<String> lines = Arrays.asList(run.out().split("\n"));
            assertTrue(lines.get(0).startsWith("ferry stat: " + file + ", 2 counter sets (2 queues), "),
                lines.get(0));
            assertTrue(lines.get(1).matches(" +VALUE +COUNTER"), lines.get(1));
            assertTrue(lines.contains(String.format("%16d   %s", 1000, "packets received")), run.out());
            assertTrue(lines.contains(String.format("%16d   %s", 990, "packets sent")), run.out());
            assertTrue(lines.contains(String.format("%16d   %s", 12, "new flows translated")), run.out());
            assertTrue(lines.contains(String.format("%16d   dropped: %s", 1, DropReason.CONNTRACK_FULL.description())), run.out());
            assertEquals(2 + CounterType.values().length + DropReason.values().length, lines.size(), "every counter type, once");
            assertFalse(run.out().contains("\033["), "no ANSI codes with --once");
        }
    }

    @Test
    void shouldExitOneNamingTheFileWhenNoAgentWroteIt() {
        final Path missing = dir.resolve("nope");
        final CliRun run = CliRun.run("stat", "--once", "--counters-file", missing.toString());
        assertEquals(1, run.exitCode());
        assertEquals("ferry stat: no counters file at " + missing + " (is the agent running? --counters-file names another file)\n",
            run.err());
    }

    @Test
    void shouldPrintSuccessiveScreensWithRatesWhenNotATerminal() {
        final Path file = dir.resolve("counters");
        try (DataplaneCounters counters = DataplaneCounters.mapped(file, 1)) {
            counters.queue(0).add(CounterType.RX_PACKETS, 10);
            final CliRun run = CliRun.run("stat", "--count", "2", "--interval-ms", "1", "--counters-file", file.toString());
            assertEquals(0, run.exitCode(), run.err());
            final String[] screens = run.out().split("\n\n");
            assertEquals(2, screens.length, run.out());
            assertFalse(screens[0].contains("RATE/s"), "the first screen has nothing to compare with");
            assertTrue(screens[1].contains("RATE/s"), screens[1]);
            assertTrue(screens[1].contains(String.format("%16d %12.1f   packets received", 10, 0.0)), screens[1]);
        }
    }
}
