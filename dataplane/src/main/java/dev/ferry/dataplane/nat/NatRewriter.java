package dev.ferry.dataplane.nat;

import dev.ferry.dataplane.packet.Checksums;
import dev.ferry.dataplane.packet.Ipv4Packet;
import dev.ferry.dataplane.packet.Ipv6Packet;
import dev.ferry.nativeio.IpProtocol;
import org.agrona.MutableDirectBuffer;

import java.nio.ByteOrder;

/**
 * Rewrites addresses and ports in place and keeps every checksum right:
 * <ul>
 *   <li>IPv4 header and TCP/UDP checksums are updated incrementally (RFC 1624), so the cost
 *       does not depend on the payload; a UDP checksum of zero ("none") stays zero;</li>
 *   <li>SCTP's CRC32c covers no pseudo-header but does cover the ports, so it is recomputed;</li>
 *   <li>a non-first fragment carries no L4 header: only its addresses change (the L4
 *       checksum, which lives in the first fragment, was updated there for the pseudo-header);</li>
 *   <li>an ICMP error quoting a translated packet gets its quoted header and ports translated
 *       as well as its outer addresses, and its checksum recomputed.</li>
 * </ul>
 * Stateless and allocation-free.
 */
public final class NatRewriter {
    private static final ByteOrder NET = ByteOrder.BIG_ENDIAN;

    private NatRewriter() {
    }

    /** Sets source and destination address and port of {@code packet} (ports ignored when it has none). */
    public static void translate(final Ipv4Packet packet, final int srcAddr, final int srcPort, final int dstAddr, final int dstPort) {
        translate(packet, srcAddr, srcPort, dstAddr, dstPort, false);
    }

    /**
     * As {@link #translate(Ipv4Packet, int, int, int, int)}; with {@code l4ChecksumPartial} the
     * TCP/UDP checksum field is not yet a checksum but the sender's uncomplemented
     * pseudo-header sum (CHECKSUM_PARTIAL: a virtio_net_hdr with NEEDS_CSUM), which the
     * device completes later over the segment as it then is. Only the addresses are in that
     * sum, so only they are folded in, uncomplemented, as netfilter does for such packets.
     */
    public static void translate(final Ipv4Packet packet, final int srcAddr, final int srcPort, final int dstAddr, final int dstPort,
                                 final boolean l4ChecksumPartial) {
        final MutableDirectBuffer buffer = packet.buffer();
        final int oldSrc = packet.srcAddr();
        final int oldDst = packet.dstAddr();
        rewriteAddresses(buffer, packet.offset(), srcAddr, dstAddr);

        if (!packet.hasPorts()) {
            return;
        }
        final int l4 = packet.l4Offset();
        final int oldSrcPort = packet.srcPort();
        final int oldDstPort = packet.dstPort();
        buffer.putShort(l4, (short) srcPort, NET);
        buffer.putShort(l4 + 2, (short) dstPort, NET);
        if (l4ChecksumPartial && (packet.protocol() == IpProtocol.TCP || packet.protocol() == IpProtocol.UDP)) {
            final int field = l4 + (packet.protocol() == IpProtocol.TCP ? Ipv4Packet.TCP_OFFSET_CHECKSUM : Ipv4Packet.UDP_OFFSET_CHECKSUM);
            final int partial = buffer.getShort(field, NET) & 0xFFFF;
            final int complemented = Checksums.applyChanges(~partial & 0xFFFF,
                Checksums.change32(oldSrc, srcAddr) + Checksums.change32(oldDst, dstAddr));
            buffer.putShort(field, (short) (~complemented & 0xFFFF), NET);
            return;
        }
        switch (packet.protocol()) {
            case IpProtocol.TCP -> updateL4Checksum(buffer, l4 + Ipv4Packet.TCP_OFFSET_CHECKSUM, false,
                oldSrc, srcAddr, oldDst, dstAddr, oldSrcPort, srcPort, oldDstPort, dstPort);
            case IpProtocol.UDP -> updateL4Checksum(buffer, l4 + Ipv4Packet.UDP_OFFSET_CHECKSUM, true,
                oldSrc, srcAddr, oldDst, dstAddr, oldSrcPort, srcPort, oldDstPort, dstPort);
            case IpProtocol.SCTP -> {
                if (!packet.isFragment()) {
                    writeSctpChecksum(buffer, l4, packet.l4Length());
                }
            }
            default -> {
            }
        }
    }

