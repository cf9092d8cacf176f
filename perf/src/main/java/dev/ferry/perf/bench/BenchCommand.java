package dev.ferry.perf.bench;

import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Spec;

import java.util.concurrent.Callable;

/**
 * {@code ferry bench} ({@code ./ferry bench ...}, which runs this class from
 * {@code perf/target/ferry-bench.jar}): Ferry's performance reports. {@code jmh} runs the JMH
 * benchmarks and writes a report folder; {@code report} makes one from existing JMH JSON;
 * {@code lab} runs the side-by-side lab benchmarks against the kernel; {@code rules} prints
 * the kernel baselines' rule sets. The rest are the lab's helper processes.
 */
@Command(name = "bench", mixinStandardHelpOptions = true,
    description = {"Ferry's performance reports: JMH micro-benchmarks and lab benchmarks against the kernel."},
    subcommands = {JmhRun.class, ReportRun.class, LoadCommands.Server.class, LoadCommands.Client.class, RulesRun.class, LabRun.class, LabRun.Report.class})
public final class BenchCommand implements Callable<Integer> {
    @Spec
    CommandSpec spec;

    public static void main(final String[] args) {
        // Netty looks for a MAC address for its channel ids and warns when a namespace has none.
        System.setProperty("io.netty.machineId", "02:00:00:00:00:01");
        System.exit(new CommandLine(new BenchCommand()).execute(args));
    }

    @Override
    public Integer call() {
        spec.commandLine().usage(spec.commandLine().getErr());
        return CommandLine.ExitCode.USAGE;
    }
}
