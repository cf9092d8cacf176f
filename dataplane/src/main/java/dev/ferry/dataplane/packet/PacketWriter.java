package dev.ferry.dataplane.packet;

import dev.ferry.nativeio.IpProtocol;
import org.agrona.MutableDirectBuffer;

import java.nio.ByteOrder;

/**
 * Writes whole IPv4 packets with correct checksums: the REJECT answers (TCP RST, ICMP port
 * unreachable), the synthetic first packet of {@code ferry trace}, and test traffic.
 * Allocation-free; each method returns the packet's length.
 */
public final class PacketWriter {
    public static final int DEFAULT_TTL = 64;
    /** RFC 1812: an ICMP error quotes as much of the packet as fits in 576 bytes. */
    public static final int ICMP_ERROR_MAX_LENGTH = 576;

    private static final ByteOrder NET = ByteOrder.BIG_ENDIAN;

    private PacketWriter() {
    }

    /** Writes a 20-byte IPv4 header (no options, DF clear) with its checksum. */
    public static void ipv4Header(final MutableDirectBuffer buffer, final int offset, final int protocol,
                                  final int srcAddr, final int dstAddr, final int totalLength, final int identification, final int ttl) {
        buffer.putByte(offset, (byte) 0x45);
        buffer.putByte(offset + 1, (byte) 0);
        buffer.putShort(offset + Ipv4Packet.OFFSET_TOTAL_LENGTH, (short) totalLength, NET);
        buffer.putShort(offset + Ipv4Packet.OFFSET_IDENTIFICATION, (short) identification, NET);
        buffer.putShort(offset + Ipv4Packet.OFFSET_FLAGS_FRAGMENT, (short) 0, NET);
        buffer.putByte(offset + Ipv4Packet.OFFSET_TTL, (byte) ttl);
        buffer.putByte(offset + Ipv4Packet.OFFSET_PROTOCOL, (byte) protocol);
        buffer.putShort(offset + Ipv4Packet.OFFSET_CHECKSUM, (short) 0, NET);
        buffer.putInt(offset + Ipv4Packet.OFFSET_SOURCE, srcAddr, NET);
        buffer.putInt(offset + Ipv4Packet.OFFSET_DESTINATION, dstAddr, NET);
        buffer.putShort(offset + Ipv4Packet.OFFSET_CHECKSUM, (short) Checksums.ipv4Header(buffer, offset, 20), NET);
    }

    /** A TCP segment with a 20-byte header, {@code payloadLength} zero bytes of payload, and checksums. */
    public static int tcp(final MutableDirectBuffer buffer, final int offset, final int srcAddr, final int srcPort,
                          final int dstAddr, final int dstPort, final int flags, final long seq, final long ack, final int payloadLength) {
        final int l4 = offset + 20;
        final int l4Length = 20 + payloadLength;
        ipv4Header(buffer, offset, IpProtocol.TCP, srcAddr, dstAddr, 20 + l4Length, 0, DEFAULT_TTL);
        buffer.setMemory(l4, l4Length, (byte) 0);
        buffer.putShort(l4, (short) srcPort, NET);
        buffer.putShort(l4 + 2, (short) dstPort, NET);
        buffer.putInt(l4 + 4, (int) seq, NET);
        buffer.putInt(l4 + 8, (int) ack, NET);
        buffer.putByte(l4 + Ipv4Packet.TCP_OFFSET_DATA_OFFSET, (byte) (5 << 4));
        buffer.putByte(l4 + Ipv4Packet.TCP_OFFSET_FLAGS, (byte) flags);
        buffer.putShort(l4 + 14, (short) 64240, NET);
        buffer.putShort(l4 + Ipv4Packet.TCP_OFFSET_CHECKSUM,
            (short) Checksums.transport(buffer, offset, IpProtocol.TCP, l4, l4Length), NET);
        return 20 + l4Length;
    }

    /** A UDP datagram with {@code payloadLength} payload bytes (value {@code fill}); checksum set unless {@code withChecksum} is false. */
    public static int udp(final MutableDirectBuffer buffer, final int offset, final int srcAddr, final int srcPort,
                          final int dstAddr, final int dstPort, final int payloadLength, final byte fill, final boolean withChecksum) {
        final int l4 = offset + 20;
        final int l4Length = Ipv4Packet.UDP_HEADER + payloadLength;
        ipv4Header(buffer, offset, IpProtocol.UDP, srcAddr, dstAddr, 20 + l4Length, 0, DEFAULT_TTL);
        buffer.putShort(l4, (short) srcPort, NET);
        buffer.putShort(l4 + 2, (short) dstPort, NET);
        buffer.putShort(l4 + Ipv4Packet.UDP_OFFSET_LENGTH, (short) l4Length, NET);
        buffer.putShort(l4 + Ipv4Packet.UDP_OFFSET_CHECKSUM, (short) 0, NET);
        buffer.setMemory(l4 + Ipv4Packet.UDP_HEADER, payloadLength, fill);
        if (withChecksum) {
            buffer.putShort(l4 + Ipv4Packet.UDP_OFFSET_CHECKSUM,
                (short) Checksums.transport(buffer, offset, IpProtocol.UDP, l4, l4Length), NET);
        }
        return 20 + l4Length;
    }

