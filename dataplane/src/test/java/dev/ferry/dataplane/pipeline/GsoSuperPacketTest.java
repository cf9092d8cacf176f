package dev.ferry.dataplane.pipeline;

import dev.ferry.dataplane.addr.Ipv4;
import dev.ferry.dataplane.counters.CounterType;
import dev.ferry.dataplane.packet.Checksums;
import dev.ferry.dataplane.packet.DropReason;
import dev.ferry.dataplane.packet.Ipv4Packet;
import dev.ferry.dataplane.nat.NatRewriterTestAccess;
import dev.ferry.dataplane.packet.PacketWriter;
import dev.ferry.nativeio.IpProtocol;
import dev.ferry.nativeio.virtio.VirtioNetHdr;
import org.agrona.concurrent.UnsafeBuffer;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.nio.ByteOrder;
import java.util.Arrays;
import java.util.List;

import static dev.ferry.dataplane.service.Fixtures.node;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * GSO super-packets with their virtio_net_hdr through the whole pipeline, on bytes: what a TUN
 * queue with IFF_VNET_HDR and TSO hands over is translated as one packet, its partial checksum
 * kept partial, and written back whole; a header that does not describe its packet is dropped
 * under its own reason.
 */
class GsoSuperPacketTest {
    private static final int VNET = VirtioNetHdr.SIZE;
    private static final int GSO_SIZE = 1448;
    /** 64 KB of IPv4: the largest super-packet TSO makes (total length 65535 minus nothing to spare). */
    private static final int PAYLOAD = 65535 - 40;

    private PipelineHarness harness;

    @BeforeEach
    void setUp() {
        harness = new PipelineHarness(node(false), PipelineFlowsTest.services(), 1, 4096, true);
    }

    @AfterEach
    void tearDown() {
        harness.close();
    }

    @Test
    void shouldTranslateA64KbTsoSuperPacketKeepingItsChecksumPartial() {
        final byte[] in = tsoPacket("10.244.1.5", 40000, "10.96.0.10", 80, PAYLOAD);
        final List<byte[]> out = harness.send(in);
        assertEquals(1, out.size(), "one super-packet in, one out: not segmented");
        final byte[] sent = out.getFirst();
        assertEquals(in.length, sent.length, "written back whole");
        assertArrayEquals(Arrays.copyOf(in, VNET), Arrays.copyOf(sent, VNET), "virtio_net_hdr unchanged: still GSO, still partial");
        assertArrayEquals(Arrays.copyOfRange(in, VNET + 40, in.length), Arrays.copyOfRange(sent, VNET + 40, sent.length),
            "payload untouched");

        final byte[] ip = Arrays.copyOfRange(sent, VNET, sent.length);
        final Ipv4Packet p = Packets.parse(ip);
        assertEquals("10.244.2.7:8080", Packets.dst(p));
        assertEquals("10.244.1.5:40000", Packets.src(p));
        final UnsafeBuffer b = new UnsafeBuffer(ip);
        assertEquals(0, Checksums.finish(Checksums.sum(b, 0, 20, 0)), "IPv4 header checksum valid");
        assertEquals(pseudoHeaderSum(b, ip.length), b.getShort(20 + 16, ByteOrder.BIG_ENDIAN) & 0xFFFF,
            "the TCP checksum field is the pseudo-header sum of the new addresses: still partial, not complemented");

        // what the kernel does after us: complete it over the segment as it now is
        b.putShort(20 + 16, (short) Checksums.finish(Checksums.sum(b, 20, ip.length - 20, 0)), ByteOrder.BIG_ENDIAN);
        assertEquals(0, Checksums.finish(Checksums.sum(b, 20, ip.length - 20, pseudoHeaderSum(b, ip.length))),
            "completed, the checksum is right for the translated packet");
        assertEquals(1, harness.counters.total(CounterType.NEW_FLOWS));
    }

