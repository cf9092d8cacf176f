package dev.ferry.dataplane.nat;

import dev.ferry.dataplane.packet.Checksums;
import dev.ferry.dataplane.packet.Ipv6Packet;
import dev.ferry.dataplane.packet.Ipv6Packets;
import dev.ferry.nativeio.IpProtocol;
import org.agrona.concurrent.UnsafeBuffer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

import java.nio.ByteOrder;
import java.util.Arrays;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;

/**
 * IPv6 NAT through {@link NatRewriter}: for each flow of the table, the packet translated in
 * place must be, byte for byte, the packet built afresh with the new tuple (its checksum
 * computed from scratch by {@link Ipv6Packets}, not by the code under test).
 */
class Ipv6NatRewriterTest {
    private static final String CLIENT = "fd00:10:244:1::5";
    private static final String SERVICE = "fd00:10:96::a";
    private static final String BACKEND = "fd00:10:244:2::17";
    private static final String NODE = "fd00:198:18::11";
    private static final byte[] DATA = "a request through a Service".getBytes(java.nio.charset.StandardCharsets.US_ASCII);

    /** A flow: the packet as sent, and the packet after DNAT (and SNAT) as it should be, from the same builder. */
    record Flow(String name, Builder before, Builder after) {
        @Override
        public String toString() {
            return name;
        }
    }

    @FunctionalInterface
    interface Builder {
        byte[] build(Ipv6Packets from);
    }

