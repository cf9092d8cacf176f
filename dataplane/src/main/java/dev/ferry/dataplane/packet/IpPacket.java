package dev.ferry.dataplane.packet;

import dev.ferry.nativeio.IpProtocol;
import org.agrona.MutableDirectBuffer;

import java.nio.ByteOrder;

/**
 * What {@link Ipv4Packet} and {@link Ipv6Packet} have in common once a packet is wrapped: where
 * it lies, its upper-layer protocol and header, and the packet an ICMP or ICMPv6 error quotes.
 * Each flyweight's {@code wrap} fills these fields after validating what they point at; the
 * address accessors and the ICMP type numbers differ per family and stay there.
 */
public abstract sealed class IpPacket permits Ipv4Packet, Ipv6Packet {
    private static final ByteOrder NET = ByteOrder.BIG_ENDIAN;

    MutableDirectBuffer buffer;
    int offset;
    int protocol;
    int l4Offset;
    int l4Length;
    boolean fragment;
    boolean firstFragment;

    // The packet quoted inside an ICMP error (valid when hasQuotedPacket()).
    boolean quotedPacket;
    int quotedOffset;
    int quotedProtocol;
    int quotedL4Offset;
    boolean quotedPorts;

    IpPacket() {
    }

    public final MutableDirectBuffer buffer() {
        return buffer;
    }

    /** Offset of the IP header in {@link #buffer()}. */
    public final int offset() {
        return offset;
    }

    /** The upper-layer protocol (IPv6: what the extension-header chain leads to). */
    public final int protocol() {
        return protocol;
    }

    /** True for a fragment, the first or a later one. */
    public final boolean isFragment() {
        return fragment;
    }

    /** True unless a later fragment: the upper-layer header (and its checksum) is in this packet. */
    public final boolean hasUpperLayerHeader() {
        return firstFragment;
    }

    /** True when ports can be read: TCP, UDP or SCTP with its header present. */
    public final boolean hasPorts() {
        return firstFragment && IpProtocol.hasPorts(protocol);
    }

    /** Absolute offset of the upper-layer header in the buffer. */
    public final int l4Offset() {
        return l4Offset;
    }

    public final int l4Length() {
        return l4Length;
    }

    public final int srcPort() {
        return buffer.getShort(l4Offset, NET) & 0xFFFF;
    }

    public final int dstPort() {
        return buffer.getShort(l4Offset + 2, NET) & 0xFFFF;
    }

    /** TCP flags byte (FIN 0x01, SYN 0x02, RST 0x04, PSH 0x08, ACK 0x10), 0 for other protocols. */
    public final int tcpFlags() {
        return protocol == IpProtocol.TCP && firstFragment ? buffer.getByte(l4Offset + Ipv4Packet.TCP_OFFSET_FLAGS) & 0xFF : 0;
    }

    public final int icmpType() {
        return buffer.getByte(l4Offset) & 0xFF;
    }

    public final int icmpCode() {
        return buffer.getByte(l4Offset + 1) & 0xFF;
    }

    /** True for an ICMP (ICMPv6) error whose quoted IP header parsed. */
    public final boolean hasQuotedPacket() {
        return quotedPacket;
    }

    public final int quotedOffset() {
        return quotedOffset;
    }

    public final int quotedProtocol() {
        return quotedProtocol;
    }

    public final int quotedL4Offset() {
        return quotedL4Offset;
    }

    /** True when the quoted packet's ports are present (TCP/UDP/SCTP, first fragment, 8 bytes quoted). */
    public final boolean quotedHasPorts() {
        return quotedPorts;
    }

    public final int quotedSrcPort() {
        return buffer.getShort(quotedL4Offset, NET) & 0xFFFF;
    }

    public final int quotedDstPort() {
        return buffer.getShort(quotedL4Offset + 2, NET) & 0xFFFF;
    }
}