    /**
     * Translates an ICMP error about a flow: the quoted packet becomes
     * (quotedSrc:quotedSrcPort → quotedDst:quotedDstPort) and the outer header (outerSrc → outerDst).
     * The ICMP checksum is recomputed over the whole message: every part of it may have changed.
     */
    public static void translateIcmpError(final Ipv4Packet packet, final int outerSrc, final int outerDst,
                                          final int quotedSrc, final int quotedSrcPort, final int quotedDst, final int quotedDstPort) {
        final MutableDirectBuffer buffer = packet.buffer();
        final int q = packet.quotedOffset();
        final int oldQuotedSrc = packet.quotedSrcAddr();
        final int oldQuotedDst = packet.quotedDstAddr();
        rewriteAddresses(buffer, q, quotedSrc, quotedDst);

        if (packet.quotedHasPorts()) {
            final int ql4 = packet.quotedL4Offset();
            final int oldSrcPort = packet.quotedSrcPort();
            final int oldDstPort = packet.quotedDstPort();
            buffer.putShort(ql4, (short) quotedSrcPort, NET);
            buffer.putShort(ql4 + 2, (short) quotedDstPort, NET);
            // The quoted L4 checksum is only present if enough was quoted (UDP: 8 bytes, TCP: 18).
            final int quotedEnd = packet.offset() + packet.totalLength();
            if (packet.quotedProtocol() == IpProtocol.UDP && ql4 + 8 <= quotedEnd) {
                updateL4Checksum(buffer, ql4 + Ipv4Packet.UDP_OFFSET_CHECKSUM, true,
                    oldQuotedSrc, quotedSrc, oldQuotedDst, quotedDst, oldSrcPort, quotedSrcPort, oldDstPort, quotedDstPort);
            } else if (packet.quotedProtocol() == IpProtocol.TCP && ql4 + 18 <= quotedEnd) {
                updateL4Checksum(buffer, ql4 + Ipv4Packet.TCP_OFFSET_CHECKSUM, false,
                    oldQuotedSrc, quotedSrc, oldQuotedDst, quotedDst, oldSrcPort, quotedSrcPort, oldDstPort, quotedDstPort);
            }
        }

        rewriteAddresses(buffer, packet.offset(), outerSrc, outerDst);

        final int icmp = packet.l4Offset();
        buffer.putShort(icmp + Ipv4Packet.ICMP_OFFSET_CHECKSUM, (short) Checksums.icmp(buffer, icmp, packet.icmpLength()), NET);
    }

    /**
     * The IPv6 counterpart of {@link #translate(Ipv4Packet, int, int, int, int, boolean)}:
     * addresses as two halves each (network order, as {@code FlowKey} holds them). IPv6 has no
     * header checksum; the TCP, UDP and ICMPv6 checksums cover the addresses through the
     * pseudo-header and are updated incrementally (any ICMPv6 message, whose identifier or quote
     * is not rewritten here); SCTP's CRC32c is recomputed as for IPv4. A partial TCP/UDP checksum gets only
     * the address change folded in, uncomplemented.
     */
    public static void translate(final Ipv6Packet packet, final long srcHi, final long srcLo, final int srcPort,
                                 final long dstHi, final long dstLo, final int dstPort, final boolean l4ChecksumPartial) {
        final MutableDirectBuffer buffer = packet.buffer();
        final int ip = packet.offset();
        final long oldSrcHi = packet.srcHi();
        final long oldSrcLo = packet.srcLo();
        final long oldDstHi = packet.dstHi();
        final long oldDstLo = packet.dstLo();
        writeAddresses6(buffer, ip, srcHi, srcLo, dstHi, dstLo);

        final int l4 = packet.l4Offset();
        if (packet.protocol() == IpProtocol.ICMPV6 && packet.hasUpperLayerHeader()) { // echo, or an error whose quote is left as it is
            final int field = l4 + Ipv6Packet.ICMPV6_OFFSET_CHECKSUM;
            final int checksum = addressesDelta6(buffer.getShort(field, NET) & 0xFFFF,
                oldSrcHi, oldSrcLo, srcHi, srcLo, oldDstHi, oldDstLo, dstHi, dstLo);
            buffer.putShort(field, (short) checksum, NET);
            return;
        }
        if (!packet.hasPorts()) {
            return;
        }
        final int oldSrcPort = packet.srcPort();
        final int oldDstPort = packet.dstPort();
        buffer.putShort(l4, (short) srcPort, NET);
        buffer.putShort(l4 + 2, (short) dstPort, NET);
        final int protocol = packet.protocol();
        if (protocol == IpProtocol.SCTP) {
            if (!packet.isFragment()) {
                writeSctpChecksum(buffer, l4, packet.l4Length());
            }
            return;
        }
        if (protocol != IpProtocol.TCP && protocol != IpProtocol.UDP) {
            return;
        }
        final int field = l4 + (protocol == IpProtocol.TCP ? Ipv4Packet.TCP_OFFSET_CHECKSUM : Ipv4Packet.UDP_OFFSET_CHECKSUM);
        final int stored = buffer.getShort(field, NET) & 0xFFFF;
        if (l4ChecksumPartial) {
            final int complemented = addressesDelta6(~stored & 0xFFFF, oldSrcHi, oldSrcLo, srcHi, srcLo, oldDstHi, oldDstLo, dstHi, dstLo);
            buffer.putShort(field, (short) (~complemented & 0xFFFF), NET);
            return;
        }
        final boolean udp = protocol == IpProtocol.UDP;
        if (udp && stored == 0) {
            return; // no checksum sent (invalid for IPv6 but for tunnels, RFC 6935): nothing to keep right
        }
        final int checksum = Checksums.applyChanges(stored, addressChanges6(oldSrcHi, oldSrcLo, srcHi, srcLo, oldDstHi, oldDstLo, dstHi, dstLo)
            + Checksums.change16(oldSrcPort, srcPort) + Checksums.change16(oldDstPort, dstPort));
        buffer.putShort(field, (short) (udp && checksum == 0 ? 0xFFFF : checksum), NET);
    }

