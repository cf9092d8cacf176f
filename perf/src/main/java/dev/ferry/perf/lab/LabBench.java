package dev.ferry.perf.lab;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import dev.ferry.control.lab.Lab;
import dev.ferry.control.lab.LabClient;
import dev.ferry.control.lab.LabException;
import dev.ferry.control.lab.LabJava;
import dev.ferry.control.lab.LabManifests;
import dev.ferry.control.lab.LabState;
import dev.ferry.control.lab.LabTopology;
import dev.ferry.control.lab.Shell;
import dev.ferry.nativeio.netns.NetworkNamespace;
import dev.ferry.perf.load.LoadMode;
import dev.ferry.perf.load.LoadPorts;
import dev.ferry.perf.load.LoadResult;
import dev.ferry.perf.load.ServerStats;
import dev.ferry.perf.report.Machine;

import java.io.File;
import java.io.IOException;
import java.io.PrintStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.Comparator;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * {@code ferry bench lab}: the side-by-side lab benchmarks. Brings up a two-node lab without
 * agents (its own namespace prefix {@value #PREFIX}, so a lab brought up by hand is left alone),
 * starts a load server in pods web-1 and web-2, and from pod local-1 (all on node-1) runs the
 * same loads through each dataplane in turn on node-1: direct to the pods, the kernel with
 * kube-proxy-shaped nftables and iptables rules, Ferry's agent with the tun port and with the
 * packet port (only one of them runs at a time, and no agent runs during the kernel runs).
 * Then the same at larger service counts, with the programming times. The lab is taken down at
 * the end, on failure, and on Ctrl-C.
 */
public final class LabBench {
    public static final String PREFIX = "ferry-bench-";
    public static final String DEFAULT_STATE_DIR = "/run/ferry-bench";
    private static final String CLIENT_POD = "local-1";
    private static final List<String> SERVER_PODS = List.of("web-1", "web-2");
    private static final String BENCH_MAIN = "dev.ferry.perf.bench.BenchCommand";
    private static final long SERVING_TIMEOUT_MS = 300_000;
    /**
     * A serving probe's connect timeout, and so the resolution of a serving time: a SYN that
     * arrives before the change serves is dropped (an unallocated service address), and the
     * next probe goes out once this has passed. A connect through a served ClusterIP on this
     * lab takes about 0.1 ms.
     */
    public static final int PROBE_TIMEOUT_MS = 1;
    /** The pause between a whole start's serving probes (see {@link #waitStartServing}). */
    static final long START_PROBE_PAUSE_MS = 10;
    private static final Pattern ELAPSED = Pattern.compile("elapsed_ms=(\\d+)");
    /**
     * How long the agent is left alone after its first sync before its idle CPU is sampled: its
     * start-up JIT settles, and the document cache writes a large manifest file's parse (5 s after
     * the parse, about a second of work at 10,000 services) before the sample, not in it.
     */
    static final long IDLE_SETTLE_MS = 10_000;
    /** How long the agent's idle CPU is sampled, before the first load (a /proc tick is 10 ms: 0.2 % of a core over 5 s). */
    static final long IDLE_SAMPLE_MS = 5_000;
    /** The kernel's USER_HZ: /proc's utime and stime are in these ticks (100 on every Linux ABI Ferry runs on). */
    private static final double CLOCK_TICKS_PER_S = 100;
    /** Where the pod-to-pod runs' services send instead of the load ports (7000-7003 become 7100-7103). */
    private static final int POD_TO_POD_PORT_OFFSET = 100;

    /** How the run is shaped; every load is bounded by warmup + window and by maxCount. */
    public record Settings(Path out, Path stateDir, List<Integer> serviceCounts, List<Dataplane> dataplanes, List<LoadMode> modes,
                           long warmupMs, long durationMs, int udpFlows, int crrConcurrency, int rrConcurrency, int bulkStreams,
                           int changes, int agentWorkers, BenchPath path, boolean crrGracefulClose, int rounds) {
        public String describe() {
            return (rounds > 1 ? rounds + " rounds over the dataplanes, every other one in reverse order; " : "") + "path " + path.label() + "; window " + durationMs / 1000.0 + " s after " + warmupMs / 1000.0 + " s warmup; UDP " + udpFlows
                + " flows of 64 B datagrams; CRR " + crrConcurrency + " connections in flight"
                + (crrGracefulClose ? " (server closes first: TIME_WAIT)" : " (client resets)") + "; RR " + rrConcurrency
                + " connections; bulk " + bulkStreams
                + " streams; services " + serviceCounts + "; Ferry agent with " + agentWorkers + " worker(s); " + changes
                + " one-service changes per dataplane";
        }
    }

    private final Settings settings;
    private final PrintStream out;
    private final Lab lab;
    private final LabJava jvm = LabJava.current();
    private final Path baselineScript;
    private final List<Process> servers = new ArrayList<>();
    private LabTopology topology;
    private LabTopology.Node node;
    private List<String> serverIps;
    /** Pod local-1's namespace: where the serving probes connect from. */
    private String clientNetns;
    /** Where the load client runs: local-1, the lab's external client, or web-1 (hairpin), by {@link Settings#path()}. */
    private String loadNetns;
    private Process agent;
    /** The running agent's command line and log, for a restart with the same files. */
    private List<String> agentCommand;
    private Path agentLog;
    /** The mock API server of the API-mode runs, holding the Services of {@link #apiServices} service count; null until one runs. */
    private BenchApi api;
    private int apiServices;
    private final List<BenchServices.ServicePort> changed = new ArrayList<>();
    private int changeCounter;

    public LabBench(final Settings settings, final PrintStream out) {
        this.settings = settings;
        this.out = out;
        this.lab = new Lab(new LabState(settings.stateDir()), jvm, out, null, PREFIX);
        this.baselineScript = findBaselineScript();
    }

    /** Runs everything and writes lab.json, lab.md and charts into the output folder. */
    public LabResults run() throws IOException {
        Shell.requireRoot("ferry bench lab");
        Shell.requireTools("ip", "setsid", "bash");
        if (settings.dataplanes().contains(Dataplane.NFTABLES) && Shell.which("nft").isEmpty()) {
            throw new LabException("nft is missing: apt-get install nftables (or leave out --dataplane nftables)");
        }
        if (settings.dataplanes().contains(Dataplane.IPTABLES) && settings.path().external()) {
            throw new LabException("the iptables baseline has no NodePort or LoadBalancer rules: leave out --dataplane iptables for --path "
                + settings.path().label());
        }
        if (settings.dataplanes().contains(Dataplane.IPTABLES) && Shell.which("iptables-restore").isEmpty()) {
            throw new LabException("iptables-restore is missing: apt-get install iptables (or leave out --dataplane iptables)");
        }
        Files.createDirectories(settings.out());
        final LabResults results = new LabResults(Machine.current(), settings.describe(), List.of(), List.of());
        final AtomicBoolean down = new AtomicBoolean();
        final Thread hook = new Thread(() -> {
            if (down.compareAndSet(false, true)) {
                say("interrupted: taking the bench lab down");
                teardown();
            }
        }, "bench-lab-teardown");
        Runtime.getRuntime().addShutdownHook(hook);
        try {
            lab.up(new LabState.Settings(LabTopology.MIN_NODES, "tun", false));
            topology = lab.topology();
            node = topology.node(1);
            clientNetns = topology.requirePod(CLIENT_POD).netns();
            serverIps = SERVER_PODS.stream().map(p -> topology.requirePod(p).ip()).toList();
            loadNetns = switch (settings.path()) {
                case CLUSTER_IP -> clientNetns;
                case NODE_PORT, LOAD_BALANCER -> topology.clientNetns();
                case HAIRPIN -> topology.requirePod(SERVER_PODS.get(0)).netns();
            };
            if (settings.path() == BenchPath.LOAD_BALANCER) {
                // the lab's router spreads the LB pool over every node; only node-1 runs a dataplane here
                Shell.ip("-n", topology.routerNetns(), "route", "replace", BenchPath.LOAD_BALANCER_IP + "/32", "via", node.ip());
            }
            // tens of thousands of connections per run: every client port once before any comes round again
            Shell.run("ip", "netns", "exec", loadNetns, "sysctl", "-q", "-w", "net.ipv4.ip_local_port_range=1024 65000");
            startServers();
            for (int round = 1; round <= settings.rounds(); round++) {
                if (settings.rounds() > 1) {
                    say("round " + round + " of " + settings.rounds());
                }
                // Every other round in reverse (A B C, C B A, ...): a machine that drifts during
                // the run (another job, the CPU's clock, caches warming) then favours no dataplane
                // by its place in the order; the first one run was seen fastest by 30 % here.
                final List<Dataplane> order = new ArrayList<>(settings.dataplanes());
                if (round % 2 == 0) {
                    Collections.reverse(order);
                }
                boolean first = true;
                for (final int services : settings.serviceCounts()) {
                    final List<BenchServices.ServicePort> ports = BenchServices.all(services, serverIps, settings.path());
                    for (final Dataplane dataplane : order) {
                        if (dataplane.direct() && !first) {
                            continue; // no services involved: once per round is enough
                        }
                        runDataplane(results, dataplane, services, ports, round);
                        writeJson(results);
                    }
                    first = false;
                }
            }
        } finally {
            if (down.compareAndSet(false, true)) {
                teardown();
            }
            try {
                Runtime.getRuntime().removeShutdownHook(hook);
            } catch (final IllegalStateException shuttingDown) {
                // the hook runs already
            }
        }
        writeJson(results);
        return results;
    }

    private void runDataplane(final LabResults results, final Dataplane dataplane, final int services,
                              final List<BenchServices.ServicePort> ports, final int round) throws IOException {
        say("== " + dataplane.label() + ", " + services + " service(s)");
        changed.clear();
        try {
            setUp(results, dataplane, services, ports);
            if (agent != null) {
                // a quiet interval first: the agent's idle cost, and its start-up (JIT) out of the first load's way
                pause(IDLE_SETTLE_MS);
                final CpuSample idleFrom = agentCpu();
                pause(IDLE_SAMPLE_MS);
                final double idle = agentCpu().coresSince(idleFrom);
                results.agentCpu().add(new LabResults.AgentCpu(dataplane.label(), services, round, "idle", idle));
                say(String.format("   agent idle: %.1f%% of a core over %.0f s (from %.0f s after its first sync)", idle * 100,
                    IDLE_SAMPLE_MS / 1000.0, IDLE_SETTLE_MS / 1000.0));
            }
            // an API-mode agent's packets take the manifest-mode agent's path: its programming is what differs
            for (final LoadMode mode : dataplane.api() ? List.<LoadMode>of() : settings.modes()) {
                final LabResults.Snat before = snatCounters(dataplane);
                final CpuSample cpuFrom = agent == null ? null : agentCpu();
                LabResults.Load load = load(dataplane, services, mode);
                if (cpuFrom != null) {
                    results.agentCpu().add(new LabResults.AgentCpu(dataplane.label(), services, round, mode.name(),
                        agentCpu().coresSince(cpuFrom)));
                }
                final LabResults.Snat after = snatCounters(dataplane);
                if (before != null && after != null) {
                    load = load.withSnat(new LabResults.Snat(after.portsExhausted() - before.portsExhausted(),
                        after.tuplesReused() - before.tuplesReused()));
                }
                load = load.inRound(round);
                results.loads().add(load);
                say("   " + mode + ": " + (load.result() == null ? "failed: " + load.error() : describe(load.result()))
                    + (load.snat() == null ? "" : String.format("; SNAT: %d SYNs dropped for want of a port, %d tuples taken over",
                    load.snat().portsExhausted(), load.snat().tuplesReused())));
            }
            if (!dataplane.direct()) {
                for (int i = 0; i < settings.changes(); i++) {
                    final LabResults.Sync change = change(dataplane, services, ports);
                    results.syncs().add(change);
                    say(String.format("   one-service change: command %.1f ms, serving after %.1f ms%s", change.commandMs(), change.servingMs(),
                        writeNote(dataplane, change)));
                }
                if (!dataplane.kernel() && !changed.isEmpty()) {
                    for (int i = 0; i < settings.changes(); i++) {
                        final LabResults.Sync unready = endpointChange(dataplane, services, false);
                        final LabResults.Sync ready = endpointChange(dataplane, services, true);
                        results.syncs().add(unready);
                        results.syncs().add(ready);
                        say(String.format("   endpoint change: unready, refused after %.1f ms%s; ready again, served after %.1f ms%s",
                            unready.servingMs(), writeNote(dataplane, unready), ready.servingMs(), writeNote(dataplane, ready)));
                    }
                }
                if (!dataplane.kernel()) {
                    // last, after the idle sample, loads and changes: an agent that has run a while (its caches written)
                    final double restartMs = restartAgent();
                    results.syncs().add(new LabResults.Sync(dataplane.label(), services, "restart", Double.NaN, restartMs));
                    say(String.format("   agent restart (SIGTERM, a new agent on the same state) → serving new connections again: %.0f ms",
                        restartMs));
                }
            }
        } catch (final RuntimeException e) {
            say("   " + dataplane.label() + " failed: " + e.getMessage());
            results.loads().add(new LabResults.Load(dataplane.label(), services, null, null, String.valueOf(e.getMessage())).inRound(round));
        } finally {
            tearDown(dataplane);
        }
    }

    /** For an API-mode change: how much of the time was the API server's answer. */
    private static String writeNote(final Dataplane dataplane, final LabResults.Sync change) {
        return dataplane.api() ? String.format(" (API write %.1f ms, then %.1f ms)", change.writeMs(), change.servingAfterWriteMs()) : "";
    }

    // ---- dataplanes ----

    private void setUp(final LabResults results, final Dataplane dataplane, final int services,
                       final List<BenchServices.ServicePort> ports) throws IOException {
        switch (dataplane) {
            case DIRECT -> {
            }
            case NFTABLES, IPTABLES -> {
                final String mode = dataplane == Dataplane.NFTABLES ? "nftables" : "iptables";
                final Path rules = settings.stateDir().resolve("rules-" + mode + "-" + services + (mode.equals("nftables") ? ".nft" : ".rules"));
                Files.writeString(rules, mode.equals("nftables") ? KernelRules.nftables(ports, node.ip()) : KernelRules.iptables(ports));
                final long start = System.nanoTime();
                final double commandMs = baseline("load", mode, rules);
                final double servingMs = waitStartServing(BenchServices.BENCH_IP, LoadPorts.TCP_CRR, start);
                results.syncs().add(new LabResults.Sync(dataplane.label(), services, "full", commandMs, servingMs));
                say(String.format("   %s of %d services: %.0f ms, serving after %.0f ms", mode.equals("nftables") ? "nft -f" : "iptables-restore",
                    services, commandMs, servingMs));
            }
            case POD_TO_POD_FERRY_TUN, POD_TO_POD_FERRY_PACKET -> {
                // the same services, their endpoints answering on other ports than the load's
                startAgent(dataplane, BenchServices.withTargetPortOffset(ports, POD_TO_POD_PORT_OFFSET));
                awaitAgentSynced();
                say("   agent running; the load goes pod to pod on ports no Service uses");
            }
            case FERRY_TUN, FERRY_PACKET, FERRY_TUN_API, FERRY_PACKET_API -> {
                if (dataplane.api()) {
                    ensureApi(services, ports);
                }
                final long start = System.nanoTime();
                startAgent(dataplane, ports);
                final double servingMs = waitStartServing(BenchServices.BENCH_IP, LoadPorts.TCP_CRR, start);
                awaitAgentSynced(); // the admin server starts after the first sync: serving comes first
                final double syncMs = agentSyncSeconds().map(s -> s * 1000).orElse(Double.NaN);
                agentLastSyncMs(); // the changes' sync times count from here
                results.syncs().add(new LabResults.Sync(dataplane.label(), services, "full", syncMs, servingMs));
                say(String.format("   agent start → serving %d services: %.0f ms (its first sync: %.0f ms)", services, servingMs, syncMs));
            }
        }
    }

    private void tearDown(final Dataplane dataplane) {
        if (dataplane.api() && api != null && !changed.isEmpty()) {
            try {
                api.delete(changed); // the next API-mode agent starts from the same services
            } catch (final RuntimeException e) {
                say("   deleting the changes from the mock API server failed: " + e.getMessage());
                closeApi();
            }
        }
        if (dataplane.kernel()) {
            try {
                baseline("flush", null, null);
            } catch (final RuntimeException e) {
                say("   flushing the rules failed: " + e.getMessage());
            }
        }
        stopAgent();
    }

    private LabResults.Sync change(final Dataplane dataplane, final int services, final List<BenchServices.ServicePort> ports)
            throws IOException {
        final BenchServices.ServicePort added = BenchServices.change(++changeCounter, serverIps.get(0));
        pause(1_200); // a change on a quiet system: past any batching window (kube-proxy's minimum sync interval is 1 s)
        final double commandMs;
        final long start;
        switch (dataplane) {
            case NFTABLES -> {
                final Path delta = settings.stateDir().resolve("change-" + changeCounter + ".nft");
                Files.writeString(delta, KernelRules.nftablesAdd(added));
                start = System.nanoTime();
                commandMs = baseline("change", "nftables", delta);
            }
            case IPTABLES -> {
                final List<BenchServices.ServicePort> existing = new ArrayList<>(ports);
                existing.addAll(changed);
                final Path delta = settings.stateDir().resolve("change-" + changeCounter + ".rules");
                Files.writeString(delta, KernelRules.iptablesAdd(existing, added));
                start = System.nanoTime();
                commandMs = baseline("change", "iptables", delta);
            }
            case FERRY_TUN, FERRY_PACKET, FERRY_TUN_API, FERRY_PACKET_API -> {
                final double before = Lab.lastSync(node);
                final List<io.fabric8.kubernetes.api.model.HasMetadata> objects = dataplane.api() ? api.objects(added, true) : null;
                start = System.nanoTime();
                if (dataplane.api()) {
                    api.create(objects);
                } else {
                    LabManifests.writeAtomically(agentManifests().resolve("90-change-" + changeCounter + ".yaml"),
                        BenchServices.manifests(List.of(added)));
                }
                final double writeMs = (System.nanoTime() - start) / 1e6;
                changed.add(added); // before the wait: a failed run still deletes it from the mock API server
                final double serving = waitServing(added.clusterIp(), added.port(), start);
                final double after = Lab.lastSync(node);
                return new LabResults.Sync(dataplane.label(), services, "change", after > before ? agentLastSyncMs() : Double.NaN, serving,
                    writeMs);
            }
            default -> throw new IllegalStateException("no change for " + dataplane);
        }
        final double serving = waitServing(added.clusterIp(), added.port(), start);
        changed.add(added);
        return new LabResults.Sync(dataplane.label(), services, "change", commandMs, serving);
    }

    /**
     * The last added change service's only endpoint going unready (until a connection to its
     * ClusterIP is refused: no endpoint left) or ready again (until one is answered), written
     * into its manifest file (or the mock API server) as an EndpointSlice update. Ferry's dataplanes only: the kernel
     * baselines have no incremental transaction for it here.
     */
    private LabResults.Sync endpointChange(final Dataplane dataplane, final int services, final boolean ready) throws IOException {
        final BenchServices.ServicePort port = changed.getLast();
        pause(1_200);
        final List<io.fabric8.kubernetes.api.model.HasMetadata> slices = dataplane.api() ? api.slices(port, ready) : null;
        final long start = System.nanoTime();
        if (dataplane.api()) {
            api.update(slices);
        } else {
            LabManifests.writeAtomically(agentManifests().resolve("90-" + port.service() + ".yaml"),
                BenchServices.manifests(List.of(port), ready));
        }
        final double writeMs = (System.nanoTime() - start) / 1e6;
        final double ms = ready ? waitServing(port.clusterIp(), port.port(), start) : waitRefused(port.clusterIp(), port.port(), start);
        return new LabResults.Sync(dataplane.label(), services, ready ? "endpoint ready" : "endpoint unready", Double.NaN, ms, writeMs);
    }

    private double baseline(final String action, final String mode, final Path file) {
        final List<String> command = new ArrayList<>(List.of("bash", baselineScript.toString(), action, "--netns", node.netns()));
        if (mode != null) {
            command.addAll(List.of("--mode", mode, "--file", file.toString()));
        }
        final Shell.Result result = Shell.exec(command, 600_000);
        if (!result.ok()) {
            throw new LabException(String.join(" ", command) + " exited " + result.exitCode() + ": " + result.output().strip());
        }
        final Matcher m = ELAPSED.matcher(result.output());
        return m.find() ? Double.parseDouble(m.group(1)) : Double.NaN;
    }

    private Path agentDir() {
        return settings.stateDir().resolve("agent");
    }

    private Path agentManifests() {
        return agentDir().resolve("manifests");
    }

    /** Starts the agent for {@code dataplane}: from manifests of {@code ports}, or from the mock API server that holds them. */
    private void startAgent(final Dataplane dataplane, final List<BenchServices.ServicePort> ports) throws IOException {
        final String portType = dataplane.portType();
        final Path dir = agentDir();
        deleteRecursively(dir);
        Files.createDirectories(agentManifests());
        Files.createDirectories(dir.resolve("run"));
        Files.createDirectories(dir.resolve("state"));
        Files.writeString(dir.resolve("node.yaml"), LabManifests.nodeConfig(node, portType));
        final List<String> source;
        if (dataplane.api()) {
            source = List.of("--kubeconfig", api.writeKubeconfig(dir).toString());
        } else {
            Files.writeString(agentManifests().resolve("00-bench.yaml"), BenchServices.manifests(ports));
            source = List.of("--manifests", agentManifests().toString());
        }
        final List<String> args = new ArrayList<>(List.of("agent", "--node-config", dir.resolve("node.yaml").toString()));
        args.addAll(source);
        args.addAll(List.of("--port-type", portType, "--workers", Integer.toString(settings.agentWorkers()),
            "--run-dir", dir.resolve("run").toString(), "--state-dir", dir.resolve("state").toString()));
        lastSyncSum = 0; // a new agent's counters start from zero
        lastSyncCount = 0;
        agentCommand = jvm.command(false, LabJava.FERRY_MAIN, args);
        agentLog = settings.stateDir().resolve("logs").resolve("agent-" + portType + ".log");
        agent = start(node.netns(), agentCommand, agentLog);
    }

    /**
     * Stops the agent with SIGTERM and starts it again with the same command and files (its
     * state directory kept, as systemd's restart keeps it); returns the ms from the signal until
     * a new connection to the bench service is answered again: the outage a restart costs new
     * connections (ferry0 and its routes stay; packets wait in its queue meanwhile).
     */
    private double restartAgent() {
        final long start = System.nanoTime();
        agent.destroy();
        try {
            if (!agent.waitFor(30, TimeUnit.SECONDS)) {
                throw new LabException("the agent did not stop within 30 s of SIGTERM");
            }
        } catch (final InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new LabException("interrupted", e);
        }
        agent = start(node.netns(), agentCommand, agentLog);
        lastSyncSum = 0; // the new agent's counters start from zero
        lastSyncCount = 0;
        final double servingMs = waitStartServing(BenchServices.BENCH_IP, LoadPorts.TCP_CRR, start);
        awaitAgentSynced();
        agentLastSyncMs();
        return servingMs;
    }

    /**
     * A mock API server holding {@code ports} ({@code services} service counted): the one already
     * running when it holds that count, else a new one, filled before it is returned.
     */
    private void ensureApi(final int services, final List<BenchServices.ServicePort> ports) {
        if (api != null && apiServices == services) {
            return;
        }
        closeApi();
        final long start = System.nanoTime();
        api = BenchApi.start(node.netns());
        apiServices = services;
        api.createAll(ports);
        say(String.format("   mock API server in %s holds %d services (%d service ports) after %.1f s", node.netns(), services,
            ports.size(), (System.nanoTime() - start) / 1e9));
    }

    private void closeApi() {
        if (api != null) {
            api.close();
            api = null;
        }
    }

    private void stopAgent() {
        if (agent == null) {
            return;
        }
        agent.destroy();
        try {
            if (!agent.waitFor(20, TimeUnit.SECONDS)) {
                agent.destroyForcibly().waitFor(10, TimeUnit.SECONDS);
            }
        } catch (final InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        agent = null;
        // a stopped agent leaves its routing for the next one to adopt: the next run (a kernel
        // baseline, or the other port type) starts from a clean node
        final List<String> cleanup = new ArrayList<>(List.of("ip", "netns", "exec", node.netns()));
        cleanup.addAll(jvm.command(false, LabJava.FERRY_MAIN, List.of("agent", "--cleanup", "--run-dir", agentDir().resolve("run").toString())));
        final Shell.Result result = Shell.exec(cleanup, 60_000);
        if (!result.ok()) {
            say("   ferry agent --cleanup in " + node.netns() + " failed (the next run may see its routing): " + result.output().strip());
        }
    }

    /** A process's CPU seconds (user + system, all its threads) at a wall-clock instant. */
    private record CpuSample(double cpuSeconds, long wallNs) {
        /** CPU seconds per wall second since {@code from}: the cores it kept busy, on average. */
        double coresSince(final CpuSample from) {
            final double wallS = (wallNs - from.wallNs) / 1e9;
            return wallS <= 0 || Double.isNaN(cpuSeconds) || Double.isNaN(from.cpuSeconds) ? Double.NaN : (cpuSeconds - from.cpuSeconds) / wallS;
        }
    }

    /**
     * The agent's CPU time now, from /proc/PID/stat (utime + stime, fields 14 and 15). The
     * process started is the agent's JVM itself: setsid and ip netns exec exec it in place.
     */
    private CpuSample agentCpu() {
        final long now = System.nanoTime();
        if (agent == null) {
            return new CpuSample(Double.NaN, now);
        }
        try {
            final String stat = Files.readString(Path.of("/proc", Long.toString(agent.pid()), "stat"));
            // the command name (field 2) is in parentheses and may hold spaces: count from after it
            final String[] fields = stat.substring(stat.lastIndexOf(')') + 2).split(" ");
            final long ticks = Long.parseLong(fields[11]) + Long.parseLong(fields[12]);
            return new CpuSample(ticks / CLOCK_TICKS_PER_S, now);
        } catch (final IOException | RuntimeException e) {
            return new CpuSample(Double.NaN, now); // the agent exited: the load's own error says so
        }
    }

    /** The agent's sync duration histogram's sum over count (its only sync, right after start). */
    private Optional<Double> agentSyncSeconds() {
        final String metrics = metrics();
        final Double sum = metric(metrics, "kubeproxy_sync_proxy_rules_duration_seconds_sum");
        final Double count = metric(metrics, "kubeproxy_sync_proxy_rules_duration_seconds_count");
        return sum == null || count == null || count == 0 ? Optional.empty() : Optional.of(sum / count);
    }

    private double lastSyncSum = 0;
    private double lastSyncCount = 0;

    /** The duration of the agent's syncs since the previous call (their mean), in ms. */
    private double agentLastSyncMs() {
        final String metrics = metrics();
        final Double sum = metric(metrics, "kubeproxy_sync_proxy_rules_duration_seconds_sum");
        final Double count = metric(metrics, "kubeproxy_sync_proxy_rules_duration_seconds_count");
        if (sum == null || count == null || count <= lastSyncCount) {
            return Double.NaN;
        }
        final double ms = (sum - lastSyncSum) / (count - lastSyncCount) * 1000;
        lastSyncSum = sum;
        lastSyncCount = count;
        return ms;
    }

    private String metrics() {
        final LabClient.Outcome outcome = LabClient.http(node.netns(),
            new LabClient.Request(null, "127.0.0.1", Lab.AGENT_METRICS_PORT, "/metrics", 5000));
        return outcome.answered() ? outcome.body() : "";
    }

    /** The agent's SNAT counters now, on a masqueraded path with an agent running; else null. */
    private LabResults.Snat snatCounters(final Dataplane dataplane) {
        if (!settings.path().masqueraded() || dataplane.portType() == null || dataplane.direct()) {
            return null;
        }
        final String page = metrics();
        final Double exhausted = metric(page, "ferry_packets_dropped_total{reason=\"snat_ports_exhausted\"}");
        final Double reused = metric(page, "ferry_snat_tuples_reused_total");
        return new LabResults.Snat(exhausted == null ? 0 : exhausted.longValue(), reused == null ? 0 : reused.longValue());
    }

    /** The value of the first sample named {@code name} (a bare name, or a name with its exact labels). */
    private static Double metric(final String page, final String name) {
        for (final String line : page.lines().toList()) {
            if (line.startsWith(name + " ") || (!name.contains("{") && line.startsWith(name + "{"))) {
                return Double.parseDouble(line.substring(line.lastIndexOf(' ') + 1));
            }
        }
        return null;
    }

    /**
     * Connects to {@code ip:port} from the client pod again and again (each attempt waits
     * {@value #PROBE_TIMEOUT_MS} ms) until one succeeds; returns the ms since {@code startNs}.
     */
    private double waitServing(final String ip, final int port, final long startNs) {
        return waitProbe(ip, port, startNs, true, 1);
    }

    /**
     * As {@link #waitServing}, for a whole start (rules loaded, an agent started), which takes
     * seconds: probing every {@value #START_PROBE_PAUSE_MS} ms, so that the probes do not take a
     * share of the two cores from the start they time.
     */
    private double waitStartServing(final String ip, final int port, final long startNs) {
        return waitProbe(ip, port, startNs, true, START_PROBE_PAUSE_MS);
    }

    /** Until a connection from the client pod to {@code ip:port} is refused, as to a service without endpoints. */
    private double waitRefused(final String ip, final int port, final long startNs) {
        return waitProbe(ip, port, startNs, false, 1);
    }

    /**
     * Milliseconds from {@code startNs} until a connection from the client pod to {@code ip:port}
     * is answered ({@code answered}) or refused (not): a probe waits {@link #PROBE_TIMEOUT_MS} for
     * an answer, and {@code pauseMs} passes before the next after one that failed at once.
     */
    private double waitProbe(final String ip, final int port, final long startNs, final boolean answered, final long pauseMs) {
        return NetworkNamespace.call(clientNetns, () -> {
            final long deadline = startNs + TimeUnit.MILLISECONDS.toNanos(SERVING_TIMEOUT_MS);
            while (System.nanoTime() < deadline) {
                try (Socket socket = new Socket()) {
                    socket.connect(new InetSocketAddress(ip, port), PROBE_TIMEOUT_MS);
                    if (answered) {
                        return (System.nanoTime() - startNs) / 1e6;
                    }
                    Thread.sleep(pauseMs); // still answered: the change is not served yet
                } catch (final IOException e) {
                    if (!answered && e instanceof java.net.ConnectException) {
                        return (System.nanoTime() - startNs) / 1e6;
                    }
                    if (agent != null && !agent.isAlive()) {
                        throw new LabException("the agent exited; its log ends:\n"
                            + LabState.tail(settings.stateDir().resolve("logs").resolve("agent-" + agentPortType() + ".log"), 15));
                    }
                    // refused or unreachable at once: do not spin; a whole start's probes pause after a
                    // timeout too (a change's go again at once: the timeout was their pause)
                    if (answered && (pauseMs > 1 || !(e instanceof java.net.SocketTimeoutException))) {
                        Thread.sleep(pauseMs);
                    }
                }
            }
            throw new LabException(ip + ":" + port + (answered ? " not served" : " still answered") + " within "
                + SERVING_TIMEOUT_MS / 1000 + " s");
        });
    }

    /** Waits (bounded) until the agent reports its first sync. */
    private void awaitAgentSynced() {
        final long deadline = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(SERVING_TIMEOUT_MS);
        while (System.nanoTime() < deadline) {
            final Double count = metric(metrics(), "kubeproxy_sync_proxy_rules_duration_seconds_count");
            if (count != null && count >= 1) {
                return;
            }
            if (agent != null && !agent.isAlive()) {
                throw new LabException("the agent exited; its log ends:\n"
                    + LabState.tail(settings.stateDir().resolve("logs").resolve("agent-" + agentPortType() + ".log"), 15));
            }
            pause(20);
        }
        throw new LabException("the agent did not sync within " + SERVING_TIMEOUT_MS / 1000 + " s");
    }

    private String agentPortType() {
        return agent == null ? "?" : agent.info().arguments().map(a -> {
            for (int i = 0; i + 1 < a.length; i++) {
                if (a[i].equals("--port-type")) {
                    return a[i + 1];
                }
            }
            return "?";
        }).orElse("?");
    }

    // ---- load ----

    private void startServers() {
        for (final String pod : SERVER_PODS) {
            servers.add(start(topology.requirePod(pod).netns(), jvm.command(false, BENCH_MAIN, List.of("load-server", "--lifetime-s", "7200")),
                settings.stateDir().resolve("logs").resolve("load-server-" + pod + ".log")));
        }
        final long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
        for (final String ip : serverIps) {
            while (true) {
                try {
                    NetworkNamespace.call(clientNetns, () -> ServerStats.query(ip));
                    break;
                } catch (final RuntimeException e) {
                    if (System.nanoTime() > deadline) {
                        throw new LabException("the load server at " + ip + " did not answer on port " + LoadPorts.STATS + ": " + e.getMessage());
                    }
                    pause(200);
                }
            }
        }
        say("load servers up in " + String.join(", ", SERVER_PODS) + " (" + String.join(", ", serverIps) + ")");
    }

    private LabResults.Load load(final Dataplane dataplane, final int services, final LoadMode mode) {
        final int port = LoadPorts.port(mode);
        final List<String> args = new ArrayList<>(List.of("load-client", "--mode", mode.name().toLowerCase(),
            "--warmup-ms", Long.toString(settings.warmupMs()), "--duration-ms", Long.toString(settings.durationMs()),
            "--concurrency", Integer.toString(switch (mode) {
                case UDP -> settings.udpFlows();
                case CRR -> settings.crrConcurrency();
                case RR -> settings.rrConcurrency();
                case BULK -> settings.bulkStreams();
            })));
        if (mode == LoadMode.CRR && settings.crrGracefulClose()) {
            args.add("--graceful-close");
        }
        final List<String> backends = settings.path().masqueraded() ? serverIps.subList(0, 1) : serverIps;
        if (dataplane.direct()) {
            backends.forEach(ip -> args.addAll(List.of("--target", ip + ":" + port)));
        } else {
            args.addAll(List.of("--target", switch (settings.path()) {
                case CLUSTER_IP, HAIRPIN -> BenchServices.BENCH_IP + ":" + port;
                case NODE_PORT -> node.ip() + ":" + BenchPath.nodePort(port);
                case LOAD_BALANCER -> BenchPath.LOAD_BALANCER_IP + ":" + port;
            }));
        }
        backends.forEach(ip -> args.addAll(List.of("--stats", ip)));
        final List<String> command = new ArrayList<>(List.of("ip", "netns", "exec", loadNetns));
        command.addAll(jvm.command(false, BENCH_MAIN, args));
        try {
            final Process process = new ProcessBuilder(command).redirectInput(ProcessBuilder.Redirect.from(new File("/dev/null")))
                .redirectError(ProcessBuilder.Redirect.appendTo(settings.stateDir().resolve("logs").resolve("load-client.log").toFile()))
                .start();
            final long limitMs = settings.warmupMs() + settings.durationMs() + 30_000;
            final byte[] stdout = process.getInputStream().readAllBytes();
            if (!process.waitFor(limitMs, TimeUnit.MILLISECONDS)) {
                process.destroyForcibly();
                return new LabResults.Load(dataplane.label(), services, mode, null, "the client did not finish within " + limitMs + " ms");
            }
            final String text = new String(stdout, StandardCharsets.UTF_8).strip();
            final String last = text.lines().reduce((a, b) -> b).orElse("");
            if (process.exitValue() != 0 || !last.startsWith("{")) {
                return new LabResults.Load(dataplane.label(), services, mode, null, "client exited " + process.exitValue() + ": " + text
                    + " " + LabState.tail(settings.stateDir().resolve("logs").resolve("load-client.log"), 5));
            }
            return new LabResults.Load(dataplane.label(), services, mode, JSON.readValue(last, LoadResult.class), null);
        } catch (final IOException e) {
            return new LabResults.Load(dataplane.label(), services, mode, null, e.getMessage());
        } catch (final InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new LabException("interrupted", e);
        }
    }

    static String describe(final LoadResult r) {
        return switch (r.mode()) {
            case UDP -> String.format("%,.0f datagrams/s delivered (%.1f%% lost), %d errors", r.ratePerS(), r.lossRatio() * 100, r.errors());
            case CRR -> String.format("%,.0f connections/s (slowest second %,.0f), p50 %.0f µs, p99 %.0f µs, %d errors", r.ratePerS(),
                r.slowestSecondPerS(), r.latency() == null ? Double.NaN : r.latency().p50Us(),
                r.latency() == null ? Double.NaN : r.latency().p99Us(), r.errors());
            case RR -> String.format("%,.0f requests/s, p50 %.0f µs, p99 %.0f µs, %d errors", r.ratePerS(),
                r.latency() == null ? Double.NaN : r.latency().p50Us(), r.latency() == null ? Double.NaN : r.latency().p99Us(), r.errors());
            case BULK -> String.format("%.2f Gbit/s", r.bitsPerS() / 1e9);
        };
    }

    // ---- processes, files ----

    private static Process start(final String netns, final List<String> command, final Path log) {
        final List<String> full = new ArrayList<>(List.of("setsid", "ip", "netns", "exec", netns));
        full.addAll(command);
        try {
            Files.createDirectories(log.getParent());
            return new ProcessBuilder(full).redirectErrorStream(true).redirectOutput(ProcessBuilder.Redirect.appendTo(log.toFile()))
                .redirectInput(ProcessBuilder.Redirect.from(new File("/dev/null"))).start();
        } catch (final IOException e) {
            throw new LabException("cannot start '" + String.join(" ", full) + "': " + e.getMessage(), e);
        }
    }

    private void teardown() {
        stopAgent();
        closeApi();
        for (final Process server : servers) {
            server.destroy();
        }
        try {
            lab.down(true);
        } catch (final RuntimeException e) {
            say("taking the lab down failed: " + e.getMessage() + " (run: ferry lab down --prefix " + PREFIX + ")");
        }
    }

    static final ObjectMapper JSON = new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT);

    private void writeJson(final LabResults results) throws IOException {
        JSON.writeValue(settings.out().resolve("lab.json").toFile(), results);
    }

    private void say(final String line) {
        out.println("bench lab: " + line);
        out.flush();
    }

    private static void pause(final long ms) {
        try {
            Thread.sleep(ms);
        } catch (final InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new LabException("interrupted", e);
        }
    }

    private static void deleteRecursively(final Path dir) throws IOException {
        if (!Files.exists(dir)) {
            return;
        }
        try (var walk = Files.walk(dir)) {
            for (final Path p : walk.sorted(Comparator.reverseOrder()).toList()) {
                Files.deleteIfExists(p);
            }
        }
    }

    /** perf/baselines/baseline.sh: FERRY_BENCH_BASELINES, else found above the jar or the working directory. */
    static Path findBaselineScript() {
        final String env = System.getenv("FERRY_BENCH_BASELINES");
        if (env != null && !env.isBlank()) {
            return Path.of(env).resolve("baseline.sh");
        }
        for (final Path start : List.of(LabJava.codeSource(), Path.of("").toAbsolutePath())) {
            for (Path dir = start.toAbsolutePath(); dir != null; dir = dir.getParent()) {
                final Path candidate = dir.resolve("perf").resolve("baselines").resolve("baseline.sh");
                if (Files.isRegularFile(candidate)) {
                    return candidate;
                }
            }
        }
        throw new LabException("cannot find perf/baselines/baseline.sh above " + LabJava.codeSource()
            + " or the working directory: run from a Ferry checkout or set FERRY_BENCH_BASELINES");
    }
}
