package dev.ferry.perf.lab;

import dev.ferry.perf.load.LoadMode;
import dev.ferry.perf.load.LoadResult;
import dev.ferry.perf.report.Charts;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Optional;
import java.util.function.ToDoubleFunction;

import static dev.ferry.perf.report.JmhReport.fmt;

/**
 * {@code lab.md} and {@code charts/lab-*.png|svg} from a lab run: each figure per dataplane and
 * service count, with its ratio to the direct path (1) and to the kernel baselines (2); the
 * programming times; and where the perf issue's lab targets stand.
 */
public final class LabReport {
    public static final String MARKDOWN = "lab.md";

    /** A figure of a load run and how to read it. */
    record Metric(String key, String title, String unit, LoadMode mode, ToDoubleFunction<LoadResult> value, boolean higherIsBetter) {
    }

    static final List<Metric> METRICS = List.of(
        new Metric("udp", "UDP datagrams per second delivered through the ClusterIP", "datagrams/s", LoadMode.UDP, LoadResult::ratePerS, true),
        new Metric("crr", "TCP connections per second (connect, request, answer, close)", "connections/s", LoadMode.CRR, LoadResult::ratePerS, true),
        new Metric("crr-p99", "TCP connection latency p99 (connect to answer)", "µs", LoadMode.CRR,
            r -> r.latency() == null ? Double.NaN : r.latency().p99Us(), false),
        new Metric("rr", "TCP requests per second on open connections", "requests/s", LoadMode.RR, LoadResult::ratePerS, true),
        new Metric("rr-p50", "TCP request latency p50", "µs", LoadMode.RR, r -> r.latency() == null ? Double.NaN : r.latency().p50Us(), false),
        new Metric("rr-p99", "TCP request latency p99", "µs", LoadMode.RR, r -> r.latency() == null ? Double.NaN : r.latency().p99Us(), false),
        new Metric("bulk", "Bulk TCP throughput", "Gbit/s", LoadMode.BULK, r -> r.bitsPerS() / 1e9, true));

    private LabReport() {
    }

    public static List<Path> write(final LabResults results, final Path dir) throws IOException {
        Files.createDirectories(dir);
        final List<Path> written = new ArrayList<>();
        final List<Integer> counts = results.loads().stream().map(LabResults.Load::services).distinct().sorted().toList();
        final List<String> planes = Arrays.stream(Dataplane.values()).map(Dataplane::label)
            .filter(l -> results.loads().stream().anyMatch(x -> x.dataplane().equals(l))).toList();
        final Path charts = dir.resolve("charts");
        for (final Metric m : METRICS) {
            final List<Charts.BarSeries> series = new ArrayList<>();
            for (final int n : counts) {
                series.add(new Charts.BarSeries(n + (n == 1 ? " service" : " services"),
                    planes.stream().map(p -> value(results, p, n, m)).toList(), null));
            }
            if (series.stream().anyMatch(s -> s.values().stream().anyMatch(v -> !Double.isNaN(v)))) {
                written.addAll(Charts.bars(charts, "lab-" + m.key(), m.title() + (m.higherIsBetter() ? " (higher is better)" : " (lower is better)"),
                    m.unit(), planes, series, false));
            }
        }
        final List<String> syncPlanes = planes.stream().filter(p -> !Dataplane.isDirect(p)).toList();
        final List<Charts.BarSeries> syncSeries = new ArrayList<>();
        for (final int n : counts) {
            syncSeries.add(new Charts.BarSeries("all " + n + " services, to serving",
                syncPlanes.stream().map(p -> median(results, p, n, "full", LabResults.Sync::servingMs)).toList(), null));
            syncSeries.add(new Charts.BarSeries("one-service change at " + n + ", to serving",
                syncPlanes.stream().map(p -> median(results, p, n, "change", LabResults.Sync::servingMs)).toList(), null));
        }
        if (!syncPlanes.isEmpty()) {
            written.addAll(Charts.bars(charts, "lab-programming", "Time until the dataplane serves (ms, log scale, lower is better)", "ms",
                syncPlanes, syncSeries, true));
        }
        final Path md = dir.resolve(MARKDOWN);
        Files.writeString(md, markdown(results, counts, planes));
        written.add(0, md);
        return written;
    }

