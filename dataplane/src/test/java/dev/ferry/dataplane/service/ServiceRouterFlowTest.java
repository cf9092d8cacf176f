package dev.ferry.dataplane.service;

import dev.ferry.dataplane.addr.Ipv4;
import dev.ferry.dataplane.addr.Ipv4Cidr;
import dev.ferry.dataplane.lb.RandomSelector;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.SplittableRandom;
import java.util.stream.Stream;

import static dev.ferry.dataplane.service.Fixtures.ip;
import static dev.ferry.dataplane.service.Fixtures.node;
import static dev.ferry.dataplane.service.Fixtures.notServing;
import static dev.ferry.dataplane.service.Fixtures.servingTerminating;
import static dev.ferry.dataplane.service.Fixtures.svc;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Packet-flow table: (name, node, source, protocol, destination, port) → verdict, reason, the
 * eligible endpoint set, and why the connection is masqueraded; run through the real
 * {@link ServiceTable} and {@link ServiceRouter}. Node "std" is {@link Fixtures#node} with
 * masqueradeAll off, "all" the same node with it on, "nocidr" the std node without clusterCIDRs.
 *
 * <p>Addresses: node 198.18.0.11 (NodePorts) and 192.168.50.11 (no NodePorts), this node's pods
 * 10.244.1.0/24, another node's pods 10.244.2.0/24, off-cluster clients 203.0.113.0/24 and
 * 198.51.100.0/24. The kernel's local addresses ({@link #LOCAL}) add, beyond the nodeIPs, a
 * docker bridge's 172.17.0.1, the pod bridge's 10.244.1.1 and an AnyIP route 198.19.0.0/16.
 */
class ServiceRouterFlowTest {

    static List<ServicePortSpec> services() {
        return List.of(
            // ClusterIP with a local and a remote ready endpoint and one not serving.
            svc("web", Protocol.TCP, 80).clusterIp("10.96.0.10")
                .ready("10.244.1.5", 8080, true).ready("10.244.2.7", 8080, false)
                .endpoint(notServing("10.244.2.8", 8080, false)).build(),
            svc("dns", Protocol.UDP, 53).clusterIp("10.96.0.10")
                .ready("10.244.2.53", 53, false).build(),
            // internalTrafficPolicy Local, with and without a local endpoint.
            svc("itp-local", Protocol.TCP, 80).clusterIp("10.96.0.20").internalLocal()
                .ready("10.244.1.20", 80, true).ready("10.244.2.20", 80, false).build(),
            svc("itp-local-none", Protocol.TCP, 80).clusterIp("10.96.0.21").internalLocal()
                .ready("10.244.2.21", 80, false).build(),
            svc("itp-local-empty", Protocol.TCP, 80).clusterIp("10.96.0.22").internalLocal().build(),
            // Terminating endpoints: fallback when nothing is ready, ignored otherwise.
            svc("terminating-only", Protocol.TCP, 80).clusterIp("10.96.0.30")
                .endpoint(servingTerminating("10.244.2.30", 80, false))
                .endpoint(notServing("10.244.2.31", 80, false)).build(),
            svc("ready-and-terminating", Protocol.TCP, 80).clusterIp("10.96.0.31")
                .ready("10.244.2.32", 80, false)
                .endpoint(servingTerminating("10.244.2.33", 80, false)).build(),
            // NodePort, Cluster and Local external policy.
            svc("np-cluster", Protocol.TCP, 80).clusterIp("10.96.0.40").nodePort(30080)
                .ready("10.244.1.40", 80, true).ready("10.244.2.40", 80, false).build(),
            svc("np-local", Protocol.TCP, 80).clusterIp("10.96.0.50").nodePort(30050).externalLocal()
                .healthCheckNodePort(32050)
                .ready("10.244.1.50", 80, true).ready("10.244.2.50", 80, false).build(),
            svc("np-local-none", Protocol.UDP, 80).clusterIp("10.96.0.51").nodePort(30051).externalLocal()
                .healthCheckNodePort(32051)
                .ready("10.244.2.51", 80, false).build(),
            svc("np-local-terminating", Protocol.TCP, 80).clusterIp("10.96.0.52").nodePort(30052).externalLocal()
                .healthCheckNodePort(32052)
                .ready("10.244.2.52", 80, false)
                .endpoint(servingTerminating("10.244.1.52", 80, true)).build(),
            // LoadBalancer with source ranges; its NodePort is not filtered.
            svc("lb", Protocol.TCP, 443).clusterIp("10.96.0.60").nodePort(30443)
                .loadBalancerIp("198.18.100.10").sourceRange("203.0.113.0/24")
                .ready("10.244.2.60", 8443, false).ready("10.244.3.60", 8443, false).build(),
            svc("lb-local", Protocol.TCP, 443).clusterIp("10.96.0.61").nodePort(30444).externalLocal()
                .healthCheckNodePort(32061).loadBalancerIp("198.18.100.11")
                .ready("10.244.1.61", 8443, true).ready("10.244.2.61", 8443, false).build(),
            svc("ext", Protocol.TCP, 80).clusterIp("10.96.0.70").externalIp("198.18.0.200")
                .ready("10.244.2.70", 80, false).build(),
            svc("hairpin", Protocol.TCP, 80).clusterIp("10.96.0.80")
                .ready("10.244.1.80", 80, true).build(),
            svc("empty", Protocol.TCP, 80).clusterIp("10.96.0.90").nodePort(30090).build(),
            svc("all-not-serving", Protocol.TCP, 80).clusterIp("10.96.0.92")
                .endpoint(notServing("10.244.2.92", 80, false)).build(),
            svc("diameter", Protocol.SCTP, 3868).clusterIp("10.96.0.95")
                .ready("10.244.2.95", 3868, false).build());
    }

    /** name | node | src | proto | dst | port | verdict | reason | candidates | masquerade. */
    private static final String FLOWS = """
        pod to ClusterIP spreads over ready endpoints      | std | 10.244.1.9    | TCP  | 10.96.0.10    | 80    | DNAT   | ENDPOINT_SELECTED          | 10.244.1.5:8080 10.244.2.7:8080 | NONE
        pod to ClusterIP UDP port of the same IP           | std | 10.244.1.9    | UDP  | 10.96.0.10    | 53    | DNAT   | ENDPOINT_SELECTED          | 10.244.2.53:53                  | NONE
        unknown port on a ClusterIP is rejected            | std | 10.244.1.9    | TCP  | 10.96.0.10    | 81    | REJECT | UNKNOWN_PORT_ON_CLUSTER_IP | -                               | NONE
        known port with another protocol is rejected       | std | 10.244.1.9    | UDP  | 10.96.0.10    | 80    | REJECT | UNKNOWN_PORT_ON_CLUSTER_IP | -                               | NONE
        off-cluster source to ClusterIP is masqueraded     | std | 203.0.113.7   | TCP  | 10.96.0.10    | 80    | DNAT   | ENDPOINT_SELECTED          | 10.244.1.5:8080 10.244.2.7:8080 | OFF_CLUSTER_SOURCE
        node to ClusterIP is masqueraded                   | std | 198.18.0.11   | TCP  | 10.96.0.10    | 80    | DNAT   | ENDPOINT_SELECTED          | 10.244.1.5:8080 10.244.2.7:8080 | OFF_CLUSTER_SOURCE
        internal Local uses only local endpoints           | std | 10.244.2.9    | TCP  | 10.96.0.20    | 80    | DNAT   | ENDPOINT_SELECTED          | 10.244.1.20:80                  | NONE
        internal Local without local endpoint drops        | std | 10.244.1.9    | TCP  | 10.96.0.21    | 80    | DROP   | NO_LOCAL_ENDPOINTS         | -                               | NONE
        internal Local with no endpoint at all rejects     | std | 10.244.1.9    | TCP  | 10.96.0.22    | 80    | REJECT | NO_ENDPOINTS               | -                               | NONE
        terminating endpoints serve when none is ready     | std | 10.244.1.9    | TCP  | 10.96.0.30    | 80    | DNAT   | ENDPOINT_SELECTED          | 10.244.2.30:80                  | NONE
        terminating endpoints unused when one is ready     | std | 10.244.1.9    | TCP  | 10.96.0.31    | 80    | DNAT   | ENDPOINT_SELECTED          | 10.244.2.32:80                  | NONE
        no endpoints rejects                               | std | 10.244.1.9    | TCP  | 10.96.0.90    | 80    | REJECT | NO_ENDPOINTS               | -                               | NONE
        no endpoints on its NodePort rejects               | std | 203.0.113.7   | TCP  | 198.18.0.11   | 30090 | REJECT | NO_ENDPOINTS               | -                               | NONE
        only not-serving endpoints rejects                 | std | 10.244.1.9    | TCP  | 10.96.0.92    | 80    | REJECT | NO_ENDPOINTS               | -                               | NONE
        SCTP ClusterIP                                     | std | 10.244.1.9    | SCTP | 10.96.0.95    | 3868  | DNAT   | ENDPOINT_SELECTED          | 10.244.2.95:3868                | NONE
        NodePort Cluster policy is masqueraded             | std | 203.0.113.7   | TCP  | 198.18.0.11   | 30080 | DNAT   | ENDPOINT_SELECTED          | 10.244.1.40:80 10.244.2.40:80   | EXTERNAL_CLUSTER_POLICY
        pod to NodePort Cluster policy is masqueraded      | std | 10.244.1.9    | TCP  | 198.18.0.11   | 30080 | DNAT   | ENDPOINT_SELECTED          | 10.244.1.40:80 10.244.2.40:80   | EXTERNAL_CLUSTER_POLICY
        NodePort on an address outside nodePortAddresses  | std | 203.0.113.7   | TCP  | 192.168.50.11 | 30080 | PASS   | NOT_SERVICE_TRAFFIC        | -                               | NONE
        NodePort Local keeps the client, local only        | std | 203.0.113.7   | TCP  | 198.18.0.11   | 30050 | DNAT   | ENDPOINT_SELECTED          | 10.244.1.50:80                  | NONE
        NodePort Local from a pod goes the Cluster way     | std | 10.244.2.9    | TCP  | 198.18.0.11   | 30050 | DNAT   | ENDPOINT_SELECTED          | 10.244.1.50:80 10.244.2.50:80   | NONE
        NodePort Local from the node is masqueraded        | std | 198.18.0.11   | TCP  | 198.18.0.11   | 30050 | DNAT   | ENDPOINT_SELECTED          | 10.244.1.50:80 10.244.2.50:80   | NODE_SOURCE
        NodePort Local from the node's other address       | std | 192.168.50.11 | TCP  | 198.18.0.11   | 30050 | DNAT   | ENDPOINT_SELECTED          | 10.244.1.50:80 10.244.2.50:80   | NODE_SOURCE
        NodePort Local without local endpoint drops        | std | 203.0.113.7   | UDP  | 198.18.0.11   | 30051 | DROP   | NO_LOCAL_ENDPOINTS         | -                               | NONE
        NodePort Local without local endpoint, pod source  | std | 10.244.1.9    | UDP  | 198.18.0.11   | 30051 | DNAT   | ENDPOINT_SELECTED          | 10.244.2.51:80                  | NONE
        NodePort Local falls back to local terminating     | std | 203.0.113.7   | TCP  | 198.18.0.11   | 30052 | DNAT   | ENDPOINT_SELECTED          | 10.244.1.52:80                  | NONE
        ClusterIP of an external-Local service is Cluster  | std | 10.244.1.9    | TCP  | 10.96.0.50    | 80    | DNAT   | ENDPOINT_SELECTED          | 10.244.1.50:80 10.244.2.50:80   | NONE
        healthCheckNodePort is answered by the node        | std | 203.0.113.7   | TCP  | 198.18.0.11   | 32050 | LOCAL  | HEALTH_CHECK_NODE_PORT     | -                               | NONE
        healthCheckNodePort is TCP only                    | std | 203.0.113.7   | UDP  | 198.18.0.11   | 32050 | PASS   | NOT_SERVICE_TRAFFIC        | -                               | NONE
        healthCheckNodePort outside nodePortAddresses      | std | 203.0.113.7   | TCP  | 192.168.50.11 | 32050 | PASS   | NOT_SERVICE_TRAFFIC        | -                               | NONE
        LB IP from inside the source ranges                | std | 203.0.113.7   | TCP  | 198.18.100.10 | 443   | DNAT   | ENDPOINT_SELECTED          | 10.244.2.60:8443 10.244.3.60:8443 | EXTERNAL_CLUSTER_POLICY
        LB IP from outside the source ranges drops         | std | 198.51.100.9  | TCP  | 198.18.100.10 | 443   | DROP   | SOURCE_RANGE_MISS          | -                               | NONE
        LB source ranges do not filter the NodePort        | std | 198.51.100.9  | TCP  | 198.18.0.11   | 30443 | DNAT   | ENDPOINT_SELECTED          | 10.244.2.60:8443 10.244.3.60:8443 | EXTERNAL_CLUSTER_POLICY
        LB source ranges do not filter the ClusterIP       | std | 10.244.1.9    | TCP  | 10.96.0.60    | 443   | DNAT   | ENDPOINT_SELECTED          | 10.244.2.60:8443 10.244.3.60:8443 | NONE
        LB IP on an unclaimed port: dropped, not looped     | std | 203.0.113.7   | TCP  | 198.18.100.10 | 80    | DROP   | UNCLAIMED_SERVICE_ADDRESS  | -                               | NONE
        LB IP with Local policy keeps the client           | std | 198.51.100.9  | TCP  | 198.18.100.11 | 443   | DNAT   | ENDPOINT_SELECTED          | 10.244.1.61:8443                | NONE
        externalIP is external Cluster traffic             | std | 203.0.113.7   | TCP  | 198.18.0.200  | 80    | DNAT   | ENDPOINT_SELECTED          | 10.244.2.70:80                  | EXTERNAL_CLUSTER_POLICY
        hairpin pod reaching itself is masqueraded         | std | 10.244.1.80   | TCP  | 10.96.0.80    | 80    | DNAT   | ENDPOINT_SELECTED          | 10.244.1.80:80                  | HAIRPIN
        another pod reaching the hairpin service           | std | 10.244.1.81   | TCP  | 10.96.0.80    | 80    | DNAT   | ENDPOINT_SELECTED          | 10.244.1.80:80                  | NONE
        unallocated service IP drops                       | std | 10.244.1.9    | TCP  | 10.96.5.5     | 80    | DROP   | UNALLOCATED_SERVICE_IP     | -                               | NONE
        unallocated service IP, UDP                        | std | 203.0.113.7   | UDP  | 10.111.255.254| 53    | DROP   | UNALLOCATED_SERVICE_IP     | -                               | NONE
        ICMP is not service traffic                        | std | 10.244.1.9    | 1    | 10.96.0.10    | 0     | PASS   | NOT_A_SERVICE_PROTOCOL     | -                               | NONE
        pod to pod passes                                  | std | 10.244.1.9    | TCP  | 10.244.2.7    | 8080  | PASS   | NOT_SERVICE_TRAFFIC        | -                               | NONE
        pod to the internet passes                         | std | 10.244.1.9    | UDP  | 8.8.8.8       | 53    | PASS   | NOT_SERVICE_TRAFFIC        | -                               | NONE
        traffic to the node passes                         | std | 203.0.113.7   | TCP  | 198.18.0.11   | 22    | PASS   | NOT_SERVICE_TRAFFIC        | -                               | NONE
        masqueradeAll masquerades pod to ClusterIP         | all | 10.244.1.9    | TCP  | 10.96.0.10    | 80    | DNAT   | ENDPOINT_SELECTED          | 10.244.1.5:8080 10.244.2.7:8080 | MASQUERADE_ALL
        masqueradeAll keeps a NodePort Local's client     | all | 203.0.113.7   | TCP  | 198.18.0.11   | 30050 | DNAT   | ENDPOINT_SELECTED          | 10.244.1.50:80                  | NONE
        masqueradeAll keeps a pod to NodePort Local        | all | 10.244.2.9    | TCP  | 198.18.0.11   | 30050 | DNAT   | ENDPOINT_SELECTED          | 10.244.1.50:80 10.244.2.50:80   | NONE
        masqueradeAll still masquerades NodePort Cluster   | all | 203.0.113.7   | TCP  | 198.18.0.11   | 30080 | DNAT   | ENDPOINT_SELECTED          | 10.244.1.40:80 10.244.2.40:80   | MASQUERADE_ALL
        masqueradeAll masquerades hairpin                  | all | 10.244.1.80   | TCP  | 10.96.0.80    | 80    | DNAT   | ENDPOINT_SELECTED          | 10.244.1.80:80                  | MASQUERADE_ALL
        masqueradeAll does not change a reject             | all | 10.244.1.9    | TCP  | 10.96.0.90    | 80    | REJECT | NO_ENDPOINTS               | -                               | NONE
        no clusterCIDRs: the node is still masqueraded     | nocidr | 198.18.0.11 | TCP  | 10.96.0.10    | 80    | DNAT   | ENDPOINT_SELECTED          | 10.244.1.5:8080 10.244.2.7:8080 | NODE_SOURCE
        no clusterCIDRs: any other source is kept          | nocidr | 203.0.113.7 | TCP  | 10.96.0.10    | 80    | DNAT   | ENDPOINT_SELECTED          | 10.244.1.5:8080 10.244.2.7:8080 | NONE
        NodePort Local from another local address          | std | 172.17.0.1    | TCP  | 198.18.0.11   | 30050 | DNAT   | ENDPOINT_SELECTED          | 10.244.1.50:80 10.244.2.50:80   | NODE_SOURCE
        NodePort Local from beside a local address         | std | 172.17.0.2    | TCP  | 198.18.0.11   | 30050 | DNAT   | ENDPOINT_SELECTED          | 10.244.1.50:80                  | NONE
        LB IP Local from another local address             | std | 172.17.0.1    | TCP  | 198.18.100.11 | 443   | DNAT   | ENDPOINT_SELECTED          | 10.244.1.61:8443 10.244.2.61:8443 | NODE_SOURCE
        NodePort Local from a local prefix                 | std | 198.19.5.5    | UDP  | 198.18.0.11   | 30051 | DNAT   | ENDPOINT_SELECTED          | 10.244.2.51:80                  | NODE_SOURCE
        NodePort Local from the pod bridge is a pod source | std | 10.244.1.1    | TCP  | 198.18.0.11   | 30050 | DNAT   | ENDPOINT_SELECTED          | 10.244.1.50:80 10.244.2.50:80   | NONE
        pod bridge to ClusterIP is a pod source            | std | 10.244.1.1    | TCP  | 10.96.0.10    | 80    | DNAT   | ENDPOINT_SELECTED          | 10.244.1.5:8080 10.244.2.7:8080 | NONE
        no clusterCIDRs: another local address             | nocidr | 172.17.0.1  | TCP  | 10.96.0.10    | 80    | DNAT   | ENDPOINT_SELECTED          | 10.244.1.5:8080 10.244.2.7:8080 | NODE_SOURCE
        no clusterCIDRs: a local prefix                    | nocidr | 198.19.0.9  | TCP  | 10.96.0.10    | 80    | DNAT   | ENDPOINT_SELECTED          | 10.244.1.5:8080 10.244.2.7:8080 | NODE_SOURCE
        no clusterCIDRs: the pod bridge is the node        | nocidr | 10.244.1.1  | TCP  | 10.96.0.10    | 80    | DNAT   | ENDPOINT_SELECTED          | 10.244.1.5:8080 10.244.2.7:8080 | NODE_SOURCE
        """;

    private static final ServiceTable STD = ServiceTable.compile(node(false), services());
    private static final ServiceTable ALL = ServiceTable.compile(node(true), services());
    /** The std node without clusterCIDRs: no source can be told to be a pod. */
    private static final ServiceTable NO_CIDR = ServiceTable.compile(new NodeSpec(node(false).nodeName(), node(false).nodeIps(),
        List.of(), node(false).podCidr(), node(false).serviceCidrs(), node(false).nodePortMin(), node(false).nodePortMax(),
        node(false).nodePortAddresses(), false), services());

    /** The kernel's local table as the agent's watcher would hold it (nodeIPs included, as there). */
    private static final LocalAddresses LOCAL = LocalAddresses.of(Stream.of(
        "198.18.0.11", "192.168.50.11", "172.17.0.1", "10.244.1.1", "127.0.0.0/8", "198.19.0.0/16")
        .map(Ipv4Cidr::parse).toList());

    static Stream<Arguments> flows() {
        final List<Arguments> rows = new ArrayList<>();
        for (final String line : FLOWS.strip().split("\n")) {
            final String[] c = Arrays.stream(line.split("\\|")).map(String::trim).toArray(String[]::new);
            assertEquals(10, c.length, "malformed row: " + line);
            rows.add(Arguments.of((Object[]) c));
        }
        return rows.stream();
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("flows")
    void shouldRouteAsKubeProxyDoes(
        final String name, final String nodeName, final String src, final String proto, final String dst,
        final String port, final String verdict, final String reason, final String candidates, final String masq) {
        final ServiceTable table = switch (nodeName) {
            case "all" -> ALL;
            case "nocidr" -> NO_CIDR;
            default -> STD;
        };
        final int protocolNumber = proto.chars().allMatch(Character::isDigit)
            ? Integer.parseInt(proto) : Protocol.parse(proto).number();
        final List<String> expectedCandidates = candidates.equals("-") ? List.of() : List.of(candidates.split("\\s+"));

        // Many packets, so that every candidate is reachable and none outside the set is chosen.
        final ServiceRouter router = new ServiceRouter(new RandomSelector(new SplittableRandom(7)), LOCAL);
        final RouteDecision out = new RouteDecision();
        final java.util.Set<String> chosen = new java.util.TreeSet<>();
        for (int i = 0; i < 64; i++) {
            router.route(table, protocolNumber, ip(src), 40000 + i, ip(dst), Integer.parseInt(port), 1_000L, out);
            assertEquals(Verdict.valueOf(verdict), out.verdict(), name + ": " + out);
            assertEquals(RouteReason.valueOf(reason), out.reason(), name + ": " + out);
            final List<String> actualCandidates = new ArrayList<>();
            for (int c = 0; c < out.candidateCount(); c++) {
                actualCandidates.add(Ipv4.format(out.candidateAddress(c), out.candidatePort(c)));
            }
            assertEquals(expectedCandidates, actualCandidates, name + ": candidates");
            assertEquals(MasqueradeReason.valueOf(masq), out.masqueradeReason(), name + ": " + out);
            assertEquals(!masq.equals("NONE"), out.masquerade(), name + ": masquerade flag");
            if (out.verdict() == Verdict.DNAT) {
                final String backend = Ipv4.format(out.backendAddress(), out.backendPort());
                assertTrue(expectedCandidates.contains(backend), name + ": backend " + backend + " not a candidate");
                assertEquals(backend, Ipv4.format(out.candidateAddress(out.backendIndex()), out.candidatePort(out.backendIndex())));
                chosen.add(backend);
            } else {
                assertEquals(-1, out.backendIndex());
            }
            final boolean serviceKnown = out.reason() != RouteReason.NOT_SERVICE_TRAFFIC
                && out.reason() != RouteReason.NOT_A_SERVICE_PROTOCOL
                && out.reason() != RouteReason.UNKNOWN_PORT_ON_CLUSTER_IP
                && out.reason() != RouteReason.UNALLOCATED_SERVICE_IP
                && out.reason() != RouteReason.UNCLAIMED_SERVICE_ADDRESS;
            assertEquals(serviceKnown, out.servicePort() != null, name + ": service port presence");
        }
        if (Verdict.valueOf(verdict) == Verdict.DNAT) {
            assertEquals(new java.util.TreeSet<>(expectedCandidates), chosen, name + ": every candidate gets picked");
        }
    }
}
