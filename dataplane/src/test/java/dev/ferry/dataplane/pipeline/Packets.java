package dev.ferry.dataplane.pipeline;

import dev.ferry.dataplane.addr.Ipv4;
import dev.ferry.dataplane.packet.Ipv4Packet;
import dev.ferry.dataplane.packet.PacketWriter;
import dev.ferry.dataplane.service.Protocol;
import org.agrona.concurrent.UnsafeBuffer;

/** Test packets written with dotted-quad text, and a parsed view of what came out. */
final class Packets {
    private Packets() {
    }

    static byte[] first(final Protocol protocol, final String src, final int sport, final String dst, final int dport) {
        final UnsafeBuffer b = new UnsafeBuffer(new byte[256]);
        final int length = switch (protocol) {
            case TCP -> PacketWriter.tcp(b, 0, Ipv4.parse(src), sport, Ipv4.parse(dst), dport, 0x02, 1000, 0, 0);
            case UDP -> PacketWriter.udp(b, 0, Ipv4.parse(src), sport, Ipv4.parse(dst), dport, 12, (byte) 'u', true);
            case SCTP -> PacketWriter.sctpInit(b, 0, Ipv4.parse(src), sport, Ipv4.parse(dst), dport, 77);
        };
        return copy(b, length);
    }

    static byte[] tcp(final String src, final int sport, final String dst, final int dport, final int flags) {
        final UnsafeBuffer b = new UnsafeBuffer(new byte[256]);
        return copy(b, PacketWriter.tcp(b, 0, Ipv4.parse(src), sport, Ipv4.parse(dst), dport, flags, 5000, 6000, 10));
    }

    static byte[] udp(final String src, final int sport, final String dst, final int dport) {
        return first(Protocol.UDP, src, sport, dst, dport);
    }

    static byte[] copy(final UnsafeBuffer b, final int length) {
        final byte[] out = new byte[length];
        b.getBytes(0, out);
        return out;
    }

    /** Parses a packet the pipeline sent; fails the test if it does not parse. */
    static Ipv4Packet parse(final byte[] bytes) {
        final Ipv4Packet p = new Ipv4Packet();
        final var reason = p.wrap(new UnsafeBuffer(bytes), 0, bytes.length);
        if (reason != null) {
            throw new AssertionError("pipeline sent a malformed packet: " + reason);
        }
        return p;
    }

    static String src(final Ipv4Packet p) {
        return Ipv4.format(p.srcAddr(), p.srcPort());
    }

    static String dst(final Ipv4Packet p) {
        return Ipv4.format(p.dstAddr(), p.dstPort());
    }
}
