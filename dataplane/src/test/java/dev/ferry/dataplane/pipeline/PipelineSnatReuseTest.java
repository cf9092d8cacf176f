package dev.ferry.dataplane.pipeline;

import dev.ferry.dataplane.addr.Ipv4;
import dev.ferry.dataplane.counters.CounterType;
import dev.ferry.dataplane.nat.NatRewriterTestAccess;
import dev.ferry.dataplane.nat.SnatRange;
import dev.ferry.dataplane.packet.DropReason;
import dev.ferry.dataplane.packet.Ipv4Packet;
import dev.ferry.dataplane.service.Protocol;
import dev.ferry.dataplane.service.ServicePortSpec;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.util.HashSet;
import java.util.List;
import java.util.Set;

import static dev.ferry.dataplane.service.Fixtures.node;
import static dev.ferry.dataplane.service.Fixtures.svc;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Masquerade under churn, through the whole pipeline with an SNAT range of eight ports: clients
 * outside the cluster open connections to a NodePort with one backend (externalTrafficPolicy
 * Cluster, so every flow is masqueraded to the node address). Finished flows' tuples (TIME_WAIT,
 * CLOSE, expired UDP) are taken over by new flows once no port is free; live flows' never. Time is
 * the harness clock, moved by the test.
 */
class PipelineSnatReuseTest {
    private static final String NODE_IP = PipelineFlowTableTest.NODE_IP;
    private static final String BACKEND = "10.244.2.7";
    private static final String UDP_BACKEND = "10.244.2.8";
    private static final int PORTS = 8;
    private static final int MIN_PORT = 61000;
    private static final int SYN = 0x02;
    private static final int SYN_ACK = 0x12;
    private static final int ACK = 0x10;
    private static final int FIN_ACK = 0x11;
    private static final int RST = 0x04;

    private PipelineHarness harness;

    static List<ServicePortSpec> services() {
        return List.of(
            svc("web", Protocol.TCP, 80).clusterIp("10.96.0.10").nodePort(30080).ready(BACKEND, 8080, false).build(),
            svc("dns", Protocol.UDP, 53).clusterIp("10.96.0.53").nodePort(30053).ready(UDP_BACKEND, 5353, false).build());
    }

    @BeforeEach
    void setUp() {
        harness = new PipelineHarness(node(false), services(), 1, 1024,
            new SnatRange(Ipv4.parse(NODE_IP), MIN_PORT, MIN_PORT + PORTS - 1));
    }

    @AfterEach
    void tearDown() {
        harness.close();
    }

    /** Client n's address, outside the cluster. */
    private static String client(final int n) {
        return "203.0.113." + (1 + n % 250);
    }

    private static int clientPort(final int n) {
        return 40000 + n / 250;
    }

    /** SYN, SYN/ACK, ACK; returns the SNAT port the flow was given. */
    private int open(final int n) {
        final Ipv4Packet syn = Packets.parse(sendOne(Packets.tcp(client(n), clientPort(n), NODE_IP, 30080, SYN)));
        assertEquals(BACKEND + ":8080", Packets.dst(syn));
        assertEquals(NODE_IP, Ipv4.format(syn.srcAddr()), "masqueraded");
        final int snatPort = syn.srcPort();
        assertTrue(snatPort >= MIN_PORT && snatPort < MIN_PORT + PORTS, "SNAT port in range: " + snatPort);
        final byte[] synAck = sendOne(Packets.tcp(BACKEND, 8080, NODE_IP, snatPort, SYN_ACK));
        assertEquals(client(n) + ":" + clientPort(n), Packets.dst(Packets.parse(synAck)), "the reply reaches this flow's client");
        NatRewriterTestAccess.assertChecksumsValid(synAck);
        sendOne(Packets.tcp(client(n), clientPort(n), NODE_IP, 30080, ACK));
        return snatPort;
    }

    /** The backend closes first (HTTP with Connection: close): FIN, ACK, FIN, ACK: TIME_WAIT. */
    private void closeGracefully(final int n, final int snatPort) {
        sendOne(Packets.tcp(BACKEND, 8080, NODE_IP, snatPort, FIN_ACK));
        sendOne(Packets.tcp(client(n), clientPort(n), NODE_IP, 30080, ACK));
        sendOne(Packets.tcp(client(n), clientPort(n), NODE_IP, 30080, FIN_ACK));
        sendOne(Packets.tcp(BACKEND, 8080, NODE_IP, snatPort, ACK));
    }

    private void reset(final int n) {
        sendOne(Packets.tcp(client(n), clientPort(n), NODE_IP, 30080, RST));
    }

    private byte[] sendOne(final byte[] packet) {
        final List<byte[]> out = harness.send(packet);
        assertEquals(1, out.size(), "forwarded");
        return out.getFirst();
    }

