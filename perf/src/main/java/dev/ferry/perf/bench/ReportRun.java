package dev.ferry.perf.bench;

import dev.ferry.perf.report.JmhReport;
import dev.ferry.perf.report.JmhResult;
import dev.ferry.perf.report.Machine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.List;
import java.util.concurrent.Callable;

/**
 * {@code ferry bench report}: the Markdown report and charts from a JMH JSON file made
 * elsewhere ({@code java -jar ferry-bench.jar ... -rf json}), without running anything.
 */
@Command(name = "report", mixinStandardHelpOptions = true,
    description = "Write jmh.md and charts from an existing JMH JSON result file (copied in as jmh.json).")
final class ReportRun implements Callable<Integer> {
    @Parameters(index = "0", paramLabel = "JSON", description = "JMH's JSON result file (-rf json).")
    Path json;
    @Option(names = {"-o", "--out"}, required = true, paramLabel = "DIR", description = "Folder for the report (created).")
    Path out;

    @Override
    public Integer call() throws IOException {
        final List<JmhResult> results = JmhResult.read(json);
        Files.createDirectories(out);
        final Path copy = out.resolve("jmh.json");
        if (!Files.exists(copy) || !Files.isSameFile(copy, json)) {
            Files.copy(json, copy, StandardCopyOption.REPLACE_EXISTING);
        }
        for (final Path f : JmhReport.write(results, out, Machine.current(), copy.getFileName().toString())) {
            System.out.println("bench: wrote " + f);
        }
        return 0;
    }
}
