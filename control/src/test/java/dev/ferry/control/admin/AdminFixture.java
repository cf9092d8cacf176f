package dev.ferry.control.admin;

import dev.ferry.control.health.SyncTracker;

import dev.ferry.conntrack.ConntrackTable;
import dev.ferry.conntrack.ConntrackTimeouts;
import dev.ferry.conntrack.FlowKey;
import dev.ferry.conntrack.TcpFlags;
import dev.ferry.dataplane.addr.Ipv4;
import dev.ferry.dataplane.addr.Ipv4Cidr;
import dev.ferry.dataplane.counters.CounterType;
import dev.ferry.dataplane.counters.DataplaneCounters;
import dev.ferry.dataplane.nat.FlowFlags;
import dev.ferry.dataplane.packet.DropReason;
import dev.ferry.dataplane.service.EndpointSpec;
import dev.ferry.dataplane.service.NodeSpec;
import dev.ferry.dataplane.service.Protocol;
import dev.ferry.dataplane.service.ServicePortSpec;
import dev.ferry.dataplane.service.ServiceTable;
import dev.ferry.nativeio.IpProtocol;
import org.agrona.concurrent.CachedEpochClock;

import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.util.ArrayList;
import java.util.List;

/**
 * A running admin server over a real service table, a real in-memory conntrack table with four
 * flows, in-memory counters and a sync tracker on a clock the test advances. Close it.
 *
 * <pre>
 *  default/web:http        TCP 80  NodePort 30080  ClusterIP 10.96.0.50   -> 10.244.1.5:8080 (local), 10.244.2.7:8080, 10.244.2.8:8080 not ready
 *  kube-system/dns:dns     UDP 53                  ClusterIP 10.96.0.10   -> 10.244.1.20:53 (local)
 *  shop/front:443          TCP 443 LoadBalancer 198.18.100.5, externalIP 198.18.0.200, NodePort 31443, policy Local, hc 32000
 *  default/lonely:443      TCP 443                 ClusterIP 10.96.0.99   -> none
 *
 *  flows: web from pod 10.244.1.9:40000 and :40001, dns from 10.244.1.9:5353,
 *         web's NodePort from outside 198.18.1.50:50000 (masqueraded)
 * </pre>
 */
public final class AdminFixture implements AutoCloseable {
    public static final long START_MS = 1_700_000_000_000L;
    public static final long HEALTHZ_TIMEOUT_MS = 60_000;

    public final CachedEpochClock clock = new CachedEpochClock();
    public final SyncTracker tracker;
    public final ServiceTable services;
    public final ConntrackTable conntrack;
    public final DataplaneCounters counters;
    public final AdminServer server;
    /** Holds the control socket; removed at close. */
    public final java.nio.file.Path runDir;
    private final HttpClient http = HttpClient.newHttpClient();

    public AdminFixture() {
        this(true);
    }

    public AdminFixture(final boolean withDataplane) {
        this(withDataplane, AdminServer.DEFAULT_IDLE_TIMEOUT_MS);
    }

