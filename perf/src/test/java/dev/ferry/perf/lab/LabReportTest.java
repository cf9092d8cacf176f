package dev.ferry.perf.lab;

import dev.ferry.perf.load.LoadMode;
import dev.ferry.perf.load.LoadResult;
import dev.ferry.perf.report.Machine;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The lab report from made-up results: ratios to the direct path and the kernel, targets, charts. */
class LabReportTest {
    @TempDir
    Path dir;

    private static LabResults.Load udp(final Dataplane d, final int services, final double pps) {
        return new LabResults.Load(d.label(), services, LoadMode.UDP,
            new LoadResult(LoadMode.UDP, "x", 1, (long) pps, (long) pps, pps, pps * 512, 0, null), null);
    }

    private static LabResults.Load crr(final Dataplane d, final int services, final double cps) {
        return new LabResults.Load(d.label(), services, LoadMode.CRR, new LoadResult(LoadMode.CRR, "x", 1, (long) cps, (long) cps, cps, 0, 0,
            new LoadResult.Latency(100, 100, 200, 300, 400, 500, 150)), null);
    }

    @Test
    void shouldGiveEachFigureWithItsRatiosToDirectAndTheKernelAndDrawCharts() throws IOException {
        final List<LabResults.Load> loads = new ArrayList<>(List.of(
            udp(Dataplane.DIRECT, 1, 400_000), udp(Dataplane.NFTABLES, 1, 200_000), udp(Dataplane.IPTABLES, 1, 100_000),
            udp(Dataplane.FERRY_PACKET, 1, 150_000), crr(Dataplane.NFTABLES, 1, 1000), crr(Dataplane.FERRY_PACKET, 1, 400),
            udp(Dataplane.NFTABLES, 10_000, 200_000), udp(Dataplane.IPTABLES, 10_000, 50_000), udp(Dataplane.FERRY_PACKET, 10_000, 100_000)));
        final List<LabResults.Sync> syncs = List.of(new LabResults.Sync("nftables", 1, "full", 20, 25),
            new LabResults.Sync("ferry packet", 1, "change", Double.NaN, 130), new LabResults.Sync("ferry packet", 1, "change", Double.NaN, 150),
            // API mode: programming only, no loads; its target counts from the API server's answer
            new LabResults.Sync("ferry packet", 1, "full", 15, 3_500), new LabResults.Sync("ferry packet", 1, "restart", Double.NaN, 1_200),
            new LabResults.Sync("ferry packet, api", 1, "change", 0.5, 30, 24.0), new LabResults.Sync("ferry packet, api", 1, "change", 0.5, 40, 32.0));
        final LabResults results = new LabResults(new Machine("CPU", 2, 1024, "6.1", "VM"), "test", loads, syncs);

        LabReport.write(results, dir);
        final String md = Files.readString(dir.resolve(LabReport.MARKDOWN));
        assertTrue(md.contains("| ferry packet | 150,000 | 0.375× | 0.750× | 1.50× | 100,000 | 0.250× | 0.500× | 2.00× |"), md);
        assertTrue(md.contains("| packet port ≥ ½ nftables, connections/s, 1 services | 400 vs 1,000 = 0.400× | not met |"), md);
        assertTrue(md.contains("| packet port ahead of iptables, datagrams/s, 10000 services | 100,000 vs 50,000 = 2.00× | met |"), md);
        assertTrue(md.contains("| one-service change serving ≤ 10 ms (ferry packet, 1 services) | 140 ms (median) | not met |"), md);
        assertTrue(md.contains("| one-service change serving ≤ 10 ms (ferry packet, api, 1 services, from the API server's answer) "
            + "| 7.00 ms (median); the write itself 28.0 ms | met |"), md);
        assertTrue(md.contains("| ferry packet, api | 1 | n/a | n/a | n/a | 0.500 | 28.0 | 35.0 | 7.00 | 30.0, 40.0 |"), md);
        assertTrue(md.contains("| agent restart → serving again ≤ 3 s, JVM included (ferry packet, 1 services) | 1,200 ms | met |"), md);
        assertTrue(md.contains("| agent start → serving ≤ 3 s, JVM included (ferry packet, 1 services) | 3,500 ms | not met |"), md);
        assertFalse(md.contains("| ferry packet, api | 1 | –"), "a plane without loads has no row in the load tables: " + md);
        assertFalse(md.contains("| ferry packet, api | n/a"), "nor in the figures' tables: " + md);
        for (final String chart : List.of("lab-udp", "lab-crr", "lab-programming")) {
            assertTrue(Files.size(dir.resolve("charts").resolve(chart + ".png")) > 5_000, chart);
            assertTrue(Files.readString(dir.resolve("charts").resolve(chart + ".svg")).contains("<svg"), chart);
        }
    }

