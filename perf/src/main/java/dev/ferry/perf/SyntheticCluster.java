package dev.ferry.perf;

import dev.ferry.dataplane.addr.Ipv4;
import dev.ferry.dataplane.addr.Ipv4Cidr;
import dev.ferry.dataplane.service.EndpointSpec;
import dev.ferry.dataplane.service.NodeSpec;
import dev.ferry.dataplane.service.Protocol;
import dev.ferry.dataplane.service.ServicePortSpec;

import java.util.ArrayList;
import java.util.List;

/**
 * The cluster every benchmark runs against: one node, N ClusterIP services of one TCP port
 * and ten ready endpoints each (the shape the perf issue asks for), and a numbering of client
 * flows so that flow {@code f} always has the same tuple. Addresses are chosen so that nothing
 * collides by accident:
 * <pre>
 *   node            198.18.0.11
 *   cluster CIDR    10.244.0.0/14   (pods; traffic from here is not masqueraded to a ClusterIP)
 *     clients       10.244.0.0/16   flow f: 10.244.0.0 + (f &amp; 0xFFFF), port 1024 + (f &gt;&gt;&gt; 16)
 *     endpoints     10.246.0.0/15   service s, endpoint j: 10.246.0.0 + (10 s + j) mod 2^17, port 8080
 *   service CIDR    10.96.0.0/12    service s: ClusterIP 10.96.0.1 + s, port 80
 *   external        172.16.0.0/16   flow f: 172.16.0.0 + (f &amp; 0xFFFF): off-cluster, masqueraded
 * </pre>
 */
public final class SyntheticCluster {
    /** The benchmarks' clock: a constant, so an established flow's expiry never needs a CAS (see docs/PERFORMANCE.md). */
    public static final long NOW_MS = 1_700_000_000_000L;
    public static final int NODE_IP = Ipv4.parse("198.18.0.11");
    public static final int SERVICE_PORT = 80;
    public static final int TARGET_PORT = 8080;
    public static final int ENDPOINTS_PER_SERVICE = 10;
    /** The service CIDR is a /12: room for a million ClusterIPs. */
    public static final int MAX_SERVICES = (1 << 20) - 2;

    private static final int SERVICE_BASE = Ipv4.parse("10.96.0.1");
    private static final int POD_CLIENT_BASE = Ipv4.parse("10.244.0.0");
    private static final int EXTERNAL_CLIENT_BASE = Ipv4.parse("172.16.0.0");
    private static final int ENDPOINT_BASE = Ipv4.parse("10.246.0.0");
    private static final int ENDPOINT_ADDRESSES = 1 << 17;
    private static final int FIRST_CLIENT_PORT = 1024;

    private SyntheticCluster() {
    }

    /** Where each flow's client comes from. */
    public enum Source {
        /** A pod: DNAT only, the source is kept. */
        POD,
        /** Outside the cluster CIDRs: DNAT and masquerade (SNAT port search in the conntrack table). */
        EXTERNAL
    }

    public static NodeSpec node() {
        return new NodeSpec("bench-node", List.of(NODE_IP), List.of(Ipv4Cidr.parse("10.244.0.0/14")),
            Ipv4Cidr.parse("10.244.1.0/24"), List.of(Ipv4Cidr.parse("10.96.0.0/12")),
            NodeSpec.DEFAULT_NODE_PORT_MIN, NodeSpec.DEFAULT_NODE_PORT_MAX, List.of(), false);
    }

    /** {@code count} ClusterIP services, TCP port 80 → 8080, ten ready endpoints each, no affinity. */
    public static List<ServicePortSpec> services(final int count) {
        if (count < 1 || count > MAX_SERVICES) {
            throw new IllegalArgumentException("service count " + count + " is outside 1.." + MAX_SERVICES);
        }
        final List<ServicePortSpec> specs = new ArrayList<>(count);
        for (int s = 0; s < count; s++) {
            final List<EndpointSpec> endpoints = new ArrayList<>(ENDPOINTS_PER_SERVICE);
            for (int j = 0; j < ENDPOINTS_PER_SERVICE; j++) {
                endpoints.add(new EndpointSpec(endpointAddress(s, j), TARGET_PORT, true, true, false, false));
            }
            specs.add(new ServicePortSpec("bench", "svc-" + s, "", Protocol.TCP, SERVICE_PORT, 0,
                List.of(clusterIp(s)), List.of(), List.of(), List.of(), false, false, false,
                ServicePortSpec.DEFAULT_AFFINITY_TIMEOUT_SECONDS, 0, endpoints));
        }
        return specs;
    }

    public static int clusterIp(final int service) {
        return SERVICE_BASE + service;
    }

    public static int endpointAddress(final int service, final int endpoint) {
        return ENDPOINT_BASE + (int) (((long) service * ENDPOINTS_PER_SERVICE + endpoint) % ENDPOINT_ADDRESSES);
    }

    public static int clientAddress(final Source source, final int flow) {
        return (source == Source.POD ? POD_CLIENT_BASE : EXTERNAL_CLIENT_BASE) + (flow & 0xFFFF);
    }

    public static int clientPort(final int flow) {
        return FIRST_CLIENT_PORT + (flow >>> 16);
    }
}
