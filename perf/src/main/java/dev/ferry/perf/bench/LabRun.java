package dev.ferry.perf.bench;

import dev.ferry.control.lab.LabException;
import dev.ferry.perf.lab.BenchPath;
import dev.ferry.perf.lab.Dataplane;
import dev.ferry.perf.lab.LabBench;
import dev.ferry.perf.lab.LabReport;
import dev.ferry.perf.lab.LabResults;
import dev.ferry.perf.load.LoadMode;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.Callable;

/** {@code ferry bench lab}: see {@link LabBench}. */
@Command(name = "lab", mixinStandardHelpOptions = true,
    description = {"Side-by-side lab benchmarks (needs root): direct, kernel nftables and iptables (kube-proxy-shaped),",
        "Ferry tun and packet, on one netns lab topology; writes lab.json, lab.md and charts into a folder.",
        "The lab (namespaces " + LabBench.PREFIX + "*) is taken down at the end, on failure and on Ctrl-C."},
    footer = {"", "Examples:",
        "  sudo ./ferry bench lab --out /tmp/lab                                # 1 and 10,000 services, every dataplane",
        "  sudo ./ferry bench lab --out /tmp/lab --services 1 --duration-s 3    # a quick look",
        "  sudo ./ferry bench lab --out /tmp/lab --dataplane ferry-packet --dataplane nftables --mode udp --mode crr",
        "  sudo ./ferry bench lab --out /tmp/p2p --services 1 --rounds 5 --mode rr --mode bulk --changes 0 \\",
        "       --dataplane direct --dataplane pod-to-pod-ferry-tun   # the agent's cost to other traffic, 5 interleaved rounds",
        "  sudo ./ferry bench lab --out /tmp/snat --services 1 --path node-port --mode crr --crr-graceful-close \\",
        "       --duration-s 300 --changes 0 --dataplane nftables --dataplane ferry-tun   # masquerade for 5 minutes"})
final class LabRun implements Callable<Integer> {
    @Option(names = {"-o", "--out"}, required = true, paramLabel = "DIR", description = "Folder for lab.json, lab.md and charts/.")
    Path out;
    @Option(names = "--services", split = ",", defaultValue = "1,10000", description = "Service counts (default: ${DEFAULT-VALUE}).")
    List<Integer> services;
    @Option(names = "--dataplane", paramLabel = "NAME", description = "direct, nftables, iptables, ferry-tun, ferry-packet, ferry-tun-api, ferry-packet-api (their programming times, from a mock API server), pod-to-pod-ferry-tun, pod-to-pod-ferry-packet (repeatable; default: all).")
    List<String> dataplanes = new ArrayList<>();
    @Option(names = "--mode", paramLabel = "MODE", description = "udp, crr, rr, bulk (repeatable; default: all).")
    List<String> modes = new ArrayList<>();
    @Option(names = "--warmup-s", defaultValue = "2", description = "Load before each window (default: ${DEFAULT-VALUE}).")
    double warmupS;
    @Option(names = "--duration-s", defaultValue = "5", description = "Each measurement window (default: ${DEFAULT-VALUE}).")
    double durationS;
    @Option(names = "--udp-flows", defaultValue = "4", description = "UDP sockets (default: ${DEFAULT-VALUE}).")
    int udpFlows;
    @Option(names = "--crr-concurrency", defaultValue = "16", description = "Connections in flight (default: ${DEFAULT-VALUE}).")
    int crrConcurrency;
    @Option(names = "--rr-concurrency", defaultValue = "8", description = "Open request/response connections (default: ${DEFAULT-VALUE}).")
    int rrConcurrency;
    @Option(names = "--bulk-streams", defaultValue = "2", description = "Bulk TCP streams (default: ${DEFAULT-VALUE}).")
    int bulkStreams;
    @Option(names = "--changes", defaultValue = "3", description = "One-service changes timed per dataplane (default: ${DEFAULT-VALUE}).")
    int changes;
    @Option(names = "--workers", defaultValue = "1", description = "The Ferry agent's worker threads (default: ${DEFAULT-VALUE}).")
    int workers;
    @Option(names = "--path", defaultValue = "cluster-ip", paramLabel = "PATH", description = {
        "How the load reaches the bench service (default: ${DEFAULT-VALUE}):",
        "  cluster-ip     pod local-1 -> ClusterIP (two backends, no masquerade)",
        "  node-port      the lab's external client -> node-1:NodePort (one backend, masqueraded)",
        "  load-balancer  the lab's external client -> LoadBalancer IP (one backend, masqueraded)",
        "  hairpin        pod web-1 -> ClusterIP whose only backend is web-1 (masqueraded)"})
    String path;
    @Option(names = "--crr-graceful-close", description = "CRR: the server closes first and the client answers its FIN, so TIME_WAIT "
        + "is held (as wrk -H 'Connection: close' against nginx); by default the client resets once answered.")
    boolean crrGracefulClose;
    @Option(names = "--rounds", defaultValue = "1", description = {"Passes over the dataplanes, every other one in reverse order; "
        + "the report gives each figure's median over the rounds with its range, and each ratio from figures of the same round "
        + "(default: ${DEFAULT-VALUE})."})
    int rounds;
    @Option(names = "--state-dir", defaultValue = LabBench.DEFAULT_STATE_DIR, description = "The bench lab's files (default: ${DEFAULT-VALUE}).")
    Path stateDir;

    @Override
    public Integer call() throws Exception {
        if (rounds < 1) {
            System.err.println("ferry bench lab: --rounds must be at least 1");
            return 2;
        }
        final List<Dataplane> planes = dataplanes.isEmpty() ? Arrays.asList(Dataplane.values())
            : dataplanes.stream().map(Dataplane::parse).sorted().toList();
        final List<LoadMode> loadModes = modes.isEmpty() ? Arrays.asList(LoadMode.values())
            : modes.stream().map(m -> LoadMode.valueOf(m.toUpperCase())).toList();
        final LabBench.Settings settings = new LabBench.Settings(out.toAbsolutePath(), stateDir, services.stream().sorted().toList(),
            planes, loadModes, Math.round(warmupS * 1000), Math.round(durationS * 1000), udpFlows, crrConcurrency, rrConcurrency,
            bulkStreams, changes, workers, BenchPath.parse(path), crrGracefulClose, rounds);
        try {
            final LabResults results = new LabBench(settings, System.out).run();
            for (final Path f : LabReport.write(results, out)) {
                System.out.println("bench: wrote " + f);
            }
            System.out.println("bench: wrote " + out.resolve("lab.json"));
            return 0;
        } catch (final LabException e) {
            System.err.println("ferry bench lab: " + e.getMessage());
            return 1;
        }
    }

    @Command(name = "lab-report", mixinStandardHelpOptions = true, description = "Write lab.md and charts from an existing lab.json.")
    static final class Report implements Callable<Integer> {
        @picocli.CommandLine.Parameters(index = "0", paramLabel = "LAB_JSON")
        Path json;
        @Option(names = {"-o", "--out"}, required = true, paramLabel = "DIR")
        Path out;

        @Override
        public Integer call() throws Exception {
            final LabResults results = LoadCommands.JSON.readValue(json.toFile(), LabResults.class);
            for (final Path f : LabReport.write(results, out)) {
                System.out.println("bench: wrote " + f);
            }
            return 0;
        }
    }
}