    public AdminFixture(final boolean withDataplane, final long idleTimeoutMs) {
        clock.update(START_MS);
        tracker = new SyncTracker(clock, HEALTHZ_TIMEOUT_MS);
        services = ServiceTable.compile(node(), servicePorts());
        conntrack = withDataplane ? ConntrackTable.inMemory(64, ConntrackTimeouts.kubeProxyDefaults()) : null;
        counters = withDataplane ? DataplaneCounters.inMemory(2) : null;
        if (withDataplane) {
            insertFlows();
            countPackets();
        }
        try {
            runDir = java.nio.file.Files.createTempDirectory("ferry-admin-");
        } catch (final java.io.IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
        server = AdminServer.start(new AdminServer.Context()
            .status(AgentStatus.of(() -> services, conntrack, counters, tracker))
            .clock(clock)
            .healthzPort(0)
            .metricsPort(0)
            .idleTimeoutMs(idleTimeoutMs)
            .controlSocket(runDir.resolve(AgentPaths.CONTROL_SOCKET_NAME)));
    }

    public static NodeSpec node() {
        return new NodeSpec("node-a", List.of(ip("198.18.0.11")), List.of(Ipv4Cidr.parse("10.244.0.0/16")),
            Ipv4Cidr.parse("10.244.1.0/24"), List.of(Ipv4Cidr.parse("10.96.0.0/12")), NodeSpec.DEFAULT_NODE_PORT_MIN,
            NodeSpec.DEFAULT_NODE_PORT_MAX, List.of(), false);
    }

    public static List<ServicePortSpec> servicePorts() {
        final List<ServicePortSpec> ports = new ArrayList<>();
        ports.add(new ServicePortSpec("default", "web", "http", Protocol.TCP, 80, 30080, List.of(ip("10.96.0.50")),
            List.of(), List.of(), List.of(), false, false, false, 0, 0,
            List.of(new EndpointSpec(ip("10.244.1.5"), 8080, true, true, false, true),
                new EndpointSpec(ip("10.244.2.7"), 8080, true, true, false, false),
                new EndpointSpec(ip("10.244.2.8"), 8080, false, false, true, false))));
        ports.add(new ServicePortSpec("kube-system", "dns", "dns", Protocol.UDP, 53, 0, List.of(ip("10.96.0.10")),
            List.of(), List.of(), List.of(), false, false, false, 0, 0,
            List.of(new EndpointSpec(ip("10.244.1.20"), 53, true, true, false, true))));
        ports.add(new ServicePortSpec("shop", "front", "", Protocol.TCP, 443, 31443, List.of(ip("10.96.0.60")),
            List.of(ip("198.18.0.200")), List.of(ip("198.18.100.5")), List.of(Ipv4Cidr.parse("198.18.1.0/24")), true, false,
            true, 600, 32000,
            List.of(new EndpointSpec(ip("10.244.1.30"), 8443, true, true, false, true),
                new EndpointSpec(ip("10.244.2.31"), 8443, true, true, false, false))));
        ports.add(new ServicePortSpec("default", "lonely", "", Protocol.TCP, 443, 0, List.of(ip("10.96.0.99")),
            List.of(), List.of(), List.of(), false, false, false, 0, 0, List.of()));
        return ports;
    }

    private void insertFlows() {
        flow(IpProtocol.TCP, "10.244.1.9", 40000, "10.96.0.50", 80, "10.244.1.5", 8080, "10.244.1.9", 40000, 0, 0);
        flow(IpProtocol.TCP, "10.244.1.9", 40001, "10.96.0.50", 80, "10.244.2.7", 8080, "10.244.1.9", 40001, 0, 0);
        flow(IpProtocol.UDP, "10.244.1.9", 5353, "10.96.0.10", 53, "10.244.1.20", 53, "10.244.1.9", 5353, 1, 0);
        flow(IpProtocol.TCP, "198.18.1.50", 50000, "198.18.0.11", 30080, "10.244.2.7", 8080, "198.18.0.11", 61000, 0,
            FlowFlags.MASQUERADED);
    }

    private void flow(final int proto, final String src, final int sport, final String dst, final int dport,
                      final String rsrc, final int rsport, final String rdst, final int rdport, final int serviceId,
                      final int flags) {
        final FlowKey original = new FlowKey().setIpv4(proto, ip(src), sport, ip(dst), dport);
        final FlowKey reply = new FlowKey().setIpv4(proto, ip(rsrc), rsport, ip(rdst), rdport);
        final long handle = conntrack.insert(original, reply, serviceId, flags, clock.time());
        if (handle < 0) {
            throw new IllegalStateException("insert failed: " + handle);
        }
        conntrack.onPacket(handle, TcpFlags.SYN, 60, clock.time());
    }

    private void countPackets() {
        counters.queue(0).add(CounterType.RX_PACKETS, 5);
        counters.queue(1).add(CounterType.RX_PACKETS, 3);
        counters.queue(0).add(CounterType.RX_PACKETS, 8);
        counters.queue(1).drop(DropReason.CONNTRACK_FULL);
        counters.queue(1).drop(DropReason.CONNTRACK_FULL);
    }

    public static int ip(final String text) {
        return Ipv4.parse(text);
    }

    public java.nio.file.Path controlSocket() {
        return server.controlSocket();
    }

    public String metricsUrl() {
        return "http://127.0.0.1:" + server.metricsAddress().getPort();
    }

    public String healthzUrl() {
        return "http://127.0.0.1:" + server.healthzAddress().getPort();
    }

    public HttpResponse<String> get(final String url) {
        return send("GET", url);
    }

    public HttpResponse<String> send(final String method, final String url) {
        try {
            return http.send(HttpRequest.newBuilder(URI.create(url)).method(method, HttpRequest.BodyPublishers.noBody()).build(),
                HttpResponse.BodyHandlers.ofString());
        } catch (final IOException e) {
            throw new java.io.UncheckedIOException(e);
        } catch (final InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException(e);
        }
    }

    @Override
    public void close() {
        server.close();
        runDir.toFile().delete(); // empty once the server removed its socket
        if (conntrack != null) {
            conntrack.close();
        }
        if (counters != null) {
            counters.close();
        }
    }
}
