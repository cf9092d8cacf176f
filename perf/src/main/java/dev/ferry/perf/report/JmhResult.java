package dev.ferry.perf.report;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;

import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Collectors;

/**
 * One row of JMH's JSON result file ({@code -rf json}): a benchmark method at one set of
 * parameter values, its primary score and, when run with {@code -prof gc}, the bytes it
 * allocated per operation ({@code gc.alloc.rate.norm}; JMH before 1.35 named it
 * {@code ·gc.alloc.rate.norm}).
 *
 * @param benchmark          the full name, {@code dev.ferry.perf.FastPathBenchmark.original}
 * @param mode               JMH's short mode name: avgt, thrpt, sample, ss
 * @param params             parameter values in the file's order
 * @param score              the primary metric's score
 * @param scoreError         half the 99.9% confidence interval, NaN when JMH could not compute one
 * @param unit               the score's unit, {@code ns/op}
 * @param allocBytesPerOp    {@code gc.alloc.rate.norm} in B/op, NaN when not profiled
 * @param run                how the benchmark was run (the same for every row of one run, as a rule)
 */
public record JmhResult(String benchmark, String mode, Map<String, String> params, double score, double scoreError,
                        String unit, double allocBytesPerOp, Run run) {

    /** The run settings and the JVM that JMH records with each row. */
    public record Run(String jmhVersion, String jdkVersion, String vmName, String vmVersion, int threads, int forks,
                      int warmupIterations, String warmupTime, int measurementIterations, String measurementTime) {
        /** "1 fork, 3 × 1 s warmup, 5 × 1 s measurement, 1 thread". */
        public String describe() {
            return forks + (forks == 1 ? " fork, " : " forks, ") + warmupIterations + " × " + warmupTime + " warmup, "
                + measurementIterations + " × " + measurementTime + " measurement, " + threads + (threads == 1 ? " thread" : " threads");
        }
    }

    private static final ObjectMapper JSON = new ObjectMapper();

    public JmhResult {
        params = Collections.unmodifiableMap(new LinkedHashMap<>(params));
    }

    /** The class's simple name: {@code FastPathBenchmark}. */
    public String className() {
        final String owner = benchmark.substring(0, Math.max(0, benchmark.lastIndexOf('.')));
        return owner.substring(owner.lastIndexOf('.') + 1);
    }

    /** The method: {@code original}. */
    public String method() {
        return benchmark.substring(benchmark.lastIndexOf('.') + 1);
    }

    /** {@code flows=1000, source=POD}, or empty. */
    public String paramsText() {
        return params.entrySet().stream().map(e -> e.getKey() + "=" + e.getValue()).collect(Collectors.joining(", "));
    }

    /** {@code original [flows=1000]}: a label for tables and chart categories. */
    public String label() {
        return params.isEmpty() ? method() : method() + " [" + paramsText() + "]";
    }

    public boolean profiledAllocation() {
        return !Double.isNaN(allocBytesPerOp);
    }

    /** Operations per microsecond (millions per second) when the score is a time per operation, else NaN. */
    public double millionOpsPerSecond() {
        return switch (unit) {
            case "ns/op" -> 1_000.0 / score;
            case "us/op" -> 1.0 / score;
            case "ops/us" -> score;
            case "ops/ms" -> score / 1_000.0;
            case "ops/s" -> score / 1_000_000.0;
            default -> Double.NaN;
        };
    }

    /** Reads every row of a JMH JSON result file. */
    public static List<JmhResult> read(final Path file) throws IOException {
        return parse(JSON.readTree(file.toFile()), file.toString());
    }

    /** Parses JMH's JSON text (an array of results). */
    public static List<JmhResult> parse(final String json) throws IOException {
        return parse(JSON.readTree(json), "the JMH JSON");
    }

    private static List<JmhResult> parse(final JsonNode root, final String where) throws IOException {
        if (root == null || !root.isArray()) {
            throw new IOException(where + " is not JMH's JSON result format (an array of results; run JMH with -rf json)");
        }
        final List<JmhResult> results = new ArrayList<>();
        int index = 0;
        for (final JsonNode row : root) {
            final String benchmark = row.path("benchmark").asText(null);
            final JsonNode primary = row.path("primaryMetric");
            if (benchmark == null || !primary.has("score")) {
                throw new IOException(where + ", result " + index + ": no 'benchmark' or 'primaryMetric.score': not a JMH result");
            }
            final Map<String, String> params = new LinkedHashMap<>();
            final JsonNode p = row.path("params");
            for (Iterator<Map.Entry<String, JsonNode>> it = p.fields(); it.hasNext(); ) {
                final Map.Entry<String, JsonNode> e = it.next();
                params.put(e.getKey(), e.getValue().asText());
            }
            double alloc = Double.NaN;
            for (Iterator<Map.Entry<String, JsonNode>> it = row.path("secondaryMetrics").fields(); it.hasNext(); ) {
                final Map.Entry<String, JsonNode> e = it.next();
                if (e.getKey().replace("\u00b7", "").equals("gc.alloc.rate.norm")) {
                    alloc = number(e.getValue().path("score"));
                }
            }
            final Run run = new Run(row.path("jmhVersion").asText(""), row.path("jdkVersion").asText(""),
                row.path("vmName").asText(""), row.path("vmVersion").asText(""), row.path("threads").asInt(1),
                row.path("forks").asInt(0), row.path("warmupIterations").asInt(0), row.path("warmupTime").asText(""),
                row.path("measurementIterations").asInt(0), row.path("measurementTime").asText(""));
            results.add(new JmhResult(benchmark, row.path("mode").asText(""), params, number(primary.path("score")),
                number(primary.path("scoreError")), primary.path("scoreUnit").asText(""), alloc, run));
            index++;
        }
        return results;
    }

    /** JMH writes "NaN" as a string when it has no error estimate (a single iteration). */
    private static double number(final JsonNode node) {
        if (node.isNumber()) {
            return node.asDouble();
        }
        try {
            return Double.parseDouble(node.asText("NaN"));
        } catch (final NumberFormatException e) {
            return Double.NaN;
        }
    }
}
