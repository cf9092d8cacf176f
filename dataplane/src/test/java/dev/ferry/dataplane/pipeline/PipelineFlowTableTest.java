package dev.ferry.dataplane.pipeline;

import dev.ferry.dataplane.addr.Ipv4;
import dev.ferry.dataplane.nat.NatRewriterTestAccess;
import dev.ferry.dataplane.packet.Ipv4Packet;
import dev.ferry.dataplane.service.Protocol;
import dev.ferry.dataplane.service.ServicePortSpec;
import dev.ferry.nativeio.IpProtocol;
import org.agrona.concurrent.UnsafeBuffer;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

import java.util.List;
import java.util.Set;

import static dev.ferry.dataplane.service.Fixtures.node;
import static dev.ferry.dataplane.service.Fixtures.servingTerminating;
import static dev.ferry.dataplane.service.Fixtures.svc;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Packet-flow table through the whole pipeline (each queue: receive → process → send, over the
 * in-memory port): each row is a first packet and what must come out of the port.
 */
class PipelineFlowTableTest {
    static final String NODE_IP = "198.18.0.11";
    static final String SECOND_NODE_IP = "192.168.50.11";
    static final String POD = "10.244.1.5";          // a local pod
    static final String REMOTE_POD = "10.244.3.7";   // a pod on another node, not a backend
    static final String OUTSIDE = "203.0.113.9";     // a client outside the cluster

    /** What must come out. */
    enum Outcome { DNAT, REJECT_RST, REJECT_ICMP, DROP, PASS }

    record Row(String name, Protocol proto, String src, String dst, int dport, Outcome outcome,
               Set<String> backends, boolean masquerade) {
        @Override
        public String toString() {
            return name;
        }
    }

    static List<ServicePortSpec> services() {
        return List.of(
            svc("web", Protocol.TCP, 80).clusterIp("10.96.0.10").nodePort(30080).loadBalancerIp("198.18.100.1")
                .ready("10.244.1.5", 8080, true).ready("10.244.2.7", 8080, false).build(),
            svc("dns", Protocol.UDP, 53).clusterIp("10.96.0.53").ready("10.244.2.8", 5353, false).build(),
            svc("sctp", Protocol.SCTP, 9000).clusterIp("10.96.0.90").ready("10.244.2.9", 9009, false).build(),
            svc("empty", Protocol.TCP, 80).clusterIp("10.96.0.20").build(),
            svc("empty-udp", Protocol.UDP, 53).clusterIp("10.96.0.21").build(),
            svc("local", Protocol.TCP, 80).clusterIp("10.96.0.30").nodePort(30030).externalLocal()
                .ready("10.244.1.6", 8080, true).ready("10.244.2.6", 8080, false).build(),
            svc("local-none", Protocol.TCP, 80).clusterIp("10.96.0.31").nodePort(30031).externalLocal()
                .ready("10.244.2.6", 8080, false).build(),
            svc("internal-local-none", Protocol.TCP, 80).clusterIp("10.96.0.32").internalLocal()
                .ready("10.244.2.6", 8080, false).build(),
            svc("draining", Protocol.TCP, 80).clusterIp("10.96.0.40")
                .endpoint(servingTerminating("10.244.2.10", 8080, false)).build(),
            svc("ranges", Protocol.TCP, 443).clusterIp("10.96.0.50").loadBalancerIp("198.18.100.2")
                .sourceRange("203.0.113.0/28").ready("10.244.2.11", 8443, false).build(),
            svc("self", Protocol.TCP, 80).clusterIp("10.96.0.70").ready("10.244.1.5", 8080, true).build(),
            svc("ext", Protocol.TCP, 80).clusterIp("10.96.0.60").externalIp("198.18.0.200")
                .ready("10.244.2.12", 8080, false).build());
    }

