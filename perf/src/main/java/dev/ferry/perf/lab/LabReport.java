package dev.ferry.perf.lab;

import dev.ferry.perf.load.LoadMode;
import dev.ferry.perf.load.LoadResult;
import dev.ferry.perf.report.Charts;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collection;
import java.util.Collections;
import java.util.List;
import java.util.SortedMap;
import java.util.TreeMap;
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
        final List<Integer> counts = java.util.stream.Stream.concat(results.loads().stream().map(LabResults.Load::services),
            results.syncs().stream().map(LabResults.Sync::services)).distinct().sorted().toList();
        // the API-mode runs have programming figures and no loads
        final List<String> planes = Arrays.stream(Dataplane.values()).map(Dataplane::label)
            .filter(l -> hasLoads(results, l) || results.syncs().stream().anyMatch(x -> x.dataplane().equals(l))).toList();
        final List<String> loadPlanes = planes.stream().filter(p -> hasLoads(results, p)).toList();
        final Path charts = dir.resolve("charts");
        for (final Metric m : METRICS) {
            final List<Charts.BarSeries> series = new ArrayList<>();
            for (final int n : counts) {
                series.add(new Charts.BarSeries(n + (n == 1 ? " service" : " services"),
                    loadPlanes.stream().map(p -> value(results, p, n, m)).toList(), null));
            }
            if (series.stream().anyMatch(s -> s.values().stream().anyMatch(v -> !Double.isNaN(v)))) {
                written.addAll(Charts.bars(charts, "lab-" + m.key(), m.title() + (m.higherIsBetter() ? " (higher is better)" : " (lower is better)"),
                    m.unit(), loadPlanes, series, false));
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

    private static boolean hasLoads(final LabResults results, final String plane) {
        return results.loads().stream().anyMatch(x -> x.dataplane().equals(plane));
    }

    static String markdown(final LabResults results, final List<Integer> counts, final List<String> planes) {
        final List<String> loadPlanes = planes.stream().filter(p -> hasLoads(results, p)).toList();
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
            for (final String p : loadPlanes) {
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
            for (final String p : loadPlanes) {
                md.append("| ").append(p).append(" |");
                for (final int n : counts) {
                    md.append(' ').append(cell(results, p, n, m)).append(" | ").append(ratio(results, p, Dataplane.DIRECT.label(), n, m))
                        .append(" | ").append(ratio(results, p, Dataplane.NFTABLES.label(), n, m))
                        .append(" | ").append(ratio(results, p, Dataplane.IPTABLES.label(), n, m)).append(" |");
                }
                md.append('\n');
            }
            md.append("\n![").append(m.key()).append("](charts/lab-").append(m.key()).append(".png)\n\n");
        }
        final List<String> during = new ArrayList<>(List.of("idle"));
        settingsModes(results).forEach(mode -> during.add(mode.name()));
        if (!results.agentCpu().isEmpty()) {
            md.append("## The agent's CPU (share of one core, median over the rounds)\n\n")
                .append("From the agent process's utime + stime in /proc over wall time: idle is a quiet ")
                .append(fmt(LabBench.IDLE_SAMPLE_MS / 1000.0)).append(" s from ").append(fmt(LabBench.IDLE_SETTLE_MS / 1000.0))
                .append(" s after its first sync, before any load; under a load, its warmup and window together.\n\n")
                .append("| dataplane | services |");
            during.forEach(d -> md.append(' ').append(d.equals("idle") ? "idle" : d.toLowerCase(java.util.Locale.ROOT)).append(" |"));
            md.append("\n|---|---:|").append("---:|".repeat(during.size())).append('\n');
            for (final int n : counts) {
                for (final String p : planes) {
                    final List<String> cells = during.stream().map(d -> cpuCell(results, p, n, d)).toList();
                    if (cells.stream().allMatch("–"::equals)) {
                        continue;
                    }
                    md.append("| ").append(p).append(" | ").append(String.format("%,d", n)).append(" |");
                    cells.forEach(c -> md.append(' ').append(c).append(" |"));
                    md.append('\n');
                }
            }
            md.append('\n');
        }
        md.append("## Programming: from a change to the dataplane serving it\n\n")
            .append("\"all\": every service from nothing — for the kernel `nft -f` / `iptables-restore` of the whole rule set, for Ferry ")
            .append("the agent's start (JVM, attach, manifests, compile). \"change\": one Service added to the others — for the kernel ")
            .append("kube-proxy's incremental transaction (`nft -f` of the new chains and map elements; `iptables-restore --noflush` ")
            .append("rewriting KUBE-SERVICES and adding the new chains), for Ferry a new manifest file written into the watched directory, or (\"api\" rows) a Service and its ")
            .append("EndpointSlice created in fabric8's mock API server, which the agent watches over loopback. ")
            .append("command: the nft / iptables-restore process alone, or the agent's own sync duration ")
            .append("(`kubeproxy_sync_proxy_rules_duration_seconds`). serving: until the first connection from the client pod to the ")
            .append("new ClusterIP was answered (probes every ").append(LabBench.PROBE_TIMEOUT_MS).append(" ms). write: the change's ")
            .append("file rename, or its requests to the API server until answered; after write: serving less write. restart: the ")
            .append("agent stopped with SIGTERM and started again on the same files, from the signal until a new connection is ")
            .append("answered again.\n\n");
        md.append("| dataplane | services | all: command ms | all: serving ms | restart: serving ms | change: command ms (median) "
                + "| change: write ms (median) "
                + "| change: serving ms (median) | change: after write ms (median) | change: serving ms (each) |\n")
            .append("|---|---:|---:|---:|---:|---:|---:|---:|---:|---|\n");
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
                    .append(fmt(median(results, p, n, "restart", LabResults.Sync::servingMs))).append(" | ")
                    .append(fmt(median(results, p, n, "change", LabResults.Sync::commandMs))).append(" | ")
                    .append(fmt(median(results, p, n, "change", LabResults.Sync::writeMs))).append(" | ")
                    .append(fmt(median(results, p, n, "change", LabResults.Sync::servingMs))).append(" | ")
                    .append(fmt(median(results, p, n, "change", LabResults.Sync::servingAfterWriteMs))).append(" | ")
                    .append(String.join(", ", change.stream().map(s -> fmt(s.servingMs())).toList())).append(" |\n");
            }
        }
        final StringBuilder endpoints = new StringBuilder();
        for (final int n : counts) {
            for (final String p : planes) {
                final List<LabResults.Sync> unready = syncs(results, p, n, "endpoint unready");
                final List<LabResults.Sync> ready = syncs(results, p, n, "endpoint ready");
                if (unready.isEmpty() && ready.isEmpty()) {
                    continue;
                }
                endpoints.append("| ").append(p).append(" | ").append(String.format("%,d", n)).append(" | ")
                    .append(fmt(median(results, p, n, "endpoint unready", LabResults.Sync::servingMs))).append(" | ")
                    .append(fmt(median(results, p, n, "endpoint unready", LabResults.Sync::servingAfterWriteMs))).append(" | ")
                    .append(fmt(median(results, p, n, "endpoint ready", LabResults.Sync::servingMs))).append(" | ")
                    .append(fmt(median(results, p, n, "endpoint ready", LabResults.Sync::servingAfterWriteMs))).append(" | ")
                    .append(String.join(", ", unready.stream().map(s -> fmt(s.servingMs())).toList())).append(" | ")
                    .append(String.join(", ", ready.stream().map(s -> fmt(s.servingMs())).toList())).append(" |\n");
            }
        }
        if (!endpoints.isEmpty()) {
            md.append("\nEndpoint changes (Ferry's dataplanes): the last added service's only endpoint going unready in its ")
                .append("EndpointSlice, until a connection to the ClusterIP is refused (no endpoint left), and ready again, until ")
                .append("one is answered.\n\n")
                .append("| dataplane | services | unready → refused ms (median) | after write | ready → served ms (median) | after write "
                    + "| unready (each) | ready (each) |\n")
                .append("|---|---:|---:|---:|---:|---:|---|---|\n").append(endpoints);
        }
        md.append("\n![programming](charts/lab-programming.png)\n");
        return md.toString();
    }

    static List<String[]> targets(final LabResults results, final List<Integer> counts) {
        final List<String[]> rows = new ArrayList<>();
        final String packet = Dataplane.FERRY_PACKET.label();
        for (final int n : counts) {
            for (final Metric m : List.of(METRICS.get(0), METRICS.get(1))) {
                final Ratio r = Ratio.of(results, packet, Dataplane.NFTABLES.label(), n, m);
                if (r != null) {
                    rows.add(new String[] {"packet port ≥ ½ nftables, " + m.unit() + ", " + n + " services",
                        r.describe(), r.median() >= 0.5 ? "met" : "not met"});
                }
            }
        }
        final int most = counts.isEmpty() ? 0 : counts.get(counts.size() - 1);
        if (most >= 10_000) {
            for (final Metric m : List.of(METRICS.get(0), METRICS.get(1))) {
                final Ratio r = Ratio.of(results, packet, Dataplane.IPTABLES.label(), most, m);
                if (r != null) {
                    rows.add(new String[] {"packet port ahead of iptables, " + m.unit() + ", " + most + " services",
                        r.describe(), r.median() > 1 ? "met" : "not met"});
                }
            }
        }
        for (final Dataplane d : List.of(Dataplane.POD_TO_POD_FERRY_TUN, Dataplane.POD_TO_POD_FERRY_PACKET)) {
            for (final Metric m : METRICS) {
                final Ratio r = Ratio.of(results, d.label(), Dataplane.DIRECT.label(), counts.isEmpty() ? 1 : counts.get(0), m);
                if (m.higherIsBetter() && r != null) {
                    rows.add(new String[] {d.label() + " ≥ 0.95× direct, " + m.unit(), r.describe(), r.median() >= 0.95 ? "met" : "not met"});
                }
            }
        }
        for (final Dataplane d : List.of(Dataplane.FERRY_TUN, Dataplane.FERRY_PACKET, Dataplane.FERRY_TUN_API, Dataplane.FERRY_PACKET_API)) {
            for (final int n : counts) {
                for (final String[] start : List.of(new String[] {"full", "agent start → serving"},
                        new String[] {"restart", "agent restart → serving again"})) {
                    final double ms = median(results, d.label(), n, start[0], LabResults.Sync::servingMs);
                    if (!Double.isNaN(ms)) {
                        rows.add(new String[] {start[1] + " ≤ 3 s, JVM included (" + d.label() + ", " + n + " services)",
                            fmt(ms) + " ms", ms <= 3_000 ? "met" : "not met"});
                    }
                }
                for (final String[] change : List.of(new String[] {"change", "one-service change serving"},
                        new String[] {"endpoint unready", "endpoint unready refused"})) {
                    // API mode: from the API server's answer, as kube-proxy's programming latency starts at the stored
                    // change; the mock server's own write time is given beside it
                    final double ms = median(results, d.label(), n, change[0],
                        d.api() ? LabResults.Sync::servingAfterWriteMs : LabResults.Sync::servingMs);
                    if (!Double.isNaN(ms)) {
                        rows.add(new String[] {change[1] + " ≤ 10 ms (" + d.label() + ", " + n + " services"
                            + (d.api() ? ", from the API server's answer" : "") + ")",
                            fmt(ms) + " ms (median)" + (d.api() ? "; the write itself " + fmt(median(results, d.label(), n, change[0],
                                LabResults.Sync::writeMs)) + " ms" : ""), ms <= 10 ? "met" : "not met"});
                    }
                }
            }
        }
        return rows;
    }

    /**
     * The figure {@code f} of each round that measured it, by round. A direct path involves no
     * service: its run in a round stands for every service count.
     */
    static SortedMap<Integer, Double> byRound(final LabResults results, final String plane, final int services, final LoadMode mode,
                                              final ToDoubleFunction<LoadResult> f) {
        final SortedMap<Integer, Double> figures = new TreeMap<>();
        for (final LabResults.Load l : results.loads()) {
            if (l.dataplane().equals(plane) && l.mode() == mode && l.result() != null && (Dataplane.isDirect(plane) || l.services() == services)) {
                final double v = f.applyAsDouble(l.result());
                if (!Double.isNaN(v)) {
                    figures.putIfAbsent(l.round(), v);
                }
            }
        }
        return figures;
    }

    /** The median over the rounds of a metric's figure, or NaN when nothing measured it. */
    static double value(final LabResults results, final String plane, final int services, final Metric m) {
        return median(byRound(results, plane, services, m.mode(), m.value()).values());
    }

    /**
     * A dataplane's figure over a baseline's, each round's ratio taken from the two figures of
     * that round (measured minutes apart, not a whole run apart), then the median and range of
     * those ratios.
     */
    record Ratio(double median, double min, double max, int rounds, double figure, double base) {
        static Ratio of(final LabResults results, final String plane, final String basePlane, final int services, final Metric m) {
            final SortedMap<Integer, Double> figures = byRound(results, plane, services, m.mode(), m.value());
            final SortedMap<Integer, Double> bases = byRound(results, basePlane, services, m.mode(), m.value());
            final List<Double> ratios = new ArrayList<>();
            figures.forEach((round, v) -> {
                final Double base = bases.get(round);
                if (base != null && base != 0) {
                    ratios.add(v / base);
                }
            });
            if (ratios.isEmpty()) {
                return null;
            }
            return new Ratio(LabReport.median(ratios), Collections.min(ratios), Collections.max(ratios), ratios.size(),
                LabReport.median(figures.values()), LabReport.median(bases.values()));
        }

        /** "1,000 vs 2,000 = 0.500×", and with several rounds the medians and the ratios' range. */
        String describe() {
            return fmt(figure) + " vs " + fmt(base) + " = " + fmt(median) + "×"
                + (rounds > 1 ? " (" + fmt(min) + "–" + fmt(max) + ", median of " + rounds + " rounds)" : "");
        }

        /** The table cell: "0.500×", or "0.500× (0.40–0.60)" over several rounds. */
        String cell() {
            return fmt(median) + "×" + (rounds > 1 ? " (" + fmt(min) + "–" + fmt(max) + ")" : "");
        }
    }

    /** A figure's cell: the median over the rounds, and with several rounds their range. */
    private static String cell(final LabResults results, final String plane, final int services, final LoadMode mode,
                               final ToDoubleFunction<LoadResult> f) {
        final SortedMap<Integer, Double> figures = byRound(results, plane, services, mode, f);
        if (figures.isEmpty()) {
            return "–";
        }
        final String median = fmt(median(figures.values()));
        return figures.size() == 1 ? median
            : median + " (" + fmt(Collections.min(figures.values())) + "–" + fmt(Collections.max(figures.values())) + ")";
    }

    private static String cell(final LabResults results, final String plane, final int services, final Metric m) {
        final String cell = cell(results, plane, services, m.mode(), m.value());
        return cell.equals("–") ? "n/a" : cell;
    }

    private static String latency(final LabResults results, final String plane, final int services, final LoadMode mode) {
        final String p50 = cell(results, plane, services, mode, r -> r.latency() == null ? Double.NaN : r.latency().p50Us());
        final String p99 = cell(results, plane, services, mode, r -> r.latency() == null ? Double.NaN : r.latency().p99Us());
        return p50.equals("–") ? "–" : p50 + " / " + p99;
    }

    private static String ratio(final LabResults results, final String plane, final String basePlane, final int services, final Metric m) {
        final Ratio r = Ratio.of(results, plane, basePlane, services, m);
        return r == null ? "–" : r.cell();
    }

    /** The load modes the run measured, in the report's order. */
    private static List<LoadMode> settingsModes(final LabResults results) {
        return Arrays.stream(LoadMode.values()).filter(m -> results.loads().stream().anyMatch(l -> l.mode() == m)).toList();
    }

    /** "0.4 %" (median over the rounds, and their range when there are several), or "–". */
    private static String cpuCell(final LabResults results, final String plane, final int services, final String during) {
        final List<Double> cores = results.agentCpu().stream()
            .filter(c -> c.dataplane().equals(plane) && c.services() == services && c.during().equals(during) && !Double.isNaN(c.cores()))
            .map(LabResults.AgentCpu::cores).toList();
        if (cores.isEmpty()) {
            return "–";
        }
        final String median = fmt(median(cores) * 100) + " %";
        return cores.size() == 1 ? median : median + " (" + fmt(Collections.min(cores) * 100) + "–" + fmt(Collections.max(cores) * 100) + ")";
    }

    private static List<LabResults.Sync> syncs(final LabResults results, final String plane, final int services, final String kind) {
        return results.syncs().stream().filter(s -> s.dataplane().equals(plane) && s.services() == services && s.kind().equals(kind)).toList();
    }

    private static double median(final LabResults results, final String plane, final int services, final String kind,
                                 final ToDoubleFunction<LabResults.Sync> f) {
        return median(syncs(results, plane, services, kind).stream().map(f::applyAsDouble).filter(x -> !Double.isNaN(x)).toList());
    }

    private static double median(final Collection<Double> values) {
        final double[] v = values.stream().mapToDouble(Double::doubleValue).sorted().toArray();
        if (v.length == 0) {
            return Double.NaN;
        }
        return v.length % 2 == 1 ? v[v.length / 2] : (v[v.length / 2 - 1] + v[v.length / 2]) / 2;
    }
}
