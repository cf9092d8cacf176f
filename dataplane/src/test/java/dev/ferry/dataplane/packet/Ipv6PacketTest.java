package dev.ferry.dataplane.packet;

import dev.ferry.nativeio.IpProtocol;
import org.agrona.concurrent.UnsafeBuffer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

import java.nio.ByteOrder;
import java.util.Arrays;
import java.util.List;
import java.util.function.Consumer;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The IPv6 parser's table: well-formed packets with and without extension headers, and each
 * way a packet can be broken, with what {@link Ipv6Packet#wrap} must say and, for a good one,
 * where it finds the upper layer and whether it has ports.
 */
class Ipv6PacketTest {
    private static final String POD = "fd00:10:244:1::5";
    private static final String SERVICE = "fd00:10:96::a";
    private static final byte[] DATA = "ferry over IPv6".getBytes(java.nio.charset.StandardCharsets.US_ASCII);

    /** A table row: the packet, the verdict, and for a good packet its upper layer, its offset and whether it has ports. */
    record Row(String name, byte[] bytes, DropReason expected, int protocol, int l4Offset, boolean ports) {
        @Override
        public String toString() {
            return name;
        }
    }

    private static Row good(final String name, final byte[] bytes, final int protocol, final int l4Offset, final boolean ports) {
        return new Row(name, bytes, null, protocol, l4Offset, ports);
    }

    private static Row bad(final String name, final byte[] bytes, final DropReason expected) {
        return new Row(name, bytes, expected, -1, -1, false);
    }

    static List<Row> table() {
        final byte[] udp = Ipv6Packets.from(POD, SERVICE).udp(40000, 53, DATA);
        final byte[] tcp = Ipv6Packets.from(POD, SERVICE).tcp(40000, 80, 0x02, new byte[0]);
        return List.of(
            good("UDP", udp, IpProtocol.UDP, 40, true),
            good("TCP SYN", tcp, IpProtocol.TCP, 40, true),
            good("SCTP", Ipv6Packets.from(POD, SERVICE).sctp(40000, 9000), IpProtocol.SCTP, 40, true),
            good("ICMPv6 echo request", Ipv6Packets.from(POD, SERVICE).icmpEcho(128, 7, 1), IpProtocol.ICMPV6, 40, false),
            good("hop-by-hop, UDP", Ipv6Packets.from(POD, SERVICE).hopByHop().udp(40000, 53, DATA), IpProtocol.UDP, 48, true),
            good("hop-by-hop, routing, destination options (16), TCP",
                Ipv6Packets.from(POD, SERVICE).hopByHop().routing().destinationOptions(16).tcp(1, 2, 0x10, DATA), IpProtocol.TCP, 88, true),
            good("AH (24 bytes), UDP", Ipv6Packets.from(POD, SERVICE).authentication(24).udp(40000, 53, DATA), IpProtocol.UDP, 64, true),
            good("first fragment, UDP (its length covers every fragment)",
                edit(Ipv6Packets.from(POD, SERVICE).fragment(0, true).udp(40000, 53, DATA), b -> b.putShort(48 + 4, (short) 3000, ByteOrder.BIG_ENDIAN)),
                IpProtocol.UDP, 48, true),
            good("later fragment: the fragment's next header, no ports",
                Ipv6Packets.from(POD, SERVICE).fragment(185, false).raw(IpProtocol.UDP, DATA), IpProtocol.UDP, 48, false),
            good("no next header", Ipv6Packets.from(POD, SERVICE).raw(IpProtocol.IPV6_NO_NEXT_HEADER, new byte[0]),
                IpProtocol.IPV6_NO_NEXT_HEADER, 40, false),
            good("ESP: an upper layer, not walked", Ipv6Packets.from(POD, SERVICE).raw(50, new byte[16]), 50, 40, false),
            good("trailing link padding", Arrays.copyOf(udp, udp.length + 10), IpProtocol.UDP, 40, true),
            good("Packet Too Big quoting TCP behind a destination option",
                Ipv6Packets.from("fd00:1::1", POD).icmpError(2, 0, 1280,
                    Ipv6Packets.from(POD, SERVICE).destinationOptions(8).tcp(40000, 80, 0x10, new byte[1200])),
                IpProtocol.ICMPV6, 40, false),
            bad("empty", new byte[0], DropReason.TRUNCATED_IPV6_HEADER),
            bad("39 bytes", Arrays.copyOf(udp, 39), DropReason.TRUNCATED_IPV6_HEADER),
            bad("version 4 nibble", edit(udp, b -> b.putByte(0, (byte) 0x45)), DropReason.BAD_IP_VERSION),
            bad("payload length past the buffer", edit(udp, b -> b.putShort(4, (short) 1000, ByteOrder.BIG_ENDIAN)), DropReason.BAD_IPV6_PAYLOAD_LENGTH),
            bad("jumbogram: payload length 0 before a hop-by-hop header",
                edit(Ipv6Packets.from(POD, SERVICE).hopByHop().udp(1, 2, DATA), b -> b.putShort(4, (short) 0)), DropReason.BAD_IPV6_PAYLOAD_LENGTH),
            bad("extension header past the payload",
                edit(Ipv6Packets.from(POD, SERVICE).hopByHop().udp(1, 2, DATA), b -> b.putByte(41, (byte) 30)), DropReason.BAD_IPV6_EXTENSION_HEADER),
            bad("extension header cut short", Ipv6Packets.from(POD, SERVICE).hopByHop().raw(IpProtocol.IPV6_DESTINATION_OPTIONS, new byte[4]),
                DropReason.BAD_IPV6_EXTENSION_HEADER),
            bad("AH length past the payload",
                edit(Ipv6Packets.from(POD, SERVICE).authentication(12).udp(1, 2, DATA), b -> b.putByte(41, (byte) 200)), DropReason.BAD_IPV6_EXTENSION_HEADER),
            bad("TCP data offset past the segment", edit(tcp, b -> b.putByte(40 + 12, (byte) 0xF0)), DropReason.BAD_TCP_HEADER),
            bad("TCP cut short", Ipv6Packets.from(POD, SERVICE).raw(IpProtocol.TCP, new byte[12]), DropReason.BAD_TCP_HEADER),
            bad("UDP length not the payload's", edit(udp, b -> b.putShort(44, (short) 9, ByteOrder.BIG_ENDIAN)), DropReason.BAD_UDP_LENGTH),
            bad("UDP cut short", Ipv6Packets.from(POD, SERVICE).raw(IpProtocol.UDP, new byte[6]), DropReason.BAD_UDP_LENGTH),
            bad("SCTP cut short", Ipv6Packets.from(POD, SERVICE).raw(IpProtocol.SCTP, new byte[8]), DropReason.BAD_SCTP_HEADER),
            bad("ICMPv6 cut short", Ipv6Packets.from(POD, SERVICE).raw(IpProtocol.ICMPV6, new byte[4]), DropReason.BAD_ICMP),
            bad("ICMPv6 error quoting 20 bytes", Ipv6Packets.from("fd00:1::1", POD).icmpError(1, 4, 0, new byte[20]), DropReason.BAD_ICMP),
            bad("ICMPv6 error quoting an IPv4 header",
                Ipv6Packets.from("fd00:1::1", POD).icmpError(1, 4, 0, edit(new byte[48], b -> b.putByte(0, (byte) 0x45))), DropReason.BAD_ICMP),
            bad("ICMPv6 error quoting an extension header past the quote",
                Ipv6Packets.from("fd00:1::1", POD).icmpError(1, 4, 0,
                    Arrays.copyOf(Ipv6Packets.from(POD, SERVICE).destinationOptions(64).udp(1, 2, DATA), 60)), DropReason.BAD_ICMP));
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("table")
    void shouldWalkToTheUpperLayerOrSayWhyNot(final Row row) {
        final Ipv6Packet packet = new Ipv6Packet();
        final DropReason verdict = packet.wrap(new UnsafeBuffer(row.bytes()), 0, row.bytes().length);
        assertEquals(row.expected(), verdict, row.name());
        if (verdict == null) {
            assertEquals(row.protocol(), packet.protocol(), "upper layer");
            assertEquals(row.l4Offset(), packet.l4Offset(), "upper-layer offset");
            assertEquals(row.ports(), packet.hasPorts(), "ports");
        }
    }

    @Test
    void shouldReadAddressesPortsAndHopLimitAtAnOffset() {
        final byte[] udp = Ipv6Packets.from(POD, SERVICE).hopByHop().udp(40000, 53, DATA);
        final byte[] framed = new byte[12 + udp.length];
        System.arraycopy(udp, 0, framed, 12, udp.length); // behind a virtio_net_hdr, as a port hands it over
        final Ipv6Packet packet = new Ipv6Packet();
        assertNull(packet.wrap(new UnsafeBuffer(framed), 12, udp.length));
        final long[] pod = Ipv6Packets.halves(POD);
        final long[] service = Ipv6Packets.halves(SERVICE);
        assertEquals(pod[0], packet.srcHi());
        assertEquals(pod[1], packet.srcLo());
        assertEquals(service[0], packet.dstHi());
        assertEquals(service[1], packet.dstLo());
        assertEquals(40000, packet.srcPort());
        assertEquals(53, packet.dstPort());
        assertEquals(64, packet.hopLimit());
        assertEquals(IpProtocol.IPV6_HOP_BY_HOP, packet.nextHeader());
        assertEquals(8 + 8 + DATA.length, packet.payloadLength());
        assertEquals(8 + DATA.length, packet.l4Length());
        assertFalse(packet.isFragment());
    }

    @Test
    void shouldFindTheQuotedFlowOfAPacketTooBig() {
        final byte[] quoted = Ipv6Packets.from(POD, SERVICE).destinationOptions(8).tcp(40000, 80, 0x10, new byte[1200]);
        final byte[] error = Ipv6Packets.from("fd00:1::1", POD).icmpError(Ipv6Packet.ICMPV6_PACKET_TOO_BIG, 0, 1280, Arrays.copyOf(quoted, 1232 - 48));
        final Ipv6Packet packet = new Ipv6Packet();
        assertNull(packet.wrap(new UnsafeBuffer(error), 0, error.length));
        assertTrue(packet.isIcmpError());
        assertTrue(packet.hasQuotedPacket());
        assertEquals(IpProtocol.TCP, packet.quotedProtocol());
        assertEquals(48 + 40 + 8, packet.quotedL4Offset(), "past the quoted header and its destination option");
        assertTrue(packet.quotedHasPorts());
        assertEquals(40000, packet.quotedSrcPort());
        assertEquals(80, packet.quotedDstPort());
        assertEquals(Ipv6Packets.halves(SERVICE)[1], packet.quotedDstLo());
        assertArrayEquals(Ipv6Packets.address(POD), Arrays.copyOfRange(error, 48 + 8, 48 + 24));
    }

    @Test
    void shouldHaveNoQuotedPortsWhenTheQuoteEndsBeforeThem() {
        final byte[] quoted = Arrays.copyOf(Ipv6Packets.from(POD, SERVICE).udp(40000, 53, DATA), 44);
        final byte[] error = Ipv6Packets.from("fd00:1::1", POD).icmpError(1, 4, 0, quoted);
        final Ipv6Packet packet = new Ipv6Packet();
        assertNull(packet.wrap(new UnsafeBuffer(error), 0, error.length));
        assertTrue(packet.hasQuotedPacket());
        assertFalse(packet.quotedHasPorts());
    }

    static byte[] edit(final byte[] bytes, final Consumer<UnsafeBuffer> change) {
        final byte[] copy = bytes.clone();
        change.accept(new UnsafeBuffer(copy));
        return copy;
    }
}
