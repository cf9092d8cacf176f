package dev.ferry.dataplane.packet;

import dev.ferry.nativeio.IpProtocol;
import org.agrona.MutableDirectBuffer;

import java.nio.ByteOrder;

/**
 * Flyweight over one IPv4 packet in a buffer (heap or off-heap), validated once by
 * {@link #wrap} and then read and written in place. One instance per worker, reused for
 * every packet: no allocation.
 *
 * <pre>
 *  IPv4 header (RFC 791), offsets from the start of the packet
 *   0      4      8             16    19             31
 *  +------+------+--------------+-----+---------------+
 *  |ver=4 | IHL  |     TOS      |     total length    |  0
 *  +------+------+--------------+-----+---------------+
 *  |        identification      |flags| frag offset   |  4
 *  +-------------+--------------+-----+---------------+
 *  |     TTL     |   protocol   |   header checksum   |  8
 *  +-------------+--------------+---------------------+
 *  |                 source address                   | 12
 *  |               destination address                | 16
 *  |          options (IHL > 5), then L4 ...          | 20
 *
 *  L4, offsets from l4Offset:   TCP/UDP/SCTP: 0 source port, 2 destination port
 *   TCP: 12 data offset, 13 flags, 16 checksum   UDP: 4 length, 6 checksum
 *   SCTP: 8 CRC32c                               ICMP: 0 type, 1 code, 2 checksum, 4 id/rest,
 *                                                      8 quoted IP packet (errors)
 * </pre>
 *
 * Every length field is checked against the bytes actually present before it is trusted; a
 * packet that fails is reported with a {@link DropReason}, never an exception. Bytes past the
 * IPv4 total length (link-layer padding) are ignored.
 */
public final class Ipv4Packet extends IpPacket {
    public static final int MIN_HEADER_LENGTH = 20;
    public static final int OFFSET_VERSION_IHL = 0;
    public static final int OFFSET_TOTAL_LENGTH = 2;
    public static final int OFFSET_IDENTIFICATION = 4;
    public static final int OFFSET_FLAGS_FRAGMENT = 6;
    public static final int OFFSET_TTL = 8;
    public static final int OFFSET_PROTOCOL = 9;
    public static final int OFFSET_CHECKSUM = 10;
    public static final int OFFSET_SOURCE = 12;
    public static final int OFFSET_DESTINATION = 16;

    public static final int TCP_MIN_HEADER = 20;
    public static final int TCP_OFFSET_DATA_OFFSET = 12;
    public static final int TCP_OFFSET_FLAGS = 13;
    public static final int TCP_OFFSET_CHECKSUM = 16;
    public static final int UDP_HEADER = 8;
    public static final int UDP_OFFSET_LENGTH = 4;
    public static final int UDP_OFFSET_CHECKSUM = 6;
    public static final int SCTP_COMMON_HEADER = 12;
    public static final int SCTP_OFFSET_CHECKSUM = 8;
    public static final int ICMP_HEADER = 8;
    public static final int ICMP_OFFSET_CHECKSUM = 2;

    public static final int ICMP_ECHO_REPLY = 0;
    public static final int ICMP_DEST_UNREACHABLE = 3;
    public static final int ICMP_ECHO_REQUEST = 8;
    public static final int ICMP_TIME_EXCEEDED = 11;
    public static final int ICMP_PARAMETER_PROBLEM = 12;
    public static final int ICMP_CODE_PORT_UNREACHABLE = 3;
    public static final int ICMP_CODE_FRAGMENTATION_NEEDED = 4;

    private static final int FLAG_MORE_FRAGMENTS = 0x2000;
    private static final int FRAGMENT_OFFSET_MASK = 0x1FFF;
    private static final ByteOrder NET = ByteOrder.BIG_ENDIAN;

    private int headerLength;
    private int totalLength;
    private int quotedHeaderLength;