    /**
     * The IPv6 counterpart of {@link #translateIcmpError}: the quoted packet becomes
     * (quotedSrc:quotedSrcPort → quotedDst:quotedDstPort), its L4 checksum updated when quoted,
     * and the outer header (outerSrc → outerDst); the ICMPv6 checksum, which covers the outer
     * addresses too, is recomputed over the whole message. A Packet Too Big keeps its MTU.
     */
    public static void translateIcmpError(final Ipv6Packet packet, final long outerSrcHi, final long outerSrcLo,
                                          final long outerDstHi, final long outerDstLo,
                                          final long quotedSrcHi, final long quotedSrcLo, final int quotedSrcPort,
                                          final long quotedDstHi, final long quotedDstLo, final int quotedDstPort) {
        final MutableDirectBuffer buffer = packet.buffer();
        final int q = packet.quotedOffset();
        final long oldSrcHi = packet.quotedSrcHi();
        final long oldSrcLo = packet.quotedSrcLo();
        final long oldDstHi = packet.quotedDstHi();
        final long oldDstLo = packet.quotedDstLo();
        writeAddresses6(buffer, q, quotedSrcHi, quotedSrcLo, quotedDstHi, quotedDstLo);
        if (packet.quotedHasPorts()) {
            final int ql4 = packet.quotedL4Offset();
            final int oldSrcPort = packet.quotedSrcPort();
            final int oldDstPort = packet.quotedDstPort();
            buffer.putShort(ql4, (short) quotedSrcPort, NET);
            buffer.putShort(ql4 + 2, (short) quotedDstPort, NET);
            final int quotedEnd = packet.l4Offset() + packet.l4Length();
            final int field;
            if (packet.quotedProtocol() == IpProtocol.UDP && ql4 + 8 <= quotedEnd) {
                field = ql4 + Ipv4Packet.UDP_OFFSET_CHECKSUM;
            } else if (packet.quotedProtocol() == IpProtocol.TCP && ql4 + 18 <= quotedEnd) {
                field = ql4 + Ipv4Packet.TCP_OFFSET_CHECKSUM;
            } else {
                field = -1;
            }
            final int stored = field < 0 ? 0 : buffer.getShort(field, NET) & 0xFFFF;
            final boolean noChecksum = field < 0 || (packet.quotedProtocol() == IpProtocol.UDP && stored == 0);
            if (!noChecksum) {
                final int checksum = Checksums.applyChanges(stored, addressChanges6(oldSrcHi, oldSrcLo, quotedSrcHi, quotedSrcLo,
                    oldDstHi, oldDstLo, quotedDstHi, quotedDstLo)
                    + Checksums.change16(oldSrcPort, quotedSrcPort) + Checksums.change16(oldDstPort, quotedDstPort));
                buffer.putShort(field, (short) checksum, NET);
            }
        }
        writeAddresses6(buffer, packet.offset(), outerSrcHi, outerSrcLo, outerDstHi, outerDstLo);
        final int icmp = packet.l4Offset();
        buffer.putShort(icmp + Ipv6Packet.ICMPV6_OFFSET_CHECKSUM,
            (short) Checksums.transport6(buffer, packet.offset(), IpProtocol.ICMPV6, icmp, packet.l4Length()), NET);
    }