    static String markdown(final LabResults results, final List<Integer> counts, final List<String> planes) {
        final StringBuilder md = new StringBuilder("# Ferry lab benchmarks\n\n");
        md.append("- Machine: ").append(results.machine().describe()).append('\n');
        md.append("- Run: ").append(results.settings()).append('\n');
        md.append("- Path: ").append(BenchPath.fromSettings(results.settings()).describe()).append(", all on node-1 of a two-node netns lab; ")
            .append("\"direct\" sends to the backends' own addresses. Kernel runs load kube-proxy-shaped rules into node-1 with no agent ")
            .append("running; Ferry runs start one agent on node-1 with the given port type. Everything shares this machine's cores.\n");
        md.append("- Ratios: × direct is the figure over the direct path's (1); × nftables and × iptables over the kernel baselines' (2) ")
            .append("at the same number of services. For latencies lower is better, so a ratio above 1 is slower.\n\n");

        final List<String[]> targets = targets(results, counts);
        if (!targets.isEmpty()) {
            md.append("## Targets\n\n| target | measured | status |\n|---|---|---|\n");
            targets.forEach(t -> md.append("| ").append(t[0]).append(" | ").append(t[1]).append(" | ").append(t[2]).append(" |\n"));
            md.append('\n');
        }
        md.append("## Summary\n\n| dataplane | services | UDP datagrams/s | TCP conn/s | conn p50 / p99 µs | RR req/s | RR p50 / p99 µs | bulk Gbit/s |\n")
            .append("|---|---:|---:|---:|---:|---:|---:|---:|\n");
        for (final int n : counts) {
            for (final String p : planes) {
                if (Dataplane.isDirect(p) && n != counts.get(0)) {
                    continue;
                }
                md.append("| ").append(p).append(" | ").append(p.equals(Dataplane.DIRECT.label()) ? "–" : String.format("%,d", n)).append(" | ")
                    .append(cell(results, p, n, LoadMode.UDP, LoadResult::ratePerS)).append(" | ")
                    .append(cell(results, p, n, LoadMode.CRR, LoadResult::ratePerS)).append(" | ")
                    .append(latency(results, p, n, LoadMode.CRR)).append(" | ")
                    .append(cell(results, p, n, LoadMode.RR, LoadResult::ratePerS)).append(" | ")
                    .append(latency(results, p, n, LoadMode.RR)).append(" | ")
                    .append(cell(results, p, n, LoadMode.BULK, r -> r.bitsPerS() / 1e9)).append(" |\n");
            }
        }
        md.append('\n');
        final List<String> failures = results.loads().stream().filter(l -> l.result() == null)
            .map(l -> l.dataplane() + " (" + l.services() + " services" + (l.mode() == null ? "" : ", " + l.mode()) + "): " + l.error()).toList();
        if (!failures.isEmpty()) {
            md.append("Failed runs (no figure):\n\n");
            failures.forEach(f -> md.append("- ").append(f.replace('\n', ' ')).append('\n'));
            md.append('\n');
        }
        for (final Metric m : METRICS) {
            md.append("## ").append(m.title()).append("\n\n| dataplane |");
            for (final int n : counts) {
                md.append(" ").append(String.format("%,d", n)).append(" svc (").append(m.unit()).append(") | × direct | × nftables | × iptables |");
            }
            md.append("\n|---|").append("---:|---:|---:|---:|".repeat(counts.size())).append('\n');
            for (final String p : planes) {
                md.append("| ").append(p).append(" |");
                for (final int n : counts) {
                    final double v = value(results, p, n, m);
                    md.append(' ').append(fmt(v)).append(" | ").append(ratio(v, value(results, Dataplane.DIRECT.label(), n, m)))
                        .append(" | ").append(ratio(v, value(results, Dataplane.NFTABLES.label(), n, m)))
                        .append(" | ").append(ratio(v, value(results, Dataplane.IPTABLES.label(), n, m))).append(" |");
                }
                md.append('\n');
            }
            md.append("\n![").append(m.key()).append("](charts/lab-").append(m.key()).append(".png)\n\n");
        }
        md.append("## Programming: from a change to the dataplane serving it\n\n")
            .append("\"all\": every service from nothing — for the kernel `nft -f` / `iptables-restore` of the whole rule set, for Ferry ")
            .append("the agent's start (JVM, attach, manifests, compile). \"change\": one Service added to the others — for the kernel ")
            .append("kube-proxy's incremental transaction (`nft -f` of the new chains and map elements; `iptables-restore --noflush` ")
            .append("rewriting KUBE-SERVICES and adding the new chains), for Ferry a new manifest file written into the watched directory. ")
            .append("command: the nft / iptables-restore process alone, or the agent's own sync duration ")
            .append("(`kubeproxy_sync_proxy_rules_duration_seconds`). serving: until the first connection from the client pod to the ")
            .append("new ClusterIP was answered (probes every ").append(5).append(" ms).\n\n");
        md.append("| dataplane | services | all: command ms | all: serving ms | change: command ms (median) | change: serving ms (median) | change: serving ms (each) |\n")
            .append("|---|---:|---:|---:|---:|---:|---|\n");
        for (final int n : counts) {
            for (final String p : planes) {
                final List<LabResults.Sync> full = syncs(results, p, n, "full");
                final List<LabResults.Sync> change = syncs(results, p, n, "change");
                if (full.isEmpty() && change.isEmpty()) {
                    continue;
                }
                md.append("| ").append(p).append(" | ").append(String.format("%,d", n)).append(" | ")
                    .append(fmt(median(results, p, n, "full", LabResults.Sync::commandMs))).append(" | ")
                    .append(fmt(median(results, p, n, "full", LabResults.Sync::servingMs))).append(" | ")
                    .append(fmt(median(results, p, n, "change", LabResults.Sync::commandMs))).append(" | ")
                    .append(fmt(median(results, p, n, "change", LabResults.Sync::servingMs))).append(" | ")
                    .append(String.join(", ", change.stream().map(s -> fmt(s.servingMs())).toList())).append(" |\n");
            }
        }
        md.append("\n![programming](charts/lab-programming.png)\n");
        return md.toString();
    }

