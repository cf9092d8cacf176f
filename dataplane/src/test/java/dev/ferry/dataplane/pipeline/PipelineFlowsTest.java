package dev.ferry.dataplane.pipeline;

import dev.ferry.dataplane.addr.Ipv4;
import dev.ferry.dataplane.counters.CounterType;
import dev.ferry.dataplane.nat.NatRewriterTestAccess;
import dev.ferry.dataplane.packet.DropReason;
import dev.ferry.dataplane.packet.Ipv4Packet;
import dev.ferry.dataplane.packet.MalformedPacketTest;
import dev.ferry.dataplane.packet.PacketWriter;
import dev.ferry.dataplane.service.Protocol;
import dev.ferry.dataplane.service.ServicePortSpec;
import dev.ferry.nativeio.IpProtocol;
import org.agrona.concurrent.UnsafeBuffer;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;

import static dev.ferry.dataplane.service.Fixtures.node;
import static dev.ferry.dataplane.service.Fixtures.svc;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Whole flows through the pipeline: replies, ICMP errors, the malformed corpus, many flows. */
class PipelineFlowsTest {
    private static final String NODE_IP = PipelineFlowTableTest.NODE_IP;

    private PipelineHarness harness;

    static List<ServicePortSpec> services() {
        return List.of(
            svc("web", Protocol.TCP, 80).clusterIp("10.96.0.10").nodePort(30080)
                .ready("10.244.2.7", 8080, false).build(),
            svc("dns", Protocol.UDP, 53).clusterIp("10.96.0.53").nodePort(30053).ready("10.244.2.8", 5353, false).build());
    }

    @BeforeEach
    void setUp() {
        harness = new PipelineHarness(node(false), services(), 2, 4096);
    }

    @AfterEach
    void tearDown() {
        harness.close();
    }

    @Test
    void shouldReverseTranslateRepliesToTheOriginalTuple() {
        final Ipv4Packet out = Packets.parse(harness.send(Packets.tcp("10.244.1.5", 40000, "10.96.0.10", 80, 0x02)).getFirst());
        assertEquals("10.244.2.7:8080", Packets.dst(out));
        assertEquals("10.244.1.5:40000", Packets.src(out));

        final byte[] reply = harness.send(Packets.tcp("10.244.2.7", 8080, "10.244.1.5", 40000, 0x12)).getFirst();
        final Ipv4Packet back = Packets.parse(reply);
        assertEquals("10.96.0.10:80", Packets.src(back), "the client sees the service address");
        assertEquals("10.244.1.5:40000", Packets.dst(back));
        NatRewriterTestAccess.assertChecksumsValid(reply);

        // later packets of the flow follow the entry, not a new routing decision
        final Ipv4Packet again = Packets.parse(harness.send(Packets.tcp("10.244.1.5", 40000, "10.96.0.10", 80, 0x10)).getFirst());
        assertEquals("10.244.2.7:8080", Packets.dst(again));
        assertEquals(1, harness.counters.total(CounterType.NEW_FLOWS));
        assertEquals(2, harness.counters.total(CounterType.TRANSLATED));
    }

    @Test
    void shouldReverseMasqueradedNodePortReplies() {
        final Ipv4Packet out = Packets.parse(harness.send(Packets.tcp("203.0.113.9", 50000, NODE_IP, 30080, 0x02)).getFirst());
        assertEquals(NODE_IP, Ipv4.format(out.srcAddr()));
        final int snatPort = out.srcPort();
        final byte[] reply = harness.send(Packets.tcp("10.244.2.7", 8080, NODE_IP, snatPort, 0x12)).getFirst();
        final Ipv4Packet back = Packets.parse(reply);
        assertEquals(NODE_IP + ":30080", Packets.src(back));
        assertEquals("203.0.113.9:50000", Packets.dst(back));
        NatRewriterTestAccess.assertChecksumsValid(reply);
    }

    @Test
    void shouldTranslateIcmpPortUnreachableFromABackendForANattedUdpFlow() {
        final byte[] request = Packets.udp("203.0.113.9", 50000, NODE_IP, 30053);
        final byte[] translated = harness.send(request).getFirst();
        final Ipv4Packet sent = Packets.parse(translated);
        assertEquals("10.244.2.8:5353", Packets.dst(sent));

        // The backend answers the translated datagram with an ICMP port unreachable.
        final Ipv4Packet quoted = Packets.parse(translated);
        final UnsafeBuffer icmp = new UnsafeBuffer(new byte[600]);
        final int length = PacketWriter.icmpUnreachableFor(quoted, Ipv4Packet.ICMP_CODE_PORT_UNREACHABLE, icmp, 0);
        final byte[] error = harness.send(Packets.copy(icmp, length)).getFirst();

        final Ipv4Packet outer = Packets.parse(error);
        assertEquals(IpProtocol.ICMP, outer.protocol());
        assertEquals(NODE_IP, Ipv4.format(outer.srcAddr()), "the error comes from the address the client talked to");
        assertEquals("203.0.113.9", Ipv4.format(outer.dstAddr()));
        assertTrue(outer.hasQuotedPacket());
        assertEquals("203.0.113.9", Ipv4.format(outer.quotedSrcAddr()));
        assertEquals(50000, outer.quotedSrcPort());
        assertEquals(NODE_IP, Ipv4.format(outer.quotedDstAddr()));
        assertEquals(30053, outer.quotedDstPort());
        NatRewriterTestAccess.assertChecksumsValid(error);
        assertEquals(1, harness.counters.total(CounterType.ICMP_ERRORS_TRANSLATED));
    }

