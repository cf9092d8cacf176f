package dev.ferry.dataplane.packet;

import dev.ferry.nativeio.IpProtocol;
import org.agrona.DirectBuffer;

import java.nio.ByteOrder;

/**
 * The checks on a TCP, UDP or SCTP header that IPv4 and IPv6 share ({@link Ipv4Packet},
 * {@link Ipv6Packet}): each length field against the bytes the IP layer says the upper layer
 * has. ICMP and ICMPv6 differ per family and stay with their flyweight.
 */
final class TransportHeaders {
    private static final ByteOrder NET = ByteOrder.BIG_ENDIAN;

    private TransportHeaders() {
    }

    /**
     * @param fragment true when the packet is the first fragment of several (its UDP length
     *                 covers every fragment, so only its floor can be checked)
     * @return null when the header is well formed or the protocol is none of the three, else why to drop it
     */
    static DropReason validate(final DirectBuffer buffer, final int protocol, final int l4Offset, final int l4Length,
                               final boolean fragment) {
        switch (protocol) {
            case IpProtocol.TCP -> {
                if (l4Length < Ipv4Packet.TCP_MIN_HEADER) {
                    return DropReason.BAD_TCP_HEADER;
                }
                final int dataOffset = ((buffer.getByte(l4Offset + Ipv4Packet.TCP_OFFSET_DATA_OFFSET) & 0xFF) >>> 4) * 4;
                if (dataOffset < Ipv4Packet.TCP_MIN_HEADER || dataOffset > l4Length) {
                    return DropReason.BAD_TCP_HEADER;
                }
            }
            case IpProtocol.UDP -> {
                if (l4Length < Ipv4Packet.UDP_HEADER) {
                    return DropReason.BAD_UDP_LENGTH;
                }
                final int udpLength = buffer.getShort(l4Offset + Ipv4Packet.UDP_OFFSET_LENGTH, NET) & 0xFFFF;
                if (udpLength < Ipv4Packet.UDP_HEADER || (!fragment && udpLength != l4Length)) {
                    return DropReason.BAD_UDP_LENGTH;
                }
            }
            case IpProtocol.SCTP -> {
                if (l4Length < Ipv4Packet.SCTP_COMMON_HEADER) {
                    return DropReason.BAD_SCTP_HEADER;
                }
            }
            default -> {
                // not a transport with ports: nothing to check here
            }
        }
        return null;
    }
}