    /**
     * Points this flyweight at the IPv4 packet at {@code offset} and validates it.
     *
     * @return null when the packet is well formed, else why it must be dropped
     */
    public DropReason wrap(final MutableDirectBuffer buffer, final int offset, final int capturedLength) {
        this.buffer = buffer;
        this.offset = offset;
        this.quotedPacket = false;
        if (capturedLength < MIN_HEADER_LENGTH) {
            return DropReason.TRUNCATED_IP_HEADER;
        }
        final int versionIhl = buffer.getByte(offset) & 0xFF;
        if ((versionIhl >>> 4) != 4) {
            return DropReason.BAD_IP_VERSION;
        }
        headerLength = (versionIhl & 0x0F) * 4;
        if (headerLength < MIN_HEADER_LENGTH || headerLength > capturedLength) {
            return DropReason.BAD_IHL;
        }
        totalLength = buffer.getShort(offset + OFFSET_TOTAL_LENGTH, NET) & 0xFFFF;
        if (totalLength < headerLength || totalLength > capturedLength) {
            return DropReason.BAD_TOTAL_LENGTH;
        }
        protocol = buffer.getByte(offset + OFFSET_PROTOCOL) & 0xFF;
        final int flagsFragment = buffer.getShort(offset + OFFSET_FLAGS_FRAGMENT, NET) & 0xFFFF;
        final int fragmentOffset = flagsFragment & FRAGMENT_OFFSET_MASK;
        fragment = fragmentOffset != 0 || (flagsFragment & FLAG_MORE_FRAGMENTS) != 0;
        firstFragment = fragmentOffset == 0;
        l4Offset = offset + headerLength;
        l4Length = totalLength - headerLength;
        if (!firstFragment) {
            return null; // no L4 header here: only addresses can be read
        }
        return validateL4();
    }

    private DropReason validateL4() {
        if (protocol != IpProtocol.ICMP) {
            return TransportHeaders.validate(buffer, protocol, l4Offset, l4Length, fragment);
        }
        if (l4Length < ICMP_HEADER) {
            return DropReason.BAD_ICMP;
        }
        return isIcmpError() ? parseQuotedPacket() : null;
    }

    /** The quoted packet of an ICMP error: its IP header and at least the 8 L4 bytes RFC 792 promises. */
    private DropReason parseQuotedPacket() {
        final int start = l4Offset + ICMP_HEADER;
        final int available = offset + totalLength - start;
        if (available < MIN_HEADER_LENGTH) {
            return DropReason.BAD_ICMP;
        }
        final int versionIhl = buffer.getByte(start) & 0xFF;
        final int ihl = (versionIhl & 0x0F) * 4;
        if ((versionIhl >>> 4) != 4 || ihl < MIN_HEADER_LENGTH || ihl > available) {
            return DropReason.BAD_ICMP;
        }
        quotedOffset = start;
        quotedHeaderLength = ihl;
        quotedProtocol = buffer.getByte(start + OFFSET_PROTOCOL) & 0xFF;
        quotedL4Offset = start + ihl;
        final int quotedFragment = buffer.getShort(start + OFFSET_FLAGS_FRAGMENT, NET) & FRAGMENT_OFFSET_MASK;
        quotedPorts = IpProtocol.hasPorts(quotedProtocol) && quotedFragment == 0 && available - ihl >= 8;
        quotedPacket = true;
        return null;
    }

    public int headerLength() {
        return headerLength;
    }

    public int totalLength() {
        return totalLength;
    }

    public int ttl() {
        return buffer.getByte(offset + OFFSET_TTL) & 0xFF;
    }

    public int identification() {
        return buffer.getShort(offset + OFFSET_IDENTIFICATION, NET) & 0xFFFF;
    }

    public int srcAddr() {
        return buffer.getInt(offset + OFFSET_SOURCE, NET);
    }

    public int dstAddr() {
        return buffer.getInt(offset + OFFSET_DESTINATION, NET);
    }

    /** Destination unreachable, time exceeded or parameter problem: ICMP messages that quote a packet. */
    public boolean isIcmpError() {
        if (protocol != IpProtocol.ICMP || !firstFragment) {
            return false;
        }
        final int type = icmpType();
        return type == ICMP_DEST_UNREACHABLE || type == ICMP_TIME_EXCEEDED || type == ICMP_PARAMETER_PROBLEM;
    }

    public int quotedHeaderLength() {
        return quotedHeaderLength;
    }

    public int quotedSrcAddr() {
        return buffer.getInt(quotedOffset + OFFSET_SOURCE, NET);
    }

    public int quotedDstAddr() {
        return buffer.getInt(quotedOffset + OFFSET_DESTINATION, NET);
    }

    /** Bytes of the ICMP message (header and quoted data), for checksum recomputation. */
    public int icmpLength() {
        return l4Length;
    }
}
