package dev.ferry.control.cli;

import dev.ferry.control.agent.Agent;
import dev.ferry.control.host.HostNetwork;
import dev.ferry.control.agent.AgentOptions;
import dev.ferry.control.source.DesiredStateSource;
import dev.ferry.control.source.ManifestStateSource;
import dev.ferry.control.config.NodeConfig;
import dev.ferry.control.config.NodeConfigException;
import dev.ferry.control.config.NodeConfigOptions;
import dev.ferry.control.dns.DnsServer;
import dev.ferry.control.source.kube.KubeApi;
import dev.ferry.control.source.kube.KubeStateSource;
import dev.ferry.control.source.kube.NodeDefaults;
import dev.ferry.control.health.ServiceHealthServer;
import io.fabric8.kubernetes.client.KubernetesClient;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.Callable;
import java.util.concurrent.atomic.AtomicReference;

/**
 * {@code ferry agent}: the process that runs on every worker node. Validates its
 * configuration before touching anything, then runs until SIGTERM, leaving what it installed
 * in the kernel for the next start to adopt; {@code ferry agent --cleanup} removes it. Its Services come from one source: manifests ({@code --manifests}), or the
 * Kubernetes API ({@code --kubeconfig}, or the pod's service account when neither is given).
 */
@Command(name = "agent", mixinStandardHelpOptions = true,
    description = {"Run the node agent: attach ferry0, serve Services from manifests or the Kubernetes API, until SIGTERM.",
        "One source: --manifests PATH, or --kubeconfig FILE, or neither in a pod with a service account (in-cluster).",
        "Needs root or CAP_NET_ADMIN (and /dev/net/tun for portType tun).",
        "SIGTERM leaves ferry0, its rules and routes in place (nothing is delivered untranslated while no agent runs);",
        "the next start adopts them. --cleanup removes them and restores the sysctls."})
final class AgentCommand implements Callable<Integer> {
    @Spec
    CommandLine.Model.CommandSpec spec;

    @CommandLine.Mixin
    NodeConfigOptions node = new NodeConfigOptions();

    @Option(names = "--manifests", paramLabel = "PATH",
        description = "Manifest file or directory (watched, reloaded on change); repeatable.")
    List<Path> manifests = List.of();

    @Option(names = "--kubeconfig", paramLabel = "FILE",
        description = {"Watch Services, EndpointSlices and this node's Node through the Kubernetes API, with this kubeconfig.",
            "Without it and without --manifests: the pod's service account (in-cluster config)."})
    Path kubeconfig;

    @Option(names = "--api-wait-ms", paramLabel = "MS",
        description = "How long to wait for the API server and this node's Node at start. Default: ${DEFAULT-VALUE}.")
    long apiWaitMs = KubeStateSource.DEFAULT_START_TIMEOUT_MS;

    @Option(names = "--cleanup",
        description = "Remove what agents installed in this network namespace (ferry0, rules, routes; sysctls restored from the run directory) and exit.")
    boolean cleanup;

    @Option(names = "--run-dir", paramLabel = "DIR", description = "Runtime files (counters, host state). Default: ${DEFAULT-VALUE}.")
    Path runDir = AgentOptions.DEFAULT_RUN_DIR;

    @Option(names = "--state-dir", paramLabel = "DIR", description = "Files kept across restarts (conntrack). Default: ${DEFAULT-VALUE}.")
    Path stateDir = AgentOptions.DEFAULT_STATE_DIR;

    @Option(names = "--workers", paramLabel = "N", description = "Queues of ferry0, one dataplane thread each (a TUN queue or an AF_PACKET fanout socket); "
        + "at most one per core the dataplane may use. Default: ${DEFAULT-VALUE}.")
    int workers = AgentOptions.DEFAULT_WORKERS;