    @Test
    void shouldDropAndCountEveryMalformedPacketWithoutThrowing() {
        long expectedDrops = 0;
        for (final MalformedPacketTest.Case c : MalformedPacketTest.corpus()) {
            if (c.expected() == null) {
                continue;
            }
            final long before = harness.counters.total(c.expected());
            assertEquals(0, harness.send(c.bytes()).size(), c.name());
            assertEquals(before + 1, harness.counters.total(c.expected()), c.name() + " counted as " + c.expected());
            expectedDrops++;
        }
        long drops = 0;
        for (final DropReason reason : DropReason.values()) {
            drops += harness.counters.total(reason);
        }
        assertEquals(expectedDrops, drops);
    }

    @Test
    void shouldDropNonFirstFragmentsAimedAtAServiceAndPassOthers() {
        final byte[] fragment = Packets.udp("10.244.1.5", 40000, "10.96.0.53", 53);
        new UnsafeBuffer(fragment).putShort(6, (short) 0x0010, java.nio.ByteOrder.BIG_ENDIAN); // offset 128 bytes
        assertEquals(0, harness.send(fragment).size());
        assertEquals(1, harness.counters.total(DropReason.FRAGMENT_WITHOUT_FLOW));

        final byte[] podFragment = Packets.udp("10.244.1.5", 40000, "10.244.2.8", 53);
        new UnsafeBuffer(podFragment).putShort(6, (short) 0x0010, java.nio.ByteOrder.BIG_ENDIAN);
        assertEquals(1, harness.send(podFragment).size());
    }

    @Test
    void shouldRefuseNewFlowsWhenConntrackIsFullWhileEstablishedOnesContinue() {
        try (PipelineHarness small = new PipelineHarness(node(false), services(), 1, 4)) {
            for (int i = 0; i < 4; i++) {
                assertEquals(1, small.send(Packets.tcp("10.244.1.5", 41000 + i, "10.96.0.10", 80, 0x02)).size());
            }
            assertEquals(0, small.send(Packets.tcp("10.244.1.5", 42000, "10.96.0.10", 80, 0x02)).size());
            assertEquals(1, small.counters.total(DropReason.CONNTRACK_FULL));
            final Ipv4Packet established = Packets.parse(small.send(Packets.tcp("10.244.1.5", 41000, "10.96.0.10", 80, 0x10)).getFirst());
            assertEquals("10.244.2.7:8080", Packets.dst(established));
        }
    }

    @Test
    void shouldTranslateManyFlowsOnSeveralQueueThreads() throws Exception {
        final int flows = 2_000;
        try (PipelineHarness threaded = new PipelineHarness(node(false), services(), 2, flows * 2)) {
            threaded.pipeline.start();
            final SplittableRandom random = new SplittableRandom(11);
            final List<String> clients = new ArrayList<>();
            for (int i = 0; i < flows; i++) {
                final String client = "10.244." + (1 + random.nextInt(200)) + "." + (1 + random.nextInt(250));
                final int sport = 1024 + i;
                clients.add(client + ":" + sport);
                threaded.inject(Packets.tcp(client, sport, "10.96.0.10", 80, 0x02));
            }
            final List<byte[]> out = new ArrayList<>();
            final long deadline = System.nanoTime() + 30_000_000_000L; // a bound on waiting, not a speed assertion
            while (out.size() < flows && System.nanoTime() < deadline) {
                out.addAll(threaded.drainSent());
                Thread.onSpinWait();
            }
            assertEquals(flows, out.size(), "every flow translated once");
            final java.util.Set<String> seen = new java.util.HashSet<>();
            for (final byte[] packet : out) {
                final Ipv4Packet p = Packets.parse(packet);
                assertEquals("10.244.2.7:8080", Packets.dst(p));
                seen.add(Packets.src(p));
                NatRewriterTestAccess.assertChecksumsValid(packet);
            }
            assertEquals(new java.util.HashSet<>(clients), seen);
            assertEquals(flows, threaded.conntrack.size());
        }
    }

    @Test
    void shouldRouteAnExpiredUdpFlowAnewInsteadOfReviving() {
        final byte[] first = Packets.udp("10.244.1.5", 40000, "10.96.0.53", 53);
        assertEquals(1, harness.send(first).size());
        assertEquals(1, harness.conntrack.size());
        harness.clock.advance(31_000); // past the 30 s unreplied UDP timeout
        assertEquals(1, harness.send(Packets.udp("10.244.1.5", 40000, "10.96.0.53", 53)).size());
        assertEquals(2, harness.counters.total(CounterType.NEW_FLOWS), "the second datagram was a new flow");
    }

    @Test
    void shouldStartANewFlowWhenASynReusesTheTupleOfAClosedConnection() {
        assertEquals(1, harness.send(Packets.tcp("10.244.1.5", 40000, "10.96.0.10", 80, 0x02)).size());
        assertEquals(1, harness.send(Packets.tcp("10.244.1.5", 40000, "10.96.0.10", 80, 0x04)).size()); // RST: CLOSE
        assertEquals(1, harness.send(Packets.tcp("10.244.1.5", 40000, "10.96.0.10", 80, 0x02)).size());
        assertEquals(2, harness.counters.total(CounterType.NEW_FLOWS), "the second SYN was routed afresh");
    }
}