    static List<String[]> targets(final LabResults results, final List<Integer> counts) {
        final List<String[]> rows = new ArrayList<>();
        final String packet = Dataplane.FERRY_PACKET.label();
        for (final int n : counts) {
            for (final Metric m : List.of(METRICS.get(0), METRICS.get(1))) {
                final double p = value(results, packet, n, m);
                final double nft = value(results, Dataplane.NFTABLES.label(), n, m);
                if (!Double.isNaN(p) && !Double.isNaN(nft)) {
                    rows.add(new String[] {"packet port ≥ ½ nftables, " + m.unit() + ", " + n + " services",
                        fmt(p) + " vs " + fmt(nft) + " = " + fmt(p / nft) + "×", p >= nft / 2 ? "met" : "not met"});
                }
            }
        }
        final int most = counts.isEmpty() ? 0 : counts.get(counts.size() - 1);
        if (most >= 10_000) {
            for (final Metric m : List.of(METRICS.get(0), METRICS.get(1))) {
                final double p = value(results, packet, most, m);
                final double ipt = value(results, Dataplane.IPTABLES.label(), most, m);
                if (!Double.isNaN(p) && !Double.isNaN(ipt)) {
                    rows.add(new String[] {"packet port ahead of iptables, " + m.unit() + ", " + most + " services",
                        fmt(p) + " vs " + fmt(ipt) + " = " + fmt(p / ipt) + "×", p > ipt ? "met" : "not met"});
                }
            }
        }
        for (final Dataplane d : List.of(Dataplane.POD_TO_POD_FERRY_TUN, Dataplane.POD_TO_POD_FERRY_PACKET)) {
            for (final Metric m : METRICS) {
                final double with = value(results, d.label(), counts.isEmpty() ? 1 : counts.get(0), m);
                final double without = value(results, Dataplane.DIRECT.label(), counts.isEmpty() ? 1 : counts.get(0), m);
                if (m.higherIsBetter() && !Double.isNaN(with) && !Double.isNaN(without)) {
                    rows.add(new String[] {d.label() + " ≥ 0.95× direct, " + m.unit(),
                        fmt(with) + " vs " + fmt(without) + " = " + fmt(with / without) + "×", with >= 0.95 * without ? "met" : "not met"});
                }
            }
        }
        for (final Dataplane d : List.of(Dataplane.FERRY_TUN, Dataplane.FERRY_PACKET)) {
            for (final int n : counts) {
                final double change = median(results, d.label(), n, "change", LabResults.Sync::servingMs);
                if (!Double.isNaN(change)) {
                    rows.add(new String[] {"one-service change serving < 10 ms (" + d.label() + ", " + n + " services)",
                        fmt(change) + " ms (median)", change < 10 ? "met" : "not met"});
                }
            }
        }
        return rows;
    }

    private static Optional<LoadResult> result(final LabResults results, final String plane, final int services, final LoadMode mode) {
        // the direct paths involve no service: their one run stands for every count
        return results.loads().stream().filter(l -> l.dataplane().equals(plane) && l.mode() == mode && l.result() != null
            && (Dataplane.isDirect(plane) || l.services() == services)).map(LabResults.Load::result).findFirst();
    }

    static double value(final LabResults results, final String plane, final int services, final Metric m) {
        return result(results, plane, services, m.mode()).map(m.value()::applyAsDouble).orElse(Double.NaN);
    }

    private static String cell(final LabResults results, final String plane, final int services, final LoadMode mode,
                               final ToDoubleFunction<LoadResult> f) {
        return result(results, plane, services, mode).map(r -> fmt(f.applyAsDouble(r))).orElse("–");
    }

    private static String latency(final LabResults results, final String plane, final int services, final LoadMode mode) {
        return result(results, plane, services, mode).filter(r -> r.latency() != null)
            .map(r -> fmt(r.latency().p50Us()) + " / " + fmt(r.latency().p99Us())).orElse("–");
    }

    private static String ratio(final double v, final double base) {
        return Double.isNaN(v) || Double.isNaN(base) || base == 0 ? "–" : fmt(v / base) + "×";
    }

    private static List<LabResults.Sync> syncs(final LabResults results, final String plane, final int services, final String kind) {
        return results.syncs().stream().filter(s -> s.dataplane().equals(plane) && s.services() == services && s.kind().equals(kind)).toList();
    }

    private static double median(final LabResults results, final String plane, final int services, final String kind,
                                 final ToDoubleFunction<LabResults.Sync> f) {
        final double[] v = syncs(results, plane, services, kind).stream().mapToDouble(f).filter(x -> !Double.isNaN(x)).sorted().toArray();
        if (v.length == 0) {
            return Double.NaN;
        }
        return v.length % 2 == 1 ? v[v.length / 2] : (v[v.length / 2 - 1] + v[v.length / 2]) / 2;
    }
}
