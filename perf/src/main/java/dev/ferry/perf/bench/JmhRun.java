package dev.ferry.perf.bench;

import dev.ferry.perf.report.JmhReport;
import dev.ferry.perf.report.JmhResult;
import dev.ferry.perf.report.Machine;
import org.openjdk.jmh.profile.GCProfiler;
import org.openjdk.jmh.results.format.ResultFormatType;
import dev.ferry.control.lab.LabJava;
import org.openjdk.jmh.runner.Runner;
import org.openjdk.jmh.runner.RunnerException;
import org.openjdk.jmh.runner.options.ChainedOptionsBuilder;
import org.openjdk.jmh.runner.options.OptionsBuilder;
import org.openjdk.jmh.runner.options.TimeValue;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;

/**
 * {@code ferry bench jmh}: runs a chosen set of the JMH benchmarks through JMH's Runner API,
 * with the GC profiler ({@code -prof gc}) on by default, and writes into the output folder the
 * raw {@code jmh.json}, the Markdown report {@code jmh.md} and its charts. The defaults are short
 * (one fork, 2 × 1 s warmup, 3 × 1 s measurement), enough to compare on a 2-core machine; use
 * {@code --warmup-iterations 3 --iterations 5} or more for figures to publish.
 */
@Command(name = "jmh", mixinStandardHelpOptions = true,
    description = {"Run JMH benchmarks (-prof gc) and write jmh.json, jmh.md and charts into a folder.",
        "PATTERN selects benchmarks by regular expression, as JMH's own command line does."},
    footer = {"", "Examples:",
        "  ferry bench jmh --out /tmp/bench                           # every benchmark, short settings",
        "  ferry bench jmh --out /tmp/fp FastPath ServiceLookup.lookup",
        "  ferry bench jmh --out /tmp/lk ServiceLookup -p services=10,100000 --iterations 5",
        "  ferry bench jmh --list"})
final class JmhRun implements Callable<Integer> {
    /** The benchmarks of perf, all JMH ones (NativeIoBenchmark is a plain main, not JMH). */
    static final String DEFAULT_INCLUDE = "dev\\.ferry\\.perf\\.";

    @Option(names = {"-o", "--out"}, paramLabel = "DIR", description = "Folder for jmh.json, jmh.md and charts/ (created).")
    Path out;
    @Parameters(paramLabel = "PATTERN", arity = "0..*", description = "Benchmarks to run (regular expressions; default: all).")
    List<String> include = new ArrayList<>();
    @Option(names = {"-e", "--exclude"}, paramLabel = "PATTERN", description = "Benchmarks to leave out (repeatable).")
    List<String> exclude = new ArrayList<>();
    @Option(names = {"-p", "--param"}, paramLabel = "NAME=V1,V2", description = "Override a @Param's values (repeatable).")
    Map<String, String> params = new LinkedHashMap<>();
    @Option(names = {"-f", "--forks"}, defaultValue = "1", description = "Forks per benchmark (default: ${DEFAULT-VALUE}).")
    int forks;
    @Option(names = {"-wi", "--warmup-iterations"}, defaultValue = "2", description = "Warmup iterations (default: ${DEFAULT-VALUE}).")
    int warmupIterations;
    @Option(names = {"-i", "--iterations"}, defaultValue = "3", description = "Measurement iterations (default: ${DEFAULT-VALUE}).")
    int iterations;
    @Option(names = {"-w", "--warmup-seconds"}, defaultValue = "1", description = "Seconds per warmup iteration (default: ${DEFAULT-VALUE}).")
    int warmupSeconds;
    @Option(names = {"-r", "--iteration-seconds"}, defaultValue = "1", description = "Seconds per measurement iteration (default: ${DEFAULT-VALUE}).")
    int iterationSeconds;
    @Option(names = "--no-gc-profiler", description = "Leave out -prof gc (no B/op column).")
    boolean noGcProfiler;
    @Option(names = {"-l", "--list"}, description = "List the matching benchmarks and exit.")
    boolean list;

    @Override
    public Integer call() throws IOException, RunnerException {
        final ChainedOptionsBuilder options = new OptionsBuilder();
        if (include.isEmpty()) {
            options.include(DEFAULT_INCLUDE);
        } else {
            include.forEach(options::include);
        }
        exclude.forEach(options::exclude);
        if (list) {
            new Runner(options.build()).list();
            return 0;
        }
        if (out == null) {
            throw new CommandLine.ParameterException(new CommandLine(this), "--out DIR is required (where the report goes)");
        }
        Files.createDirectories(out);
        final Path json = out.resolve("jmh.json");
        params.forEach((name, values) -> options.param(name, values.split(",")));
        options.forks(forks).warmupIterations(warmupIterations).measurementIterations(iterations)
            .warmupTime(TimeValue.seconds(warmupSeconds)).measurementTime(TimeValue.seconds(iterationSeconds))
            .resultFormat(ResultFormatType.JSON).result(json.toString()).shouldFailOnError(true)
            // the forks inherit this JVM's options too; named here so that they never depend on how this JVM was started
            .jvmArgsAppend(LabJava.JVM_FLAGS.toArray(String[]::new));
        if (!noGcProfiler) {
            options.addProfiler(GCProfiler.class);
        }
        new Runner(options.build()).run();
        final List<Path> files = JmhReport.write(JmhResult.read(json), out, Machine.current(), json.getFileName().toString());
        System.out.println("bench: wrote " + json);
        files.forEach(f -> System.out.println("bench: wrote " + f));
        return 0;
    }
}