    static List<Flow> flows() {
        return List.of(
            new Flow("UDP DNAT", p -> p.udp(40000, 53, DATA), p -> p.udp(40000, 5353, DATA)),
            new Flow("TCP SYN DNAT", p -> p.tcp(40000, 80, 0x02, new byte[0]), p -> p.tcp(40000, 8080, 0x02, new byte[0])),
            new Flow("TCP with data and options headers", p -> p.tcp(40000, 80, 0x18, DATA), p -> p.tcp(40000, 8080, 0x18, DATA)),
            new Flow("SCTP", p -> p.sctp(40000, 9000), p -> p.sctp(40000, 9001)),
            new Flow("ICMPv6 echo: addresses only", p -> p.icmpEcho(128, 7, 3), p -> p.icmpEcho(128, 7, 3)),
            new Flow("ICMPv6 echo, first fragment: its checksum is here", p -> p.fragment(0, true).icmpEcho(128, 7, 3),
                p -> p.fragment(0, true).icmpEcho(128, 7, 3)),
            new Flow("UDP, first fragment", p -> p.fragment(0, true).udp(40000, 53, DATA), p -> p.fragment(0, true).udp(40000, 5353, DATA)),
            new Flow("UDP odd length", p -> p.udp(40000, 53, Arrays.copyOf(DATA, 7)), p -> p.udp(40000, 5353, Arrays.copyOf(DATA, 7))));
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("flows")
    void shouldTranslateToThePacketBuiltWithTheNewTuple(final Flow flow) {
        for (final boolean masquerade : new boolean[] {false, true}) {
            final String newSource = masquerade ? NODE : CLIENT;
            final byte[] packet = flow.before().build(Ipv6Packets.from(CLIENT, SERVICE).hopByHop());
            final byte[] expected = flow.after().build(Ipv6Packets.from(newSource, BACKEND).hopByHop());
            final Ipv6Packet view = wrap(packet);
            final int newSrcPort = view.hasPorts() ? view.srcPort() : 0;
            final int newDstPort = view.hasPorts() ? portOf(expected) : 0;
            final long[] src = Ipv6Packets.halves(newSource);
            final long[] dst = Ipv6Packets.halves(BACKEND);
            NatRewriter.translate(view, src[0], src[1], newSrcPort, dst[0], dst[1], newDstPort, false);
            assertArrayEquals(expected, packet, flow.name() + (masquerade ? ", masqueraded" : ""));
        }
    }

    @Test
    void shouldKeepAPartialChecksumPartial() {
        for (final int protocol : new int[] {IpProtocol.TCP, IpProtocol.UDP}) {
            final byte[] packet = protocol == IpProtocol.TCP
                ? Ipv6Packets.from(CLIENT, SERVICE).tcp(40000, 80, 0x10, DATA) : Ipv6Packets.from(CLIENT, SERVICE).udp(40000, 53, DATA);
            final int field = 40 + (protocol == IpProtocol.TCP ? 16 : 6);
            final UnsafeBuffer buffer = new UnsafeBuffer(packet);
            // CHECKSUM_PARTIAL as the kernel hands it over: the uncomplemented pseudo-header sum
            buffer.putShort(field, (short) Checksums.pseudoHeaderPartial6(buffer, 0, protocol, packet.length - 40), ByteOrder.BIG_ENDIAN);
            final long[] src = Ipv6Packets.halves(NODE);
            final long[] dst = Ipv6Packets.halves(BACKEND);
            NatRewriter.translate(wrap(packet), src[0], src[1], 61000, dst[0], dst[1], 8080, true);
            assertEquals(Checksums.pseudoHeaderPartial6(buffer, 0, protocol, packet.length - 40), buffer.getShort(field, ByteOrder.BIG_ENDIAN) & 0xFFFF,
                IpProtocol.name(protocol) + ": the field is the new pseudo-header's partial sum; the ports are not in it");
            assertEquals(61000, buffer.getShort(40, ByteOrder.BIG_ENDIAN) & 0xFFFF);
        }
    }

    @Test
    void shouldLeaveAnAbsentUdpChecksumAbsent() {
        final byte[] packet = Ipv6Packets.from(CLIENT, SERVICE).udp(40000, 53, DATA);
        packet[46] = 0;
        packet[47] = 0;
        final long[] dst = Ipv6Packets.halves(BACKEND);
        final long[] src = Ipv6Packets.halves(CLIENT);
        NatRewriter.translate(wrap(packet), src[0], src[1], 40000, dst[0], dst[1], 5353, false);
        assertEquals(0, packet[46] | packet[47]);
    }

    @Test
    void shouldTranslateAPacketTooBigAboutAMasqueradedFlowBackToTheClientsView() {
        // the client's request, DNATed and masqueraded (node:61000 -> backend:5353), was too big
        // for a link on the way to the backend: the router's error quotes it as translated and goes
        // to the node; the client must get it about its own packet (client:40000 -> service:53)
        final String router = "fd00:1::1";
        final byte[] request = Ipv6Packets.from(NODE, BACKEND).udp(61000, 5353, new byte[1300]);
        final byte[] error = Ipv6Packets.from(router, NODE).icmpError(Ipv6Packet.ICMPV6_PACKET_TOO_BIG, 0, 1280, Arrays.copyOf(request, 1184));
        final byte[] asClientSent = Ipv6Packets.from(CLIENT, SERVICE).udp(40000, 53, new byte[1300]);
        final byte[] expected = Ipv6Packets.from(router, CLIENT)
            .icmpError(Ipv6Packet.ICMPV6_PACKET_TOO_BIG, 0, 1280, Arrays.copyOf(asClientSent, 1184));

        final long[] from = Ipv6Packets.halves(router);
        final long[] client = Ipv6Packets.halves(CLIENT);
        final long[] service = Ipv6Packets.halves(SERVICE);
        NatRewriter.translateIcmpError(wrap(error), from[0], from[1], client[0], client[1],
            client[0], client[1], 40000, service[0], service[1], 53);
        assertArrayEquals(expected, error, "quoted tuple, quoted UDP checksum, outer destination and ICMPv6 checksum");
        assertEquals(1280, new UnsafeBuffer(error).getInt(44, ByteOrder.BIG_ENDIAN), "the MTU is kept");
    }

    /** The destination port of a built packet, wherever its extension headers put the upper layer. */
    private static int portOf(final byte[] packet) {
        return wrap(packet.clone()).dstPort();
    }

    private static Ipv6Packet wrap(final byte[] packet) {
        final Ipv6Packet view = new Ipv6Packet();
        assertNull(view.wrap(new UnsafeBuffer(packet), 0, packet.length));
        return view;
    }
}
