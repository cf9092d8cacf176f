package dev.ferry.control.cli;

import dev.ferry.control.admin.AgentPaths;
import dev.ferry.control.ops.CounterStat;
import dev.ferry.dataplane.counters.DataplaneCounters;
import org.agrona.concurrent.status.CountersReader;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

import java.io.Console;
import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.attribute.BasicFileAttributes;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.Objects;
import java.util.concurrent.Callable;

/**
 * {@code ferry stat}: the dataplane's counters, live, read straight from the agent's counters
 * file (Aeron's AeronStat for Ferry). Each counter type is summed over the dataplane's threads,
 * with its rate per second since the previous screen. On a terminal the screen refreshes in
 * place; otherwise screens follow one another. An agent restart recreates the file: the new one
 * is picked up.
 */
@Command(name = "stat",
    mixinStandardHelpOptions = true,
    sortOptions = false,
    description = {"Show the dataplane's counters live from the counters file of a running agent."},
    footer = {
        "",
        "Examples:",
        "  ferry stat",
        "  ferry stat --once",
        "  ferry stat --counters-file /run/ferry/counters --interval-ms 500",
        "",
        "Exit status: 0 done (or interrupted); 1 the counters file cannot be read (with --once); 2 bad usage."})
final class StatCommand implements Callable<Integer> {
    private static final String CLEAR_SCREEN = "\033[H\033[2J";

    @Spec
    CommandSpec spec;

    @Option(names = "--counters-file", paramLabel = "PATH", defaultValue = AgentPaths.COUNTERS_FILE_PATH,
        description = "The agent's counters file (default ${DEFAULT-VALUE}).")
    Path countersFile;

    @Option(names = "--interval-ms", paramLabel = "N", defaultValue = "1000",
        description = "Time between screens, in milliseconds (default ${DEFAULT-VALUE}).")
    long intervalMs;

    @Option(names = "--once", description = "Print one screen, without rates, and exit.")
    boolean once;

    @Option(names = "--count", paramLabel = "N", defaultValue = "0",
        description = "Stop after N screens (default: until interrupted).")
    long count;

    @Override
    public Integer call() throws InterruptedException {
        final PrintWriter out = spec.commandLine().getOut();
        final PrintWriter err = spec.commandLine().getErr();
        if (intervalMs < 1) {
            throw new CommandLine.ParameterException(spec.commandLine(), "--interval-ms must be at least 1, was " + intervalMs);
        }
        if (once) {
            final Opened opened = open();
            if (opened.reader == null) {
                err.println("ferry stat: " + opened.problem);
                err.flush();
                return CommandLine.ExitCode.SOFTWARE;
            }
            out.print(CounterStat.render(title(opened.reader, null), null, CounterStat.sample(opened.reader, System.nanoTime())));
            out.flush();
            return CommandLine.ExitCode.OK;
        }

        final Console console = System.console();
        final boolean refreshInPlace = console != null && console.isTerminal();
        Opened opened = null;
        CounterStat.Sample previous = null;
        for (long screen = 0; count == 0 || screen < count; screen++) {
            if (screen > 0) {
                Thread.sleep(intervalMs);
            }
            final Opened now = open();
            if (opened == null || !Objects.equals(now.fileKey, opened.fileKey)) {
                opened = now;
                previous = null; // a new file: the agent restarted and its counters started over
            }
            final String text;
            if (opened.reader == null) {
                text = "ferry stat: " + opened.problem + "; waiting for it\n";
            } else {
                final CounterStat.Sample current = CounterStat.sample(opened.reader, System.nanoTime());
                text = CounterStat.render(title(opened.reader, current), previous, current);
                previous = current;
            }
            out.print(refreshInPlace ? CLEAR_SCREEN + text : (screen > 0 ? "\n" : "") + text);
            out.flush();
        }
        return CommandLine.ExitCode.OK;
    }

    private String title(final CountersReader reader, final CounterStat.Sample sample) {
        final CounterStat.Sample s = sample != null ? sample : CounterStat.sample(reader, 0);
        return "ferry stat: " + countersFile + ", " + CounterStat.describeAgents(s.agents()) + ", "
            + Instant.now().truncatedTo(ChronoUnit.SECONDS);
    }

    /** The counters file mapped, or why not; fileKey tells one file from its successor. */
    private record Opened(CountersReader reader, Object fileKey, String problem) {
    }

    private Opened open() {
        try {
            final Object key = Files.readAttributes(countersFile, BasicFileAttributes.class).fileKey();
            return new Opened(DataplaneCounters.readerOf(countersFile), key, null);
        } catch (final NoSuchFileException e) {
            return new Opened(null, null, "no counters file at " + countersFile
                + " (is the agent running? --counters-file names another file)");
        } catch (final IOException | RuntimeException e) {
            return new Opened(null, null, "cannot read the counters file " + countersFile + ": " + e.getMessage());
        }
    }
}
