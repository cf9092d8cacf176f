package dev.ferry.dataplane.packet;

import dev.ferry.nativeio.IpProtocol;
import org.agrona.DirectBuffer;

import java.nio.ByteOrder;

/**
 * The Internet checksum (RFC 1071), its incremental update (RFC 1624) and CRC32c for SCTP
 * (RFC 4960 appendix B). Static and allocation-free; used by the NAT rewrite on the hot path
 * and, in full-recompute form, by REJECT packets, ICMP error translation and tests.
 */
public final class Checksums {
    private static final ByteOrder NET = ByteOrder.BIG_ENDIAN;
    private static final int[] CRC32C_TABLE = crc32cTable();

    private Checksums() {
    }

    /** Adds the 16-bit big-endian words of {@code length} bytes to {@code sum} (odd tail padded with zero). */
    public static long sum(final DirectBuffer buffer, final int offset, final int length, final long sum) {
        long acc = sum;
        int i = 0;
        for (; i + 1 < length; i += 2) {
            acc += buffer.getShort(offset + i, NET) & 0xFFFF;
        }
        if (i < length) {
            acc += (buffer.getByte(offset + i) & 0xFF) << 8;
        }
        return acc;
    }

    /** Folds a sum to 16 bits and complements it: the value to store in a checksum field. */
    public static int finish(final long sum) {
        long s = sum;
        while ((s >>> 16) != 0) {
            s = (s & 0xFFFF) + (s >>> 16);
        }
        return (int) (~s & 0xFFFF);
    }

    /** IPv4 header checksum computed from scratch. */
    public static int ipv4Header(final DirectBuffer buffer, final int ipOffset, final int headerLength) {
        final long all = sum(buffer, ipOffset, headerLength, 0);
        final int field = buffer.getShort(ipOffset + Ipv4Packet.OFFSET_CHECKSUM, NET) & 0xFFFF;
        return finish(all - field);
    }

    /**
     * TCP or UDP checksum computed from scratch over the pseudo-header and the whole L4 segment
     * (which must be complete: not a fragment). For UDP a computed zero is returned as 0xFFFF.
     */
    public static int transport(final DirectBuffer buffer, final int ipOffset, final int protocol, final int l4Offset, final int l4Length) {
        final long pseudo = pseudoHeaderSum(buffer, ipOffset, protocol, l4Length);
        final int fieldOffset = l4Offset + (protocol == IpProtocol.TCP ? Ipv4Packet.TCP_OFFSET_CHECKSUM : Ipv4Packet.UDP_OFFSET_CHECKSUM);
        final long all = sum(buffer, l4Offset, l4Length, pseudo);
        final int field = buffer.getShort(fieldOffset, NET) & 0xFFFF;
        final int result = finish(all - field);
        return protocol == IpProtocol.UDP && result == 0 ? 0xFFFF : result;
    }

    /**
     * What a partial (CHECKSUM_PARTIAL, virtio NEEDS_CSUM) TCP or UDP checksum field holds: the
     * IPv4 pseudo-header sum for {@code l4Length} bytes, folded and not complemented; the kernel
     * adds the segment's own words and complements it when it finishes the checksum.
     */
    public static int pseudoHeaderPartial(final DirectBuffer buffer, final int ipOffset, final int protocol, final int l4Length) {
        return ~finish(pseudoHeaderSum(buffer, ipOffset, protocol, l4Length)) & 0xFFFF;
    }

    private static long pseudoHeaderSum(final DirectBuffer buffer, final int ipOffset, final int protocol, final int l4Length) {
        long pseudo = 0;
        pseudo += buffer.getShort(ipOffset + Ipv4Packet.OFFSET_SOURCE, NET) & 0xFFFF;
        pseudo += buffer.getShort(ipOffset + Ipv4Packet.OFFSET_SOURCE + 2, NET) & 0xFFFF;
        pseudo += buffer.getShort(ipOffset + Ipv4Packet.OFFSET_DESTINATION, NET) & 0xFFFF;
        pseudo += buffer.getShort(ipOffset + Ipv4Packet.OFFSET_DESTINATION + 2, NET) & 0xFFFF;
        pseudo += protocol;
        pseudo += l4Length;
        return pseudo;
    }

    /**
     * TCP, UDP or ICMPv6 checksum computed from scratch over the IPv6 pseudo-header (RFC 8200
     * section 8.1: both addresses, the upper-layer length, the next header) and the whole
     * upper-layer message. For UDP a computed zero is returned as 0xFFFF.
     */
    public static int transport6(final DirectBuffer buffer, final int ipOffset, final int protocol, final int l4Offset, final int l4Length) {
        final int fieldOffset = l4Offset + switch (protocol) {
            case IpProtocol.TCP -> Ipv4Packet.TCP_OFFSET_CHECKSUM;
            case IpProtocol.UDP -> Ipv4Packet.UDP_OFFSET_CHECKSUM;
            default -> Ipv6Packet.ICMPV6_OFFSET_CHECKSUM;
        };
        final long all = sum(buffer, l4Offset, l4Length, pseudoHeaderSum6(buffer, ipOffset, protocol, l4Length));
        final int field = buffer.getShort(fieldOffset, NET) & 0xFFFF;
        final int result = finish(all - field);
        return protocol == IpProtocol.UDP && result == 0 ? 0xFFFF : result;
    }

