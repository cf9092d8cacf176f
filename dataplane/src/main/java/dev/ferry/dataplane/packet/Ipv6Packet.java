package dev.ferry.dataplane.packet;

import dev.ferry.nativeio.IpProtocol;
import org.agrona.MutableDirectBuffer;

import java.nio.ByteOrder;

/**
 * Flyweight over one IPv6 packet in a buffer (heap or off-heap), validated once by
 * {@link #wrap} and then read and written in place: the IPv6 counterpart of {@link Ipv4Packet},
 * with the same L4 accessors. One instance per queue, reused for every packet: no allocation.
 *
 * <pre>
 *  IPv6 header (RFC 8200), offsets from the start of the packet
 *   0      4              12                    24            31
 *  +------+---------------+---------------------+-------------+
 *  |ver=6 | traffic class |          flow label               |  0
 *  +------+---------------+---------------------+-------------+
 *  |        payload length          | next header | hop limit  |  4
 *  +--------------------------------+-------------+------------+
 *  |                 source address (128 bits)                 |  8
 *  |              destination address (128 bits)               | 24
 *  |   extension headers (next-header chain), then L4 ...      | 40
 *
 *  Extension headers: byte 0 next header, byte 1 length (hop-by-hop, routing, destination
 *  options: (len + 1) * 8 bytes; AH: (len + 2) * 4 bytes); fragment: 8 bytes, its 16-bit word
 *  at 2 holds the offset (bits 15-3, in 8-byte units) and M (bit 0).
 *  L4 as in Ipv4Packet; ICMPv6: 0 type, 1 code, 2 checksum (over the IPv6 pseudo-header),
 *  4 id/rest (MTU in Packet Too Big), 8 the quoted IPv6 packet (errors, types 1-4).
 * </pre>
 *
 * The extension-header chain is walked as netfilter's {@code ipv6_skip_exthdr} walks it: past
 * hop-by-hop, routing, fragment, AH and destination options to the upper layer; a non-first
 * fragment stops the walk (its protocol is the fragment header's next header and it has no L4
 * header), and no-next-header ends it with no upper layer. Every length, the payload length and
 * each extension header's, is checked against the bytes present before it is trusted; a packet
 * that fails is reported with a {@link DropReason}, never an exception. Bytes past the payload
 * (link padding) are ignored.
 */
public final class Ipv6Packet extends IpPacket {
    public static final int HEADER_LENGTH = 40;
    public static final int OFFSET_PAYLOAD_LENGTH = 4;
    public static final int OFFSET_NEXT_HEADER = 6;
    public static final int OFFSET_HOP_LIMIT = 7;
    public static final int OFFSET_SOURCE = 8;
    public static final int OFFSET_DESTINATION = 24;
    /** Bytes of one address. */
    public static final int ADDRESS_LENGTH = 16;

    public static final int ICMPV6_HEADER = 8;
    public static final int ICMPV6_OFFSET_CHECKSUM = 2;
    public static final int ICMPV6_OFFSET_MTU = 4;
    public static final int ICMPV6_DEST_UNREACHABLE = 1;
    public static final int ICMPV6_PACKET_TOO_BIG = 2;
    public static final int ICMPV6_TIME_EXCEEDED = 3;
    public static final int ICMPV6_PARAMETER_PROBLEM = 4;
    public static final int ICMPV6_ECHO_REQUEST = 128;
    public static final int ICMPV6_ECHO_REPLY = 129;
    public static final int ICMPV6_CODE_PORT_UNREACHABLE = 4;

    private static final int EXTENSION_MIN = 8;
    private static final int FRAGMENT_OFFSET_MASK = 0xFFF8;
    private static final ByteOrder NET = ByteOrder.BIG_ENDIAN;

    private int payloadLength;

    // What the last walk of an extension-header chain found (one walk at a time, no allocation).
    private int walkProtocol;
    private int walkEnd;
    private boolean walkFragment;
    private boolean walkFirstFragment;

    /**
     * Points this flyweight at the IPv6 packet at {@code offset} and validates it.
     *
     * @return null when the packet is well formed, else why it must be dropped
     */
    public DropReason wrap(final MutableDirectBuffer buffer, final int offset, final int capturedLength) {
        this.buffer = buffer;
        this.offset = offset;
        this.quotedPacket = false;
        if (capturedLength < HEADER_LENGTH) {
            return DropReason.TRUNCATED_IPV6_HEADER;
        }
        if ((buffer.getByte(offset) & 0xF0) != 0x60) {
            return DropReason.BAD_IP_VERSION;
        }
        payloadLength = buffer.getShort(offset + OFFSET_PAYLOAD_LENGTH, NET) & 0xFFFF;
        final int nextHeader = buffer.getByte(offset + OFFSET_NEXT_HEADER) & 0xFF;
        // Zero with a payload is a jumbogram (RFC 2675; BIG TCP): its length is in a hop-by-hop option.
        if (HEADER_LENGTH + payloadLength > capturedLength || (payloadLength == 0 && nextHeader != IpProtocol.IPV6_NO_NEXT_HEADER)) {
            return DropReason.BAD_IPV6_PAYLOAD_LENGTH;
        }
        final int end = offset + HEADER_LENGTH + payloadLength;
        if (!walk(nextHeader, offset + HEADER_LENGTH, end)) {
            return DropReason.BAD_IPV6_EXTENSION_HEADER;
        }
        protocol = walkProtocol;
        l4Offset = walkEnd;
        l4Length = end - walkEnd;
        fragment = walkFragment;
        firstFragment = walkFirstFragment;
        if (!firstFragment || protocol == IpProtocol.IPV6_NO_NEXT_HEADER) {
            return null; // no L4 header here: only addresses can be read
        }
        return validateL4();
    }