    private static void writeAddresses6(final MutableDirectBuffer buffer, final int ip, final long srcHi, final long srcLo,
                                        final long dstHi, final long dstLo) {
        buffer.putLong(ip + Ipv6Packet.OFFSET_SOURCE, srcHi, NET);
        buffer.putLong(ip + Ipv6Packet.OFFSET_SOURCE + 8, srcLo, NET);
        buffer.putLong(ip + Ipv6Packet.OFFSET_DESTINATION, dstHi, NET);
        buffer.putLong(ip + Ipv6Packet.OFFSET_DESTINATION + 8, dstLo, NET);
    }

    /** {@code checksum} after both addresses changed (a checksum or a complemented partial sum). */
    private static int addressesDelta6(final int checksum, final long oldSrcHi, final long oldSrcLo, final long srcHi, final long srcLo,
                                       final long oldDstHi, final long oldDstLo, final long dstHi, final long dstLo) {
        return Checksums.applyChanges(checksum, addressChanges6(oldSrcHi, oldSrcLo, srcHi, srcLo, oldDstHi, oldDstLo, dstHi, dstLo));
    }

    /** Both addresses' change, summed for one fold ({@link Checksums#applyChanges}). */
    private static long addressChanges6(final long oldSrcHi, final long oldSrcLo, final long srcHi, final long srcLo,
                                        final long oldDstHi, final long oldDstLo, final long dstHi, final long dstLo) {
        return Checksums.change64(oldSrcHi, srcHi) + Checksums.change64(oldSrcLo, srcLo)
            + Checksums.change64(oldDstHi, dstHi) + Checksums.change64(oldDstLo, dstLo);
    }

    /** Sets the addresses of the IPv4 header at {@code ip}, updating its checksum incrementally. */
    private static void rewriteAddresses(final MutableDirectBuffer buffer, final int ip, final int srcAddr, final int dstAddr) {
        final int checksum = Checksums.applyChanges(buffer.getShort(ip + Ipv4Packet.OFFSET_CHECKSUM, NET) & 0xFFFF,
            Checksums.change32(buffer.getInt(ip + Ipv4Packet.OFFSET_SOURCE, NET), srcAddr)
            + Checksums.change32(buffer.getInt(ip + Ipv4Packet.OFFSET_DESTINATION, NET), dstAddr));
        buffer.putInt(ip + Ipv4Packet.OFFSET_SOURCE, srcAddr, NET);
        buffer.putInt(ip + Ipv4Packet.OFFSET_DESTINATION, dstAddr, NET);
        buffer.putShort(ip + Ipv4Packet.OFFSET_CHECKSUM, (short) checksum, NET);
    }

    /** Recomputes and stores an SCTP packet's CRC32c (little-endian, as RFC 4960 appendix B and Linux store it). */
    public static void writeSctpChecksum(final MutableDirectBuffer buffer, final int sctpOffset, final int length) {
        buffer.putInt(sctpOffset + Ipv4Packet.SCTP_OFFSET_CHECKSUM, Checksums.sctp(buffer, sctpOffset, length), ByteOrder.LITTLE_ENDIAN);
    }

    private static void updateL4Checksum(final MutableDirectBuffer buffer, final int checksumOffset, final boolean udp,
                                         final int oldSrc, final int newSrc, final int oldDst, final int newDst,
                                         final int oldSrcPort, final int newSrcPort, final int oldDstPort, final int newDstPort) {
        int checksum = buffer.getShort(checksumOffset, NET) & 0xFFFF;
        if (udp && checksum == 0) {
            return; // the sender sent no checksum; there is nothing to keep right
        }
        checksum = Checksums.applyChanges(checksum, Checksums.change32(oldSrc, newSrc) + Checksums.change32(oldDst, newDst)
            + Checksums.change16(oldSrcPort, newSrcPort) + Checksums.change16(oldDstPort, newDstPort));
        if (udp && checksum == 0) {
            checksum = 0xFFFF; // zero would mean "no checksum" (RFC 768)
        }
        buffer.putShort(checksumOffset, (short) checksum, NET);
    }
}