    @Test
    void shouldReadASyncFromBeforeWritesWereTimedAsNotMeasured() throws IOException {
        final LabResults.Sync old = LabBench.JSON.readValue(
            "{\"dataplane\":\"ferry tun\",\"services\":1,\"kind\":\"change\",\"commandMs\":1.5,\"servingMs\":9.0}", LabResults.Sync.class);
        assertTrue(Double.isNaN(old.writeMs()), "absent is NaN, not 0");
        assertTrue(Double.isNaN(old.servingAfterWriteMs()));
    }

    @Test
    void shouldTakeEachRatioFromTheFiguresOfOneRoundAndGiveTheMedianWithItsRange() throws IOException {
        // the machine slows down between rounds: each round's ratio is 0.9, 1.0 and 0.8, while
        // the medians of the figures (direct 300,000, pod to pod 200,000) would make it 0.667
        final List<LabResults.Load> loads = List.of(
            udp(Dataplane.DIRECT, 1, 400_000).inRound(1), udp(Dataplane.POD_TO_POD_FERRY_TUN, 1, 360_000).inRound(1),
            udp(Dataplane.DIRECT, 1, 200_000).inRound(2), udp(Dataplane.POD_TO_POD_FERRY_TUN, 1, 200_000).inRound(2),
            udp(Dataplane.DIRECT, 1, 300_000).inRound(3), udp(Dataplane.POD_TO_POD_FERRY_TUN, 1, 240_000).inRound(3));
        final List<LabResults.AgentCpu> cpu = List.of(
            new LabResults.AgentCpu(Dataplane.POD_TO_POD_FERRY_TUN.label(), 1, 1, "idle", 0.004),
            new LabResults.AgentCpu(Dataplane.POD_TO_POD_FERRY_TUN.label(), 1, 2, "idle", 0.002),
            new LabResults.AgentCpu(Dataplane.POD_TO_POD_FERRY_TUN.label(), 1, 3, "idle", 0.006),
            new LabResults.AgentCpu(Dataplane.POD_TO_POD_FERRY_TUN.label(), 1, 1, "UDP", 0.25));
        final LabResults results = new LabResults(new Machine("CPU", 2, 1024, "6.1", "VM"), "test", loads, List.of(), cpu);

        LabReport.write(results, dir);
        final String md = Files.readString(dir.resolve(LabReport.MARKDOWN));
        assertTrue(md.contains("| pod to pod, ferry tun running | 1 | 0.400 % (0.200–0.600) | 25.0 % |"), md);
        assertTrue(md.contains("| pod to pod, ferry tun running ≥ 0.95× direct, datagrams/s "
            + "| 240,000 vs 300,000 = 0.900× (0.800–1.00, median of 3 rounds) | not met |"), md);
        assertTrue(md.contains("| pod to pod, ferry tun running | 240,000 (200,000–360,000) | 0.900× (0.800–1.00) |"), md);
        assertTrue(md.contains("| direct | – | 300,000 (200,000–400,000) |"), md);
    }
}
