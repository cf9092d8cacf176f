package dev.ferry.control.agent;

import dev.ferry.control.admin.AgentPaths;
import dev.ferry.control.config.NodeConfig;
import dev.ferry.control.dns.DnsServer;

import java.nio.file.Path;
import java.util.List;

/**
 * Everything the agent needs, validated before anything is touched.
 *
 * @param config             the node config (file merged with flags)
 * @param manifests          manifest files or directories, watched; empty when the Kubernetes API is the source
 * @param runDir             runtime files: counters, host state (default /run/ferry)
 * @param stateDir           files that outlive the process: conntrack (default /var/lib/ferry)
 * @param workers            queues of ferry0, a dataplane thread each (TUN queues, AF_PACKET fanout sockets)
 * @param idleSpinNs         how long a queue thread that found nothing spins before it blocks in poll(2)
 * @param conntrackCapacity  conntrack entries
 * @param syncMinIntervalMs  the sync runner's minimum interval
 * @param syncMaxIntervalMs  the sync runner's maximum interval (periodic resync)
 * @param healthzBindAddress host:port of /healthz and /livez
 * @param metricsBindAddress host:port of /metrics, /services, /conntrack
 * @param dns                the DNS server's addresses, upstream and cluster domain; {@link DnsOptions#OFF} without --dns-address
 */
public record AgentOptions(
    NodeConfig config,
    List<Path> manifests,
    Path runDir,
    Path stateDir,
    int workers,
    long idleSpinNs,
    int conntrackCapacity,
    long syncMinIntervalMs,
    long syncMaxIntervalMs,
    String healthzBindAddress,
    String metricsBindAddress,
    DnsOptions dns) {

    public static final Path DEFAULT_RUN_DIR = Path.of("/run/ferry");
    public static final Path DEFAULT_STATE_DIR = Path.of("/var/lib/ferry");
    public static final int DEFAULT_WORKERS = 1;
    /** Beyond a millisecond a spin is a busy loop: the agent would no longer use no CPU when idle. */
    public static final long MAX_IDLE_SPIN_NS = 1_000_000;
    public static final int DEFAULT_CONNTRACK_CAPACITY = 262_144;
    /**
     * kube-proxy's --min-sync-period is 1 s, a bound on rewriting kernel rule sets; a Ferry sync
     * at 10,000 services costs about 3 ms, so the default only bounds the rate (at most 100 syncs
     * a second) and a change under steady churn waits milliseconds, not up to a second
     * (docs/ARCHITECTURE.md, deliberate differences). --sync-period is kube-proxy's 30 s.
     */
    public static final long DEFAULT_SYNC_MIN_INTERVAL_MS = 10;
    public static final long DEFAULT_SYNC_MAX_INTERVAL_MS = 30_000;
    public static final String DEFAULT_HEALTHZ_BIND_ADDRESS = "127.0.0.1:10256";
    public static final String DEFAULT_METRICS_BIND_ADDRESS = "127.0.0.1:10249";

    public AgentOptions {
        manifests = List.copyOf(manifests);
        java.util.Objects.requireNonNull(dns, "dns (DnsOptions.OFF when off)");
        if (workers < 1 || workers > 64) {
            throw new IllegalArgumentException("--workers must be 1..64, was " + workers);
        }
        if (idleSpinNs < 0 || idleSpinNs > MAX_IDLE_SPIN_NS) {
            throw new IllegalArgumentException("--idle-spin-us must be 0.." + MAX_IDLE_SPIN_NS / 1000 + ", was " + idleSpinNs / 1000);
        }
        if (conntrackCapacity < 16) {
            throw new IllegalArgumentException("--conntrack-capacity must be at least 16, was " + conntrackCapacity);
        }
        if (syncMinIntervalMs < 0 || syncMaxIntervalMs <= 0 || syncMinIntervalMs > syncMaxIntervalMs) {
            throw new IllegalArgumentException("sync intervals must satisfy 0 <= min (" + syncMinIntervalMs
                + " ms) <= max (" + syncMaxIntervalMs + " ms)");
        }
    }

    /**
     * The DNS server's flags, checked: off unless {@code addresses} is given.
     *
     * @param addresses     --dns-address, each IP:PORT; empty for no DNS server
     * @param upstream      --dns-upstream IP:PORT, null to refuse names outside the cluster domain
     * @param clusterDomain --cluster-domain, normalized (lower case, no trailing dot)
     */
    public record DnsOptions(List<java.net.InetSocketAddress> addresses, java.net.InetSocketAddress upstream, String clusterDomain) {
        public static final DnsOptions OFF = new DnsOptions(List.of(), null, DnsServer.DEFAULT_CLUSTER_DOMAIN);

        public DnsOptions {
            addresses = List.copyOf(addresses);
            clusterDomain = DnsServer.normalizeDomain(clusterDomain);
            if (addresses.isEmpty() && upstream != null) {
                throw new IllegalArgumentException("--dns-upstream needs --dns-address: it is where the DNS server forwards names"
                    + " outside the cluster domain, and without --dns-address there is no DNS server");
            }
        }

        /** From the flags' text; throws {@link IllegalArgumentException} naming the flag and value that do not parse. */
        public static DnsOptions parse(final List<String> addresses, final String upstream, final String clusterDomain) {
            final List<java.net.InetSocketAddress> parsed = new java.util.ArrayList<>();
            for (final String address : addresses) {
                parsed.add(DnsServer.parseAddress("--dns-address", address));
            }
            return new DnsOptions(parsed, upstream == null ? null : DnsServer.parseAddress("--dns-upstream", upstream), clusterDomain);
        }

        public boolean enabled() {
            return !addresses.isEmpty();
        }
    }

    public Path countersFile() {
        return runDir.resolve("counters");
    }

    /** The control socket: the only listener that serves changes (conntrack delete). */
    public Path controlSocket() {
        return runDir.resolve(AgentPaths.CONTROL_SOCKET_NAME);
    }

    /** Manifest mode's ClusterIP and NodePort allocations, kept across restarts. */
    public Path allocationsFile() {
        return stateDir.resolve("allocations");
    }

    /** Large manifest files' parsed documents, so that a restart with the same files does not parse them again. */
    public Path manifestCacheDir() {
        return stateDir.resolve("manifest-cache");
    }

    public Path conntrackFile() {
        return stateDir.resolve("conntrack");
    }

    /** The ClientIP affinity records, kept across restarts as the conntrack table is. */
    public Path affinityFile() {
        return stateDir.resolve("affinity");
    }
}
