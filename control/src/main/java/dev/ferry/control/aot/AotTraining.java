package dev.ferry.control.aot;

import dev.ferry.conntrack.ConntrackTable;
import dev.ferry.conntrack.ConntrackTimeouts;
import dev.ferry.control.config.NodeConfig;
import dev.ferry.control.config.NodeConfigException;
import dev.ferry.control.config.NodeConfigLoader;
import dev.ferry.control.source.DesiredState;
import dev.ferry.control.source.ManifestStateSource;
import dev.ferry.control.sync.ServiceSync;
import dev.ferry.dataplane.addr.Ipv4;
import dev.ferry.dataplane.counters.CounterType;
import dev.ferry.dataplane.counters.DataplaneCounters;
import dev.ferry.dataplane.nat.SnatRange;
import dev.ferry.dataplane.packet.PacketWriter;
import dev.ferry.dataplane.pipeline.Pipeline;
import dev.ferry.dataplane.pipeline.ServiceTableHolder;
import dev.ferry.dataplane.port.InMemoryPort;
import dev.ferry.dataplane.port.VirtioHeader;
import dev.ferry.dataplane.service.NodeSpec;
import dev.ferry.dataplane.service.ServiceTable;
import org.agrona.concurrent.UnsafeBuffer;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;

/**
 * The work an agent does when it starts and in its first changes, run without a host (no
 * namespace, no device, no root) so that a JVM started with {@code -XX:AOTCacheOutput=FILE}
 * records it in an ahead-of-time cache (JEP 483, 514, 515): the classes loaded and linked and
 * the methods' profiles. A later agent started with {@code -XX:AOTCache=FILE} then starts with
 * them at hand instead of loading, verifying and profiling them again, which at 10,000
 * services is where its first second goes (parsing the manifests cold).
 *
 * <p>The steps, in the order an agent meets them: load a node config file; parse a directory
 * of generated Services and EndpointSlices shaped like the lab benchmark's (80/TCP, ten
 * endpoints each) through the manifest source the agent uses; compile and sync each snapshot
 * into a dataplane table without a host; change the directory (new files, an endpoint going
 * unready and ready) and take each reload; translate TCP and UDP flows through an in-memory
 * pipeline. Everything lives in a temporary directory that is removed at the end.
 */
public final class AotTraining {
    /** How long one reload may take before the training gives up on it (a cold 10,000-service parse takes ~2 s). */
    private static final long RELOAD_TIMEOUT_S = 60;
    private static final String NODE_IP = "198.18.0.11";

    private final int services;
    private final int changes;

    /**
     * @param services generated services in the first load
     * @param changes  reloads after it (half new files, half an endpoint flapping)
     */
    public AotTraining(final int services, final int changes) {
        if (services < 1 || changes < 0) {
            throw new IllegalArgumentException("services must be at least 1 and changes at least 0");
        }
        this.services = services;
        this.changes = changes;
    }

    /** What a run did, for its caller to print and for tests. */
    public record Result(int servicePortsFirstLoad, int reloads, long packetsTranslated, long firstLoadMs, long totalMs) {
    }

    public Result run() throws IOException, InterruptedException, NodeConfigException {
        final long start = System.nanoTime();
        final Path dir = Files.createTempDirectory("ferry-aot-training");
        try {
            final Path manifests = Files.createDirectory(dir.resolve("manifests"));
            Files.writeString(dir.resolve("node.yaml"), """
                nodeName: node-1
                nodeIPs: [%s]
                clusterCIDRs: [10.244.0.0/16]
                podCIDR: 10.244.1.0/24
                serviceCIDRs: [10.96.0.0/12]
                """.formatted(NODE_IP));
            final NodeConfig config = NodeConfigLoader.load(dir.resolve("node.yaml"));
            final NodeSpec node = config.toNodeSpec();
            Files.writeString(manifests.resolve("00-fillers.yaml"), fillers(services, false));
            Files.writeString(manifests.resolve("01-flap.yaml"), service("flap", "10.96.99.1", List.of("10.244.2.7", "10.244.2.8"), true));

            final ServiceTableHolder tables = new ServiceTableHolder(ServiceTable.empty(node));
            final ConntrackTable conntrack = ConntrackTable.inMemory(4096, ConntrackTimeouts.kubeProxyDefaults());
            final ServiceSync sync = new ServiceSync(node, tables, conntrack, ServiceSync.HostState.NONE, (ns, at, ok) -> {
            });
            final LinkedBlockingQueue<DesiredState> snapshots = new LinkedBlockingQueue<>();
            int reloads = 0;
            final int firstLoad;
            final long firstLoadMs;
            try (ManifestStateSource source = new ManifestStateSource(config, List.of(manifests), dir.resolve("allocations.json"), false)) {
                source.start(snapshots::add);
                firstLoad = apply(sync, snapshots).ports().size();
                firstLoadMs = (System.nanoTime() - start) / 1_000_000;
                for (int n = 0; n < changes; n++) {
                    if (n % 2 == 0) {
                        Files.writeString(manifests.resolve("change-" + n + ".yaml"),
                            service("change-" + n, "10.96." + (101 + n / 200) + "." + (20 + n % 200), List.of("10.244.9.1"), true));
                    } else {
                        Files.writeString(manifests.resolve("01-flap.yaml"),
                            service("flap", "10.96.99.1", List.of("10.244.2.7", "10.244.2.8"), n % 4 != 1));
                    }
                    apply(sync, snapshots);
                    reloads++;
                }
            }
            final long translated = translate(node, tables, conntrack);
            return new Result(firstLoad, reloads, translated, firstLoadMs, (System.nanoTime() - start) / 1_000_000);
        } finally {
            deleteTree(dir);
        }
    }