    @Option(names = "--idle-spin-us", paramLabel = "US", description = "How long a queue thread that finds no packet spins before it "
        + "blocks in the kernel (0-1000): longer catches the next packet of a busy flow without a system call, but keeps a core "
        + "busy that the node's own work could use. Default: ${DEFAULT-VALUE}.")
    long idleSpinUs = dev.ferry.dataplane.pipeline.Pipeline.Context.DEFAULT_IDLE_SPIN_NS / 1000;

    @Option(names = "--conntrack-capacity", paramLabel = "N", description = "Conntrack entries. Default: ${DEFAULT-VALUE}.")
    int conntrackCapacity = AgentOptions.DEFAULT_CONNTRACK_CAPACITY;

    @Option(names = "--sync-min-interval-ms", paramLabel = "MS", description = "Minimum time between syncs. Default: ${DEFAULT-VALUE}.")
    long syncMinIntervalMs = AgentOptions.DEFAULT_SYNC_MIN_INTERVAL_MS;

    @Option(names = "--sync-max-interval-ms", paramLabel = "MS", description = "Periodic resync. Default: ${DEFAULT-VALUE}.")
    long syncMaxIntervalMs = AgentOptions.DEFAULT_SYNC_MAX_INTERVAL_MS;

    @Option(names = "--healthz-bind-address", paramLabel = "HOST:PORT", description = "/healthz and /livez. Default: ${DEFAULT-VALUE}.")
    String healthzBindAddress = AgentOptions.DEFAULT_HEALTHZ_BIND_ADDRESS;

    @Option(names = "--metrics-bind-address", paramLabel = "HOST:PORT",
        description = "/metrics, /services, /conntrack, /trace. Default: ${DEFAULT-VALUE}.")
    String metricsBindAddress = AgentOptions.DEFAULT_METRICS_BIND_ADDRESS;

    @Option(names = "--dns-address", paramLabel = "IP:PORT",
        description = {"Serve DNS for the cluster domain on this node address, UDP and TCP (e.g. 169.254.20.10:53); repeatable.",
            "Off unless given. Names come from the same Services and EndpointSlices the dataplane serves."})
    List<String> dnsAddresses = List.of();

    @Option(names = "--dns-upstream", paramLabel = "IP:PORT",
        description = "Where the DNS server forwards names outside the cluster domain; without it they are REFUSED.")
    String dnsUpstream;

    @Option(names = "--cluster-domain", paramLabel = "DOMAIN",
        description = "The cluster's DNS domain (the kubelet's clusterDomain). Default: ${DEFAULT-VALUE}.")
    String clusterDomain = DnsServer.DEFAULT_CLUSTER_DOMAIN;