    @Test
    void shouldTranslateTheRepliesSuperPacketBackToTheServiceAddress() {
        assertEquals(1, harness.send(tsoPacket("10.244.1.5", 40000, "10.96.0.10", 80, 1000)).size());
        final byte[] sent = harness.send(tsoPacket("10.244.2.7", 8080, "10.244.1.5", 40000, PAYLOAD)).getFirst();
        final byte[] ip = Arrays.copyOfRange(sent, VNET, sent.length);
        final Ipv4Packet p = Packets.parse(ip);
        assertEquals("10.96.0.10:80", Packets.src(p));
        assertEquals(pseudoHeaderSum(new UnsafeBuffer(ip), ip.length), new UnsafeBuffer(ip).getShort(36, ByteOrder.BIG_ENDIAN) & 0xFFFF);
    }

    @Test
    void shouldDropAGsoTypeThatDoesNotMatchThePacket() {
        final byte[] udpAsTcpGso = withVnet(Packets.udp("10.244.1.5", 40000, "10.96.0.53", 53), VirtioNetHdr.GSO_TCPV4, true, 6);
        assertEquals(0, harness.send(udpAsTcpGso).size());
        assertEquals(1, harness.counters.total(DropReason.BAD_GSO_FRAME));

        final byte[] tcpv6OnIpv4 = tsoPacket("10.244.1.5", 40001, "10.96.0.10", 80, 3000);
        tcpv6OnIpv4[VirtioNetHdr.GSO_TYPE] = (byte) VirtioNetHdr.GSO_TCPV6;
        assertEquals(0, harness.send(tcpv6OnIpv4).size());

        final byte[] noSegmentSize = tsoPacket("10.244.1.5", 40002, "10.96.0.10", 80, 3000);
        noSegmentSize[VirtioNetHdr.GSO_SIZE] = 0;
        noSegmentSize[VirtioNetHdr.GSO_SIZE + 1] = 0;
        assertEquals(0, harness.send(noSegmentSize).size());

        final byte[] notPartial = tsoPacket("10.244.1.5", 40003, "10.96.0.10", 80, 3000);
        notPartial[VirtioNetHdr.FLAGS] = 0;
        assertEquals(0, harness.send(notPartial).size());
        assertEquals(4, harness.counters.total(DropReason.BAD_GSO_FRAME));
        assertEquals(0, harness.conntrack.size(), "nothing malformed started a flow");
    }

    @Test
    void shouldDropAMalformedVirtioHeader() {
        final byte[] unknownGso = tsoPacket("10.244.1.5", 40000, "10.96.0.10", 80, 3000);
        unknownGso[VirtioNetHdr.GSO_TYPE] = 9;
        final byte[] unknownFlag = tsoPacket("10.244.1.5", 40001, "10.96.0.10", 80, 3000);
        unknownFlag[VirtioNetHdr.FLAGS] |= 0x40;
        final byte[] checksumPastTheEnd = tsoPacket("10.244.1.5", 40002, "10.96.0.10", 80, 3000);
        new UnsafeBuffer(checksumPastTheEnd).putShort(VirtioNetHdr.CSUM_START, (short) 4000, ByteOrder.LITTLE_ENDIAN);
        final byte[] checksumNotAtTcp = tsoPacket("10.244.1.5", 40003, "10.96.0.10", 80, 3000);
        new UnsafeBuffer(checksumNotAtTcp).putShort(VirtioNetHdr.CSUM_OFFSET, (short) 6, ByteOrder.LITTLE_ENDIAN);
        final byte[] shorterThanTheHeader = new byte[VNET - 4];
        for (final byte[] bad : List.of(unknownGso, unknownFlag, checksumPastTheEnd, checksumNotAtTcp, shorterThanTheHeader)) {
            assertEquals(0, harness.send(bad).size());
        }
        assertEquals(5, harness.counters.total(DropReason.BAD_VNET_HEADER));
        assertEquals(0, harness.conntrack.size());
    }