    /** Takes the source's next snapshot into the table, as the agent's sync does. */
    private static DesiredState apply(final ServiceSync sync, final LinkedBlockingQueue<DesiredState> snapshots) throws InterruptedException {
        final DesiredState state = snapshots.poll(RELOAD_TIMEOUT_S, TimeUnit.SECONDS);
        if (state == null) {
            throw new IllegalStateException("the manifest source delivered no snapshot within " + RELOAD_TIMEOUT_S + " s");
        }
        sync.setDesired(state.ports(), state.names(), state.extraServiceCidrs(), System.currentTimeMillis());
        sync.sync();
        return state;
    }

    /** Connections to the flapping service's ClusterIP and their replies, through a pipeline stepped on this thread. */
    private static long translate(final NodeSpec node, final ServiceTableHolder tables, final ConntrackTable conntrack) {
        final InMemoryPort port = new InMemoryPort(true); // as TUN with offloads: a virtio_net_hdr before each packet
        final DataplaneCounters counters = DataplaneCounters.inMemory(1);
        try (Pipeline pipeline = new Pipeline(new Pipeline.Context()
            .ports(List.of(port))
            .conntrack(conntrack)
            .tables(tables)
            .snat(SnatRange.defaults(Ipv4.parse(NODE_IP)))
            .counters(counters))) {
            final UnsafeBuffer packet = new UnsafeBuffer(new byte[128]);
            final int client = Ipv4.parse("10.244.1.5");
            final int clusterIp = Ipv4.parse("10.96.99.1");
            for (int round = 0; round < 2_000; round++) {
                final int clientPort = 20_000 + round;
                for (final int flags : new int[] {0x02, 0x10, 0x18, 0x11}) { // SYN, ACK, PSH+ACK, FIN+ACK
                    final int length = PacketWriter.tcp(packet, 0, client, clientPort, clusterIp, 80, flags, 1, 1, 16);
                    port.inject(framed(packet, length));
                    pipeline.drain();
                }
                final int length = PacketWriter.udp(packet, 0, client, clientPort, clusterIp, 80, 16, (byte) 0, true);
                port.inject(framed(packet, length)); // no UDP port: answered with port unreachable
                pipeline.drain();
                port.drainSent();
            }
            return counters.queue(0).get(CounterType.TRANSLATED);
        }
    }

    private static byte[] framed(final UnsafeBuffer packet, final int length) {
        final byte[] frame = new byte[VirtioHeader.LENGTH + length];
        packet.getBytes(0, frame, VirtioHeader.LENGTH, length);
        return frame; // an all-zero header: a complete packet, no offload
    }

    /**
     * {@code count} services svc-1..svc-N, 80/TCP, ten ready endpoints each in 10.248.0.0/14, with
     * ClusterIPs in 10.97.0.0/16 or ({@code allocate}) none, for the allocator to choose.
     */
    public static String fillers(final int count, final boolean allocate) {
        final StringBuilder yaml = new StringBuilder(count * 900);
        for (int i = 1; i <= count; i++) {
            final List<String> endpoints = new ArrayList<>(10);
            for (int j = 0; j < 10; j++) {
                final int e = (i - 1) * 10 + j + 1;
                endpoints.add("10." + (248 + (e >>> 16)) + "." + ((e >>> 8) & 255) + "." + (e & 255));
            }
            yaml.append(service("svc-" + i, allocate ? null : "10.97." + (i >>> 8) + "." + (i & 255), endpoints, true));
        }
        return yaml.toString();
    }

    /**
     * One Service (80/TCP to 8080) with its EndpointSlice, as YAML documents; {@code clusterIp}
     * null leaves the address to the allocator; the first endpoint is ready or not.
     */
    public static String service(final String name, final String clusterIp, final List<String> endpoints, final boolean firstReady) {
        final StringBuilder y = new StringBuilder();
        y.append("---\napiVersion: v1\nkind: Service\nmetadata: {name: ").append(name).append(", namespace: bench}\nspec:\n");
        if (clusterIp != null) {
            y.append("  clusterIP: ").append(clusterIp).append('\n');
        }
        y.append("  ports:\n  - {name: http, protocol: TCP, port: 80, targetPort: 8080}\n");
        y.append("---\napiVersion: discovery.k8s.io/v1\nkind: EndpointSlice\nmetadata:\n  name: ").append(name)
            .append("-http\n  namespace: bench\n  labels: {kubernetes.io/service-name: ").append(name)
            .append("}\naddressType: IPv4\nports:\n- {name: http, protocol: TCP, port: 8080}\nendpoints:\n");
        for (int i = 0; i < endpoints.size(); i++) {
            y.append("- {addresses: [").append(endpoints.get(i)).append("], conditions: {ready: ")
                .append(i > 0 || firstReady).append("}}\n");
        }
        return y.toString();
    }

    private static void deleteTree(final Path dir) {
        try (Stream<Path> paths = Files.walk(dir)) {
            for (final Path p : paths.sorted(Comparator.reverseOrder()).toList()) {
                Files.deleteIfExists(p);
            }
        } catch (final IOException e) {
            throw new UncheckedIOException("cannot remove the training's directory " + dir, e);
        }
    }
}