    /** {@link #pseudoHeaderPartial} for IPv6: the IPv6 pseudo-header sum, folded and not complemented. */
    public static int pseudoHeaderPartial6(final DirectBuffer buffer, final int ipOffset, final int protocol, final int l4Length) {
        return ~finish(pseudoHeaderSum6(buffer, ipOffset, protocol, l4Length)) & 0xFFFF;
    }

    private static long pseudoHeaderSum6(final DirectBuffer buffer, final int ipOffset, final int protocol, final int l4Length) {
        // source and destination lie side by side: 32 bytes from the source on
        final long addresses = sum(buffer, ipOffset + Ipv6Packet.OFFSET_SOURCE, 2 * Ipv6Packet.ADDRESS_LENGTH, 0);
        return addresses + (l4Length >>> 16) + (l4Length & 0xFFFF) + protocol;
    }

    /** ICMP checksum computed from scratch over the whole ICMP message (no pseudo-header). */
    public static int icmp(final DirectBuffer buffer, final int icmpOffset, final int icmpLength) {
        final long all = sum(buffer, icmpOffset, icmpLength, 0);
        final int field = buffer.getShort(icmpOffset + Ipv4Packet.ICMP_OFFSET_CHECKSUM, NET) & 0xFFFF;
        return finish(all - field);
    }

    /** RFC 1624 eqn. 3: the checksum after one 16-bit word changed from {@code oldWord} to {@code newWord}. */
    public static int update16(final int checksum, final int oldWord, final int newWord) {
        long sum = (~checksum & 0xFFFF) + (~oldWord & 0xFFFF) + (newWord & 0xFFFF);
        sum = (sum & 0xFFFF) + (sum >>> 16);
        sum = (sum & 0xFFFF) + (sum >>> 16);
        return (int) (~sum & 0xFFFF);
    }

    /** The checksum after a 32-bit value (an address) changed: two word updates. */
    public static int update32(final int checksum, final int oldValue, final int newValue) {
        return applyChanges(checksum, change32(oldValue, newValue));
    }

    /** One 32-bit value's change (an IPv4 address), for {@link #applyChanges}. */
    public static long change32(final int oldValue, final int newValue) {
        return 2 * 0xFFFFL - (oldValue >>> 16) - (oldValue & 0xFFFF) + (newValue >>> 16) + (newValue & 0xFFFF);
    }

    /**
     * One 64-bit value's change as RFC 1624 eqn. 3 adds it, {@code ~m + m'} over its four words
     * (never negative). Changes add up: pass their sum to {@link #applyChanges} to update a
     * checksum for all of them with one fold instead of a fold per word (a NAT rewrite changes
     * up to 18 words of a checksum's coverage; folding once made IPv6's 2.7x cheaper, JMH).
     */
    public static long change64(final long oldValue, final long newValue) {
        return 4 * 0xFFFFL - words(oldValue) + words(newValue);
    }

    /** One 16-bit word's change (a port), for {@link #applyChanges}. */
    public static long change16(final int oldWord, final int newWord) {
        return 0xFFFFL - (oldWord & 0xFFFF) + (newWord & 0xFFFF);
    }

    /** The checksum after the changes summed from {@link #change64} and {@link #change16}: ~(~HC + the changes). */
    public static int applyChanges(final int checksum, final long changes) {
        long sum = (~checksum & 0xFFFF) + changes;
        sum = (sum & 0xFFFF) + (sum >>> 16);
        sum = (sum & 0xFFFF) + (sum >>> 16);
        sum = (sum & 0xFFFF) + (sum >>> 16);
        return (int) (~sum & 0xFFFF);
    }

    private static long words(final long v) {
        return (v >>> 48) + ((v >>> 32) & 0xFFFF) + ((v >>> 16) & 0xFFFF) + (v & 0xFFFF);
    }

    /**
     * CRC32c (Castagnoli) of an SCTP packet with its checksum field taken as zero, as the
     * value to store at offset 8 in little-endian order (RFC 4960 appendix B, as Linux does).
     */
    public static int sctp(final DirectBuffer buffer, final int sctpOffset, final int length) {
        int crc = 0xFFFFFFFF;
        for (int i = 0; i < length; i++) {
            final int rel = i - Ipv4Packet.SCTP_OFFSET_CHECKSUM;
            final int b = rel >= 0 && rel < 4 ? 0 : buffer.getByte(sctpOffset + i) & 0xFF;
            crc = CRC32C_TABLE[(crc ^ b) & 0xFF] ^ (crc >>> 8);
        }
        return ~crc;
    }

    private static int[] crc32cTable() {
        final int[] table = new int[256];
        for (int n = 0; n < 256; n++) {
            int c = n;
            for (int k = 0; k < 8; k++) {
                c = (c & 1) != 0 ? 0x82F63B78 ^ (c >>> 1) : c >>> 1;
            }
            table[n] = c;
        }
        return table;
    }
}