    /**
     * Walks the next-header chain from {@code nextHeader} at {@code start}, every header inside
     * {@code end}; sets the walk's fields. False when a header is cut short or runs past {@code end}.
     */
    private boolean walk(final int nextHeader, final int start, final int end) {
        int next = nextHeader;
        int at = start;
        walkFragment = false;
        walkFirstFragment = true;
        while (IpProtocol.isIpv6ExtensionHeader(next) && next != IpProtocol.IPV6_NO_NEXT_HEADER) {
            if (at + EXTENSION_MIN > end) {
                return false;
            }
            final int length;
            if (next == IpProtocol.IPV6_FRAGMENT) {
                final int fragmentWord = buffer.getShort(at + 2, NET) & 0xFFFF;
                walkFragment = true;
                if ((fragmentWord & FRAGMENT_OFFSET_MASK) != 0) {
                    walkFirstFragment = false;
                    walkProtocol = buffer.getByte(at) & 0xFF;
                    walkEnd = at + EXTENSION_MIN;
                    return true; // a later fragment: what follows is payload, not headers
                }
                length = EXTENSION_MIN;
            } else if (next == IpProtocol.AH) {
                length = ((buffer.getByte(at + 1) & 0xFF) + 2) * 4;
            } else {
                length = ((buffer.getByte(at + 1) & 0xFF) + 1) * 8;
            }
            if (at + length > end) {
                return false;
            }
            next = buffer.getByte(at) & 0xFF;
            at += length;
        }
        walkProtocol = next;
        walkEnd = at;
        return true;
    }

    private DropReason validateL4() {
        if (protocol != IpProtocol.ICMPV6) {
            return TransportHeaders.validate(buffer, protocol, l4Offset, l4Length, fragment);
        }
        if (l4Length < ICMPV6_HEADER) {
            return DropReason.BAD_ICMP;
        }
        return isIcmpError() ? parseQuotedPacket() : null;
    }

    /**
     * The quoted packet of an ICMPv6 error: its IPv6 header and extension headers inside what
     * was quoted (its payload length speaks of the original and is not checked), and its ports
     * when 8 bytes of its upper layer are there.
     */
    private DropReason parseQuotedPacket() {
        final int start = l4Offset + ICMPV6_HEADER;
        final int end = l4Offset + l4Length;
        if (end - start < HEADER_LENGTH || (buffer.getByte(start) & 0xF0) != 0x60) {
            return DropReason.BAD_ICMP;
        }
        if (!walk(buffer.getByte(start + OFFSET_NEXT_HEADER) & 0xFF, start + HEADER_LENGTH, end)) {
            return DropReason.BAD_ICMP;
        }
        quotedOffset = start;
        quotedProtocol = walkProtocol;
        quotedL4Offset = walkEnd;
        quotedPorts = IpProtocol.hasPorts(walkProtocol) && walkFirstFragment && end - walkEnd >= 8;
        quotedPacket = true;
        return null;
    }

    public int payloadLength() {
        return payloadLength;
    }

    /** Header and payload: the bytes this packet covers. */
    public int totalLength() {
        return HEADER_LENGTH + payloadLength;
    }

    /** The next header of the fixed header: the first extension header, or the upper layer. */
    public int nextHeader() {
        return buffer.getByte(offset + OFFSET_NEXT_HEADER) & 0xFF;
    }

    public int hopLimit() {
        return buffer.getByte(offset + OFFSET_HOP_LIMIT) & 0xFF;
    }

    /** First 8 bytes of the source address, network order (as {@code FlowKey} holds them). */
    public long srcHi() {
        return buffer.getLong(offset + OFFSET_SOURCE, NET);
    }

    public long srcLo() {
        return buffer.getLong(offset + OFFSET_SOURCE + 8, NET);
    }

    public long dstHi() {
        return buffer.getLong(offset + OFFSET_DESTINATION, NET);
    }

    public long dstLo() {
        return buffer.getLong(offset + OFFSET_DESTINATION + 8, NET);
    }

    /** Destination unreachable, packet too big, time exceeded, parameter problem: ICMPv6 messages that quote a packet. */
    public boolean isIcmpError() {
        if (protocol != IpProtocol.ICMPV6 || !firstFragment) {
            return false;
        }
        final int type = icmpType();
        return type >= ICMPV6_DEST_UNREACHABLE && type <= ICMPV6_PARAMETER_PROBLEM;
    }

    public long quotedSrcHi() {
        return buffer.getLong(quotedOffset + OFFSET_SOURCE, NET);
    }

    public long quotedSrcLo() {
        return buffer.getLong(quotedOffset + OFFSET_SOURCE + 8, NET);
    }

    public long quotedDstHi() {
        return buffer.getLong(quotedOffset + OFFSET_DESTINATION, NET);
    }

    public long quotedDstLo() {
        return buffer.getLong(quotedOffset + OFFSET_DESTINATION + 8, NET);
    }
}