    static List<Row> rows() {
        final Set<String> web = Set.of("10.244.1.5:8080", "10.244.2.7:8080");
        return List.of(
            new Row("pod to ClusterIP: DNAT, source kept", Protocol.TCP, REMOTE_POD, "10.96.0.10", 80, Outcome.DNAT, web, false),
            new Row("node to ClusterIP: source outside clusterCIDRs masqueraded", Protocol.TCP, NODE_IP, "10.96.0.10", 80, Outcome.DNAT, web, true),
            new Row("outside to ClusterIP: masqueraded", Protocol.TCP, OUTSIDE, "10.96.0.10", 80, Outcome.DNAT, web, true),
            new Row("hairpin: pod to its own service landing on itself is masqueraded", Protocol.TCP, POD, "10.96.0.70", 80, Outcome.DNAT,
                Set.of("10.244.1.5:8080"), true),
            new Row("UDP ClusterIP", Protocol.UDP, REMOTE_POD, "10.96.0.53", 53, Outcome.DNAT, Set.of("10.244.2.8:5353"), false),
            new Row("SCTP ClusterIP", Protocol.SCTP, REMOTE_POD, "10.96.0.90", 9000, Outcome.DNAT, Set.of("10.244.2.9:9009"), false),
            new Row("NodePort, Cluster policy: masqueraded", Protocol.TCP, OUTSIDE, NODE_IP, 30080, Outcome.DNAT, web, true),
            new Row("NodePort on an address outside nodePortAddresses: not ours", Protocol.TCP, OUTSIDE, SECOND_NODE_IP, 30080, Outcome.PASS, Set.of(), false),
            new Row("LoadBalancer IP, Cluster policy: masqueraded", Protocol.TCP, OUTSIDE, "198.18.100.1", 80, Outcome.DNAT, web, true),
            new Row("NodePort, Local policy: only local endpoints, source kept", Protocol.TCP, OUTSIDE, NODE_IP, 30030, Outcome.DNAT,
                Set.of("10.244.1.6:8080"), false),
            new Row("NodePort, Local policy, no local endpoint: dropped", Protocol.TCP, OUTSIDE, NODE_IP, 30031, Outcome.DROP, Set.of(), false),
            new Row("NodePort, Local policy, from a pod: the Cluster way", Protocol.TCP, REMOTE_POD, NODE_IP, 30031, Outcome.DNAT,
                Set.of("10.244.2.6:8080"), false),
            new Row("internal Local policy without local endpoints: dropped", Protocol.TCP, REMOTE_POD, "10.96.0.32", 80, Outcome.DROP, Set.of(), false),
            new Row("only serving-terminating endpoints: used as fallback", Protocol.TCP, REMOTE_POD, "10.96.0.40", 80, Outcome.DNAT,
                Set.of("10.244.2.10:8080"), false),
            new Row("no endpoints, TCP: reset", Protocol.TCP, REMOTE_POD, "10.96.0.20", 80, Outcome.REJECT_RST, Set.of(), false),
            new Row("no endpoints, UDP: port unreachable", Protocol.UDP, REMOTE_POD, "10.96.0.21", 53, Outcome.REJECT_ICMP, Set.of(), false),
            new Row("unknown port on a ClusterIP: reset", Protocol.TCP, REMOTE_POD, "10.96.0.10", 81, Outcome.REJECT_RST, Set.of(), false),
            new Row("unallocated address in the service CIDR: dropped", Protocol.TCP, REMOTE_POD, "10.96.7.7", 80, Outcome.DROP, Set.of(), false),
            new Row("LB source range hit", Protocol.TCP, "203.0.113.5", "198.18.100.2", 443, Outcome.DNAT, Set.of("10.244.2.11:8443"), true),
            new Row("LB source range miss: dropped", Protocol.TCP, "203.0.113.99", "198.18.100.2", 443, Outcome.DROP, Set.of(), false),
            new Row("externalIP: masqueraded", Protocol.TCP, OUTSIDE, "198.18.0.200", 80, Outcome.DNAT, Set.of("10.244.2.12:8080"), true),
            new Row("LoadBalancer IP on a port no service claims: dropped, not passed back into ferry0", Protocol.TCP, OUTSIDE,
                "198.18.100.1", 22, Outcome.DROP, Set.of(), false),
            new Row("pod to pod: not service traffic", Protocol.TCP, POD, REMOTE_POD, 8080, Outcome.PASS, Set.of(), false));
    }

    private PipelineHarness harness;

    @BeforeEach
    void setUp() {
        harness = new PipelineHarness(node(false), services(), 2, 4096);
    }

    @AfterEach
    void tearDown() {
        harness.close();
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("rows")
    void shouldTreatFirstPacketAsKubeProxyWould(final Row row) {
        final int sport = 40123;
        final byte[] in = Packets.first(row.proto(), row.src(), sport, row.dst(), row.dport());
        final List<byte[]> out = harness.send(in);
        switch (row.outcome()) {
            case DROP -> assertEquals(0, out.size(), "nothing must come out");
            case PASS -> {
                assertEquals(1, out.size());
                assertEquals(List.of(in).getFirst().length, out.getFirst().length);
                assertTrue(java.util.Arrays.equals(in, out.getFirst()), "passed unchanged");
            }
            case REJECT_RST -> {
                final Ipv4Packet p = Packets.parse(out.getFirst());
                assertEquals(IpProtocol.TCP, p.protocol());
                assertTrue((p.tcpFlags() & 0x04) != 0, "RST flag");
                assertEquals(row.dst() + ":" + row.dport(), Packets.src(p), "reset comes from the service address");
                assertEquals(row.src() + ":" + sport, Packets.dst(p));
                NatRewriterTestAccess.assertChecksumsValid(out.getFirst());
            }
            case REJECT_ICMP -> {
                final Ipv4Packet p = Packets.parse(out.getFirst());
                assertEquals(IpProtocol.ICMP, p.protocol());
                assertEquals(Ipv4Packet.ICMP_DEST_UNREACHABLE, p.icmpType());
                assertEquals(Ipv4Packet.ICMP_CODE_PORT_UNREACHABLE, p.icmpCode());
                assertEquals(row.dst(), Ipv4.format(p.srcAddr()));
                assertEquals(row.src(), Ipv4.format(p.dstAddr()));
                NatRewriterTestAccess.assertChecksumsValid(out.getFirst());
            }
            case DNAT -> {
                assertEquals(1, out.size(), "one packet out");
                final Ipv4Packet p = Packets.parse(out.getFirst());
                assertTrue(row.backends().contains(Packets.dst(p)), "backend " + Packets.dst(p) + " in " + row.backends());
                if (row.masquerade()) {
                    assertEquals(NODE_IP, Ipv4.format(p.srcAddr()), "masqueraded to the node IP");
                    assertTrue(p.srcPort() >= 61000 && p.srcPort() <= 65534, "SNAT port in range: " + p.srcPort());
                } else {
                    assertEquals(row.src() + ":" + sport, Packets.src(p), "client address preserved");
                }
                NatRewriterTestAccess.assertChecksumsValid(out.getFirst());
            }
        }
    }

    static byte[] bytes(final UnsafeBuffer b, final int length) {
        return Packets.copy(b, length);
    }
}