    /** An SCTP packet holding one INIT chunk (enough for tracing and tests). */
    public static int sctpInit(final MutableDirectBuffer buffer, final int offset, final int srcAddr, final int srcPort,
                               final int dstAddr, final int dstPort, final int initiateTag) {
        final int l4 = offset + 20;
        final int chunkLength = 20; // type, flags, length, initiate tag, a_rwnd, streams, initial TSN
        final int l4Length = Ipv4Packet.SCTP_COMMON_HEADER + chunkLength;
        ipv4Header(buffer, offset, IpProtocol.SCTP, srcAddr, dstAddr, 20 + l4Length, 0, DEFAULT_TTL);
        buffer.setMemory(l4, l4Length, (byte) 0);
        buffer.putShort(l4, (short) srcPort, NET);
        buffer.putShort(l4 + 2, (short) dstPort, NET);
        final int chunk = l4 + Ipv4Packet.SCTP_COMMON_HEADER;
        buffer.putByte(chunk, (byte) 1); // INIT
        buffer.putShort(chunk + 2, (short) chunkLength, NET);
        buffer.putInt(chunk + 4, initiateTag, NET);
        buffer.putInt(chunk + 8, 65536, NET);
        buffer.putShort(chunk + 12, (short) 1, NET);
        buffer.putShort(chunk + 14, (short) 1, NET);
        buffer.putInt(chunk + 16, 1, NET);
        buffer.putInt(l4 + Ipv4Packet.SCTP_OFFSET_CHECKSUM, Checksums.sctp(buffer, l4, l4Length), ByteOrder.LITTLE_ENDIAN);
        return 20 + l4Length;
    }

    /**
     * The TCP reset answering {@code offending} (RFC 793 "Reset Generation"): from its
     * destination back to its source; if it carried ACK, the reset's sequence number is that
     * acknowledgment, otherwise the reset acknowledges everything the segment occupied.
     */
    public static int tcpResetFor(final Ipv4Packet offending, final MutableDirectBuffer out, final int outOffset) {
        final MutableDirectBuffer in = offending.buffer();
        final int l4 = offending.l4Offset();
        final int flags = offending.tcpFlags();
        final long seq = in.getInt(l4 + 4, NET) & 0xFFFFFFFFL;
        final long ack = in.getInt(l4 + 8, NET) & 0xFFFFFFFFL;
        final int dataOffset = ((in.getByte(l4 + Ipv4Packet.TCP_OFFSET_DATA_OFFSET) & 0xFF) >>> 4) * 4;
        final int payload = offending.l4Length() - dataOffset;
        final int srcAddr = offending.dstAddr();
        final int dstAddr = offending.srcAddr();
        final int srcPort = offending.dstPort();
        final int dstPort = offending.srcPort();
        if ((flags & 0x10) != 0) {
            return tcp(out, outOffset, srcAddr, srcPort, dstAddr, dstPort, 0x04, ack, 0, 0);
        }
        final long occupied = payload + ((flags & 0x02) != 0 ? 1 : 0) + ((flags & 0x01) != 0 ? 1 : 0);
        return tcp(out, outOffset, srcAddr, srcPort, dstAddr, dstPort, 0x04 | 0x10, 0, (seq + occupied) & 0xFFFFFFFFL, 0);
    }

    /**
     * ICMP destination unreachable (type 3) with {@code code} answering {@code offending}, sent
     * from its destination address, quoting as much of it as fits in 576 bytes.
     */
    public static int icmpUnreachableFor(final Ipv4Packet offending, final int code, final MutableDirectBuffer out, final int outOffset) {
        final int quoted = Math.min(offending.totalLength(), ICMP_ERROR_MAX_LENGTH - 20 - Ipv4Packet.ICMP_HEADER);
        final int icmpLength = Ipv4Packet.ICMP_HEADER + quoted;
        final int icmp = outOffset + 20;
        ipv4Header(out, outOffset, IpProtocol.ICMP, offending.dstAddr(), offending.srcAddr(), 20 + icmpLength, 0, DEFAULT_TTL);
        out.putByte(icmp, (byte) Ipv4Packet.ICMP_DEST_UNREACHABLE);
        out.putByte(icmp + 1, (byte) code);
        out.putShort(icmp + Ipv4Packet.ICMP_OFFSET_CHECKSUM, (short) 0, NET);
        out.putInt(icmp + 4, 0, NET);
        out.putBytes(icmp + Ipv4Packet.ICMP_HEADER, offending.buffer(), offending.offset(), quoted);
        out.putShort(icmp + Ipv4Packet.ICMP_OFFSET_CHECKSUM, (short) Checksums.icmp(out, icmp, icmpLength), NET);
        return 20 + icmpLength;
    }
}