    private Set<Integer> fillRange() {
        final Set<Integer> ports = new HashSet<>();
        for (int n = 0; n < PORTS; n++) {
            assertTrue(ports.add(open(n)), "each flow gets a port of its own");
        }
        assertEquals(PORTS, ports.size());
        return ports;
    }

    @Test
    void shouldGiveAFlowReopenedFromTimeWaitItsOldSnatTupleBack() {
        // A client reusing its source port while the old flow is in TIME_WAIT: the backend's own
        // TIME_WAIT socket accepts the new SYN only on the same 4-tuple (the client's timestamps
        // are per 4-tuple), so the new flow keeps the SNAT port although seven others are free.
        final int first = open(0);
        closeGracefully(0, first);
        for (int round = 0; round < 20; round++) {
            harness.clock.advance(500);
            assertEquals(first, open(0), "round " + round + ": the re-opened flow's SNAT port");
            closeGracefully(0, first);
        }
        // a different client gets some port, never blocked by the re-opened one
        harness.clock.advance(500);
        final int other = open(1);
        assertTrue(other != first, "the re-opened flow holds its port: " + other);
    }

    @Test
    void shouldTakeOverTheTupleOfAFlowInTimeWaitWhenNoPortIsFree() {
        final Set<Integer> ports = new HashSet<>();
        for (int n = 0; n < PORTS; n++) {
            final int port = open(n);
            ports.add(port);
            closeGracefully(n, port);
            harness.clock.advance(1_000);
        }
        assertEquals(PORTS, ports.size());

        final int reused = open(PORTS); // well inside TIME_WAIT's 120 s: only a takeover gives it a port
        assertTrue(ports.contains(reused));
        assertEquals(1, harness.counters.total(CounterType.SNAT_TUPLES_REUSED));
        assertEquals(0, harness.counters.total(DropReason.SNAT_PORTS_EXHAUSTED));
        assertEquals(PORTS, harness.conntrack.size(), "the finished flow's entry was replaced, not added to");
        // The new flow has the tuple: the backend's packets to that port reach the new client.
        final Ipv4Packet toClient = Packets.parse(sendOne(Packets.tcp(BACKEND, 8080, NODE_IP, reused, ACK)));
        assertEquals(client(PORTS) + ":" + clientPort(PORTS), Packets.dst(toClient));
    }

    @Test
    void shouldTakeOverTheOldestTimeWaitTuple() {
        final int[] ports = new int[PORTS];
        for (int n = 0; n < PORTS; n++) {
            ports[n] = open(n);
            closeGracefully(n, ports[n]);
            harness.clock.advance(1_000);
        }
        assertEquals(ports[0], open(PORTS), "the flow finished first is taken over first");
    }

    @Test
    void shouldTakeOverTheTupleOfAResetFlow() {
        final Set<Integer> ports = fillRange();
        reset(3);
        final int reused = open(PORTS);
        assertTrue(ports.contains(reused));
        assertEquals(1, harness.counters.total(CounterType.SNAT_TUPLES_REUSED));
    }

    @Test
    void shouldPreferAFreePortOverAFinishedFlowsTuple() {
        final Set<Integer> finished = new HashSet<>();
        for (int n = 0; n < PORTS / 2; n++) {
            final int port = open(n);
            finished.add(port);
            closeGracefully(n, port);
        }
        for (int n = PORTS / 2; n < PORTS; n++) {
            assertFalse(finished.contains(open(n)), "a free port while there is one");
        }
        assertEquals(0, harness.counters.total(CounterType.SNAT_TUPLES_REUSED));
    }

    @Test
    void shouldDropAsExhaustedWhenEveryTupleIsLiveAndKeepTheLiveFlows() {
        final Set<Integer> ports = new HashSet<>();
        for (int n = 0; n < PORTS - 2; n++) {
            ports.add(open(n)); // ESTABLISHED
        }
        // one SYN_SENT (no answer yet) and one half-closed (FIN_WAIT): live too
        ports.add(Packets.parse(sendOne(Packets.tcp(client(PORTS - 2), clientPort(PORTS - 2), NODE_IP, 30080, SYN))).srcPort());
        final int halfClosed = open(PORTS - 1);
        ports.add(halfClosed);
        sendOne(Packets.tcp(BACKEND, 8080, NODE_IP, halfClosed, FIN_ACK));
        assertEquals(PORTS, ports.size());

        harness.clock.advance(60_000);
        assertEquals(0, harness.send(Packets.tcp(client(PORTS), clientPort(PORTS), NODE_IP, 30080, SYN)).size(), "dropped");
        assertEquals(1, harness.counters.total(DropReason.SNAT_PORTS_EXHAUSTED));
        assertEquals(0, harness.counters.total(CounterType.SNAT_TUPLES_REUSED));
        assertEquals(PORTS, harness.conntrack.size());
        for (int n = 0; n < PORTS - 2; n++) {
            final Ipv4Packet p = Packets.parse(sendOne(Packets.tcp(client(n), clientPort(n), NODE_IP, 30080, ACK)));
            assertEquals(BACKEND + ":8080", Packets.dst(p), "established flow " + n + " untouched");
        }

        reset(0); // one flow ends: its tuple is the next new flow's
        final Ipv4Packet next = Packets.parse(sendOne(Packets.tcp(client(PORTS), clientPort(PORTS), NODE_IP, 30080, SYN)));
        assertTrue(ports.contains(next.srcPort()));
        assertEquals(1, harness.counters.total(DropReason.SNAT_PORTS_EXHAUSTED));
    }