    @Override
    public Integer call() throws Exception {
        if (cleanup) {
            try (HostNetwork host = new HostNetwork(runDir)) {
                final List<String> removed = host.cleanupLeftovers();
                removed.forEach(line -> spec.commandLine().getOut().println("ferry agent --cleanup: " + line));
                spec.commandLine().getOut().println("ferry agent --cleanup: " + (removed.isEmpty() ? "nothing to remove" : "done"));
                return CommandLine.ExitCode.OK;
            } catch (final RuntimeException e) {
                spec.commandLine().getErr().println("ferry agent --cleanup: " + e.getMessage());
                return CommandLine.ExitCode.SOFTWARE;
            }
        }
        if (!manifests.isEmpty() && kubeconfig != null) {
            spec.commandLine().getErr().println("ferry agent: give --manifests or --kubeconfig, not both: the agent serves one source");
            return CommandLine.ExitCode.USAGE;
        }
        final boolean fromApi = manifests.isEmpty();
        if (fromApi && kubeconfig == null && !KubeApi.inClusterAvailable()) {
            spec.commandLine().getErr().println("ferry agent: no source of Services: give --manifests PATH or --kubeconfig FILE, "
                + "or run in a pod with a service account (in-cluster config)");
            return CommandLine.ExitCode.USAGE;
        }
        KubernetesClient client = null;
        NodeDefaults fromNode = null;
        final NodeConfig config;
        try {
            if (fromApi) {
                client = kubeconfig != null ? KubeApi.fromKubeconfig(kubeconfig) : KubeApi.inCluster();
                fromNode = new NodeDefaults(client, apiWaitMs);
                config = node.resolve("the Kubernetes API (this node's Node object)", fromNode);
            } else {
                config = node.resolve();
            }
        } catch (final NodeConfigException e) {
            closeQuietly(client);
            spec.commandLine().getErr().println("ferry agent: refusing to start, the node config is invalid:");
            e.problems().forEach(p -> spec.commandLine().getErr().println("  " + p));
            return CommandLine.ExitCode.USAGE;
        } catch (final RuntimeException e) {
            closeQuietly(client);
            spec.commandLine().getErr().println("ferry agent: " + e.getMessage());
            return fromApi && client != null ? CommandLine.ExitCode.SOFTWARE : CommandLine.ExitCode.USAGE;
        }
        if (fromApi && config.serviceCidrs().isEmpty()) {
            closeQuietly(client);
            spec.commandLine().getErr().println("ferry agent: --service-cidr (serviceCIDRs) is needed with the Kubernetes API "
                + "source: the agent routes the service ranges into ferry0 from the start, and the cluster's ServiceCIDR objects "
                + "(Kubernetes 1.33 and later) only add to them (kubeadm's default is 10.96.0.0/12)");
            return CommandLine.ExitCode.USAGE;
        }
        final AgentOptions options;
        try {
            options = new AgentOptions(config, manifests, runDir, stateDir, workers, idleSpinUs * 1000, conntrackCapacity,
                syncMinIntervalMs, syncMaxIntervalMs, healthzBindAddress, metricsBindAddress,
                AgentOptions.DnsOptions.parse(dnsAddresses, dnsUpstream, clusterDomain));
        } catch (final IllegalArgumentException e) {
            closeQuietly(client);
            spec.commandLine().getErr().println("ferry agent: " + e.getMessage());
            return CommandLine.ExitCode.USAGE;
        }
        final Agent agent = new Agent(options);
        // SIGTERM and SIGINT stop the agent cleanly and exit 0 (a plain shutdown hook would
        // also run, but the JVM would then exit 143, which systemd reports as a failure).
        StopSignals.onStop(agent::close);
        Runtime.getRuntime().addShutdownHook(new Thread(agent::close, "ferry-shutdown"));
        final AtomicReference<String> restartBecause = new AtomicReference<>();
        final DesiredStateSource source = fromApi
            ? new KubeStateSource(new KubeStateSource.Context()
                .client(client)
                .nodeConfig(config)
                .fromNode(fromNode.fromNode())
                .startTimeoutMs(apiWaitMs)
                .names(options.dns().enabled()) // without a DNS server nothing reads them
                .nodeChanged(change -> {
                    // Like kube-proxy: the routing is built around the node's address and pod range, so exit
                    // (non-zero) and let systemd or the DaemonSet start an agent that reads the new ones.
                    restartBecause.set(change);
                    Thread.ofPlatform().name("ferry-stop").start(agent::close);
                }))
            : new ManifestStateSource(config, manifests, options.allocationsFile(), options.dns().enabled(), options.manifestCacheDir());
        try {
            agent.start(source, new ServiceHealthServer(config.toNodeSpec().nodePortIps()));
        } catch (final RuntimeException e) {
            source.close();
            spec.commandLine().getErr().println("ferry agent: failed to start: " + e.getMessage());
            return CommandLine.ExitCode.SOFTWARE;
        }
        agent.awaitStopped();
        if (restartBecause.get() != null) {
            spec.commandLine().getErr().println("ferry agent: stopped to restart: this node's " + restartBecause.get());
            return CommandLine.ExitCode.SOFTWARE;
        }
        return CommandLine.ExitCode.OK;
    }

    private static void closeQuietly(final KubernetesClient client) {
        if (client != null) {
            client.close();
        }
    }
}