    @Test
    void shouldPassAPlainPacketWithAnEmptyHeaderAndAnswerARejectWithAnEmptyOne() {
        final byte[] plain = withVnet(Packets.tcp("10.244.1.5", 40000, "10.96.0.10", 80, 0x02), VirtioNetHdr.GSO_NONE, false, 0);
        final byte[] sent = harness.send(plain).getFirst();
        assertEquals("10.244.2.7:8080", Packets.dst(Packets.parse(Arrays.copyOfRange(sent, VNET, sent.length))));
        assertTrue(Arrays.equals(new byte[VNET], Arrays.copyOf(sent, VNET)));

        // a port the ClusterIP does not serve is rejected; the answer is built whole, so its header is empty
        // (the port writes it: the request's said NEEDS_CSUM, which the answer must not repeat)
        final byte[] unservedPort = withVnet(Packets.tcp("10.244.1.5", 40001, "10.96.0.10", 81, 0x02), VirtioNetHdr.GSO_NONE, true, 16);
        harness.pipeline.processor(0).replyBuffer().setMemory(0, VNET, (byte) 0x5A); // headroom the port must overwrite
        final byte[] answer = harness.send(unservedPort).getFirst();
        assertTrue(Arrays.equals(new byte[VNET], Arrays.copyOf(answer, VNET)), "an empty virtio_net_hdr before the answer");
        final Ipv4Packet reset = Packets.parse(Arrays.copyOfRange(answer, VNET, answer.length));
        assertEquals("10.96.0.10:81", Packets.src(reset));
        assertEquals("10.244.1.5:40001", Packets.dst(reset));
        NatRewriterTestAccess.assertChecksumsValid(Arrays.copyOfRange(answer, VNET, answer.length));
    }

    /**
     * A TSO super-packet as the kernel hands it to a TUN queue: virtio_net_hdr (NEEDS_CSUM,
     * TCPV4, gso_size 1448, csum at 20 + 16), then one IPv4/TCP packet whose checksum field holds
     * the uncomplemented pseudo-header sum.
     */
    private static byte[] tsoPacket(final String src, final int sport, final String dst, final int dport, final int payload) {
        final UnsafeBuffer b = new UnsafeBuffer(new byte[40 + payload]);
        final int length = PacketWriter.tcp(b, 0, Ipv4.parse(src), sport, Ipv4.parse(dst), dport, 0x18, 7, 9, payload);
        for (int i = 40; i < length; i++) {
            b.putByte(i, (byte) (i * 31));
        }
        b.putShort(36, (short) pseudoHeaderSum(b, length), ByteOrder.BIG_ENDIAN);
        return withVnet(Packets.copy(b, length), VirtioNetHdr.GSO_TCPV4, true, 16);
    }

    private static byte[] withVnet(final byte[] ip, final int gsoType, final boolean partial, final int csumOffset) {
        final byte[] frame = new byte[VNET + ip.length];
        System.arraycopy(ip, 0, frame, VNET, ip.length);
        final UnsafeBuffer h = new UnsafeBuffer(frame);
        h.putByte(VirtioNetHdr.FLAGS, (byte) (partial ? VirtioNetHdr.F_NEEDS_CSUM : 0));
        h.putByte(VirtioNetHdr.GSO_TYPE, (byte) gsoType);
        if (gsoType != VirtioNetHdr.GSO_NONE) {
            h.putShort(VirtioNetHdr.HDR_LEN, (short) 40, ByteOrder.LITTLE_ENDIAN);
            h.putShort(VirtioNetHdr.GSO_SIZE, (short) GSO_SIZE, ByteOrder.LITTLE_ENDIAN);
        }
        if (partial) {
            h.putShort(VirtioNetHdr.CSUM_START, (short) 20, ByteOrder.LITTLE_ENDIAN);
            h.putShort(VirtioNetHdr.CSUM_OFFSET, (short) csumOffset, ByteOrder.LITTLE_ENDIAN);
        }
        return frame;
    }

    /** The folded, uncomplemented TCP pseudo-header sum of the IPv4 packet in {@code b}. */
    private static int pseudoHeaderSum(final UnsafeBuffer b, final int length) {
        final long sum = Checksums.sum(b, 12, 8, 0) + IpProtocol.TCP + (length - 20);
        return ~Checksums.finish(sum) & 0xFFFF;
    }
}