    @Test
    void shouldSustainConnectionChurnFarBeyondTheRangeWithinTimeWait() {
        // 2,000 connections, one every 10 ms, each closed before the next: 20 s, all within
        // TIME_WAIT's 120 s, through 8 ports.
        for (int n = 0; n < 2_000; n++) {
            final int port = open(n);
            if (n % 2 == 0) {
                closeGracefully(n, port);
            } else {
                reset(n);
            }
            harness.clock.advance(10);
        }
        assertEquals(0, harness.counters.total(DropReason.SNAT_PORTS_EXHAUSTED));
        assertEquals(2_000, harness.counters.total(CounterType.NEW_FLOWS));
        assertEquals(2_000 - PORTS, harness.counters.total(CounterType.SNAT_TUPLES_REUSED));
        assertEquals(PORTS, harness.conntrack.size());
    }

    @Test
    void shouldReuseUdpTuplesOnlyOnceTheirFlowsExpire() {
        final Set<Integer> ports = new HashSet<>();
        for (int n = 0; n < PORTS; n++) {
            ports.add(Packets.parse(sendOne(Packets.udp(client(n), clientPort(n), NODE_IP, 30053))).srcPort());
        }
        assertEquals(PORTS, ports.size());
        harness.clock.advance(29_000); // unreplied UDP lives 30 s
        assertEquals(0, harness.send(Packets.udp(client(PORTS), clientPort(PORTS), NODE_IP, 30053)).size(), "all live: dropped");
        assertEquals(1, harness.counters.total(DropReason.SNAT_PORTS_EXHAUSTED));

        // Churn: every 31 s a new set of clients, each sending one datagram and getting a reply.
        for (int round = 1; round <= 50; round++) {
            harness.clock.advance(round == 1 ? 2_000 : 121_000); // answered UDP lives 120 s
            for (int n = round * PORTS; n < (round + 1) * PORTS; n++) {
                final Ipv4Packet out = Packets.parse(sendOne(Packets.udp(client(n), clientPort(n), NODE_IP, 30053)));
                assertEquals(UDP_BACKEND + ":5353", Packets.dst(out));
                assertTrue(ports.contains(out.srcPort()));
                final Ipv4Packet back = Packets.parse(sendOne(Packets.udp(UDP_BACKEND, 5353, NODE_IP, out.srcPort())));
                assertEquals(client(n) + ":" + clientPort(n), Packets.dst(back), "the answer reaches this round's client");
            }
        }
        assertEquals(1, harness.counters.total(DropReason.SNAT_PORTS_EXHAUSTED));
        assertEquals(PORTS, harness.conntrack.size());

        harness.clock.advance(60_000); // answered flows still live
        assertEquals(0, harness.send(Packets.udp(client(999), clientPort(999), NODE_IP, 30053)).size());
        assertEquals(2, harness.counters.total(DropReason.SNAT_PORTS_EXHAUSTED));
    }

    @Test
    void shouldSpreadFlowsOverTheWholePortRange() {
        try (PipelineHarness wide = new PipelineHarness(node(false), services(), 1, 1 << 14,
            new SnatRange(Ipv4.parse(NODE_IP), 1024, 65534))) {
            final Set<Integer> ports = new HashSet<>();
            for (int n = 0; n < 5_000; n++) {
                final List<byte[]> out = wide.send(Packets.tcp(client(n), clientPort(n), NODE_IP, 30080, SYN));
                assertEquals(1, out.size());
                final int port = Packets.parse(out.getFirst()).srcPort();
                assertTrue(port >= 1024 && port <= 65534, "in range: " + port);
                assertTrue(ports.add(port), "a port of its own: " + port);
            }
            int low = 0;
            for (final int port : ports) {
                low += port < 1024 + 64511 / 2 ? 1 : 0;
            }
            assertTrue(low > 2_000 && low < 3_000, "spread over the range, not packed at one end: " + low + " of 5000 in the lower half");
        }
    }
}
