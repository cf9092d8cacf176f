package dev.ferry.perf.report;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;

/**
 * Turns JMH's JSON results into a Markdown report ({@code jmh.md}) and charts
 * ({@code charts/jmh-CLASS.png|svg}, one bar chart per benchmark class, plus the service
 * lookup cost against the number of services when that benchmark ran). The report opens with
 * where the figures stand against the perf issue's targets, as far as the results cover them.
 */
public final class JmhReport {
    public static final String MARKDOWN = "jmh.md";
    public static final String CHARTS = "charts";
    /** Below this, B/op is JMH's own harness allocation spread over millions of operations (perf/README.md). */
    static final double ZERO_ALLOCATION_BYTES = 0.5;
    static final double FAST_PATH_TARGET_MPPS = 10.0;
    static final double LOOKUP_FLATNESS_TARGET = 1.2;

    private JmhReport() {
    }

    /** Writes {@code jmh.md} and the charts into {@code dir}; returns every file written. */
    public static List<Path> write(final List<JmhResult> results, final Path dir, final Machine machine, final String jsonName)
            throws IOException {
        if (results.isEmpty()) {
            throw new IOException("no JMH results to report (did the include pattern match any benchmark? 'ferry bench jmh --list')");
        }
        Files.createDirectories(dir);
        final List<Path> written = new ArrayList<>();
        final Map<String, List<JmhResult>> byClass = Charts.grouped(results, JmhResult::className);
        final Path charts = dir.resolve(CHARTS);
        for (final Map.Entry<String, List<JmhResult>> e : byClass.entrySet()) {
            written.addAll(classChart(charts, e.getKey(), e.getValue()));
        }
        final List<JmhResult> lookups = results.stream().filter(r -> r.className().equals("ServiceLookupBenchmark")
            && r.params().containsKey("services")).toList();
        if (lookups.size() > 1) {
            written.addAll(lookupChart(charts, lookups));
        }
        final Path md = dir.resolve(MARKDOWN);
        Files.writeString(md, markdown(results, machine, jsonName, lookups.size() > 1));
        written.add(0, md);
        return written;
    }

    /** The Markdown text of the report. */
    public static String markdown(final List<JmhResult> results, final Machine machine, final String jsonName, final boolean lookupChart) {
        final StringBuilder md = new StringBuilder();
        final JmhResult.Run run = results.get(0).run();
        md.append("# Ferry JMH report\n\n");
        md.append("- Machine: ").append(machine.describe()).append('\n');
        md.append("- JMH ").append(run.jmhVersion()).append(", JDK ").append(run.jdkVersion()).append(" (").append(run.vmName())
            .append("), ").append(run.describe()).append('\n');
        md.append("- Raw results: [").append(jsonName).append("](").append(jsonName).append(")\n");
        md.append("- Scores are the average time per operation unless the unit says otherwise; M ops/s = 1000 / (ns/op), ")
            .append("Mpps per core for per-packet benchmarks. B/op is `gc.alloc.rate.norm` (`-prof gc`); values below ")
            .append(fmt(ZERO_ALLOCATION_BYTES)).append(" B/op are JMH's own harness allocations spread over the operations.\n\n");

        final List<String[]> targets = targets(results);
        if (!targets.isEmpty()) {
            md.append("## Targets\n\n| target | measured | status |\n|---|---|---|\n");
            for (final String[] t : targets) {
                md.append("| ").append(t[0]).append(" | ").append(t[1]).append(" | ").append(t[2]).append(" |\n");
            }
            md.append('\n');
        }
        for (final Map.Entry<String, List<JmhResult>> e : Charts.grouped(results, JmhResult::className).entrySet()) {
            md.append("## ").append(e.getKey()).append("\n\n");
            md.append("| benchmark | parameters | score | ± error | unit | M ops/s | B/op |\n|---|---|---:|---:|---|---:|---:|\n");
            for (final JmhResult r : e.getValue()) {
                md.append("| ").append(r.method()).append(" | ").append(r.params().isEmpty() ? "" : r.paramsText())
                    .append(" | ").append(fmt(r.score())).append(" | ").append(Double.isNaN(r.scoreError()) ? "" : fmt(r.scoreError()))
                    .append(" | ").append(r.unit()).append(" | ")
                    .append(Double.isNaN(r.millionOpsPerSecond()) ? "" : fmt(r.millionOpsPerSecond()))
                    .append(" | ").append(r.profiledAllocation() ? bytes(r.allocBytesPerOp()) : "").append(" |\n");
            }
            md.append("\n![").append(e.getKey()).append("](").append(CHARTS).append("/jmh-").append(e.getKey()).append(".png)\n\n");
        }
        if (lookupChart) {
            md.append("## Service lookup against the number of services\n\n![lookup](").append(CHARTS)
                .append("/jmh-lookup-scaling.png)\n");
        }
        return md.toString();
    }

    /** Rows of (target, measured, status) for the targets these results speak to. */
    static List<String[]> targets(final List<JmhResult> results) {
        final List<String[]> rows = new ArrayList<>();
        for (final JmhResult r : results) {
            if (r.className().equals("FastPathBenchmark") && (r.method().equals("original") || r.method().equals("reply"))
                && r.unit().equals("ns/op")) {
                final double mpps = r.millionOpsPerSecond();
                final Optional<JmhResult> copy = sibling(results, r, "copyOnly");
                final String net = copy.map(c -> "; without the template copy (" + fmt(c.score()) + " ns): "
                    + fmt(1000.0 / Math.max(1e-9, r.score() - c.score())) + " Mpps").orElse("");
                final boolean zero = r.profiledAllocation() && r.allocBytesPerOp() < ZERO_ALLOCATION_BYTES;
                rows.add(new String[] {"fast path ≥ " + fmt(FAST_PATH_TARGET_MPPS) + " Mpps/core, 0 B/op: " + r.label(),
                    fmt(r.score()) + " ns = " + fmt(mpps) + " Mpps" + net + "; "
                        + (r.profiledAllocation() ? bytes(r.allocBytesPerOp()) + " B/op" : "allocation not profiled"),
                    mpps >= FAST_PATH_TARGET_MPPS && zero ? "met" : "not met"
                        + (mpps < FAST_PATH_TARGET_MPPS ? " (" + fmt(mpps / FAST_PATH_TARGET_MPPS * 100) + "% of the rate)" : "")
                        + (r.profiledAllocation() && !zero ? " (allocates)" : "")});
            }
        }
        for (final String method : List.of("lookup", "route")) {
            final List<JmhResult> series = results.stream().filter(r -> r.className().equals("ServiceLookupBenchmark")
                && r.method().equals(method) && r.params().containsKey("services"))
                .sorted(Comparator.comparingLong(r -> Long.parseLong(r.params().get("services")))).toList();
            if (series.size() >= 2) {
                final JmhResult small = series.getFirst();
                final JmhResult large = series.getLast();
                final double ratio = large.score() / small.score();
                final Optional<JmhResult> smallPick = sibling(results, small, "pickOnly");
                final Optional<JmhResult> largePick = sibling(results, large, "pickOnly");
                final String net = smallPick.isPresent() && largePick.isPresent()
                    ? "; without the pickOnly baseline: " + fmt(small.score() - smallPick.get().score()) + " → "
                        + fmt(large.score() - largePick.get().score()) + " = "
                        + fmt((large.score() - largePick.get().score()) / (small.score() - smallPick.get().score())) + "×"
                    : "";
                rows.add(new String[] {"lookup flat ≤ " + fmt(LOOKUP_FLATNESS_TARGET) + "× (" + method + ", "
                    + small.params().get("services") + " → " + large.params().get("services") + " services)",
                    fmt(small.score()) + " → " + fmt(large.score()) + " " + large.unit() + " = " + fmt(ratio) + "×" + net,
                    ratio <= LOOKUP_FLATNESS_TARGET ? "met" : "not met"});
            }
        }
        return rows;
    }

    private static Optional<JmhResult> sibling(final List<JmhResult> results, final JmhResult of, final String method) {
        return results.stream().filter(r -> r.className().equals(of.className()) && r.method().equals(method)
            && r.params().equals(of.params())).findFirst();
    }

    private static List<Path> classChart(final Path charts, final String className, final List<JmhResult> rows) throws IOException {
        final List<String> categories = rows.stream().map(JmhResult::label).toList();
        final String unit = rows.get(0).unit();
        final boolean oneUnit = rows.stream().allMatch(r -> r.unit().equals(unit));
        final double max = rows.stream().mapToDouble(JmhResult::score).max().orElse(1);
        final double min = rows.stream().mapToDouble(JmhResult::score).filter(v -> v > 0).min().orElse(1);
        final boolean log = max / min > 200; // a baseline of 2 ns beside a GC slice of 20 µs
        return Charts.bars(charts, "jmh-" + className, className + (oneUnit ? " (" + unit + ", lower is better)" : ""),
            oneUnit ? unit : "score", categories,
            List.of(new Charts.BarSeries("score", rows.stream().map(JmhResult::score).toList(),
                rows.stream().map(JmhResult::scoreError).toList())), log);
    }

    private static List<Path> lookupChart(final Path charts, final List<JmhResult> lookups) throws IOException {
        final List<Charts.LineSeries> series = new ArrayList<>();
        for (final Map.Entry<String, List<JmhResult>> e : Charts.grouped(lookups, JmhResult::method).entrySet()) {
            final List<JmhResult> sorted = e.getValue().stream()
                .sorted(Comparator.comparingLong(r -> Long.parseLong(r.params().get("services")))).toList();
            series.add(new Charts.LineSeries(e.getKey(), sorted.stream().map(r -> Double.parseDouble(r.params().get("services"))).toList(),
                sorted.stream().map(JmhResult::score).toList()));
        }
        return Charts.lines(charts, "jmh-lookup-scaling", "ServiceLookupBenchmark: cost against the number of services",
            "services (log scale)", lookups.get(0).unit(), series, true, true);
    }

    /** B/op: tiny harness allocations shown as "< 0.01" rather than in scientific notation. */
    static String bytes(final double v) {
        return v < 0.01 ? "< 0.01" : fmt(v);
    }

    /** Three significant figures, thousands separated: 12,345, 123, 12.3, 1.23, 0.0123. */
    public static String fmt(final double v) {
        if (Double.isNaN(v)) {
            return "n/a";
        }
        if (Double.isInfinite(v)) {
            return v > 0 ? "∞" : "-∞";
        }
        final double a = Math.abs(v);
        if (a >= 100) {
            return String.format(Locale.ROOT, "%,.0f", v);
        }
        if (a >= 10) {
            return String.format(Locale.ROOT, "%.1f", v);
        }
        if (a >= 1) {
            return String.format(Locale.ROOT, "%.2f", v);
        }
        if (a == 0) {
            return "0";
        }
        return String.format(Locale.ROOT, "%.3g", v);
    }
}
