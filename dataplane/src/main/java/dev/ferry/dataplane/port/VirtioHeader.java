package dev.ferry.dataplane.port;

import dev.ferry.dataplane.packet.DropReason;
import dev.ferry.nativeio.IpProtocol;
import dev.ferry.nativeio.virtio.VirtioNetHdr;
import org.agrona.DirectBuffer;
import org.agrona.MutableDirectBuffer;

import java.nio.ByteOrder;

/**
 * What the dataplane accepts in a received {@code virtio_net_hdr} (layout in
 * {@link VirtioNetHdr}), for every port that carries one (TUN with {@code IFF_VNET_HDR}, the
 * packet port with {@code PACKET_VNET_HDR}): the one owner of these rules.
 *
 * <p>A packet is translated in place and written back whole with its header unchanged: a GSO
 * super-packet stays one packet (the kernel cuts it into segments after us, with the headers
 * we rewrote), and a partial checksum stays partial (the NAT folds the address change into the
 * pseudo-header sum; see {@code NatRewriter}). That is only right when the header describes the
 * packet, so {@link #check} refuses anything else, with its own drop reason, before the
 * processor sees it:
 * <ul>
 *   <li>{@link DropReason#BAD_VNET_HEADER}: flags or GSO type this code does not know; a partial
 *       checksum field outside the packet, or for IPv4 not at the TCP/UDP checksum (SCTP's CRC at
 *       offset 8 is let through, see the known limitations);</li>
 *   <li>{@link DropReason#BAD_GSO_FRAME}: a GSO type that does not match the packet (TCPV4 on
 *       something other than IPv4 TCP, TCPV6 on IPv4, UDP_L4 or UDP on something other than
 *       UDP), a zero segment size, GSO without a partial checksum, or a GSO IPv4 fragment.</li>
 * </ul>
 * {@code hdr_len} is not checked: the kernel may set it to a whole segment's length on the
 * forwarding path, and it goes back as it came. IPv6 is passed untranslated, so beyond the
 * generic checks its header is left to the kernel. Stateless and allocation-free.
 */
public final class VirtioHeader {
    /** Bytes of the header. */
    public static final int LENGTH = VirtioNetHdr.SIZE;

    private static final ByteOrder LE = ByteOrder.LITTLE_ENDIAN;
    private static final int KNOWN_FLAGS = VirtioNetHdr.F_NEEDS_CSUM | VirtioNetHdr.F_DATA_VALID | VirtioNetHdr.F_RSC_INFO;
    private static final int TCP_CHECKSUM_OFFSET = 16;
    private static final int UDP_CHECKSUM_OFFSET = 6;
    private static final int SCTP_CHECKSUM_OFFSET = 8;

    private VirtioHeader() {
    }

    /**
     * Checks the header at {@code header} against the frame after it.
     *
     * @param header      offset of the virtio_net_hdr
     * @param l3          bytes from the frame's start (what csum_start counts from, just after the
     *                    header) to the IP header: 0 on TUN, 14 (Ethernet) on the packet port
     * @param frameLength bytes after the header
     * @return null when the packet may be translated as the header says, else why not
     */
    public static DropReason check(final DirectBuffer buffer, final int header, final int l3, final int frameLength) {
        final int flags = buffer.getByte(header + VirtioNetHdr.FLAGS) & 0xFF;
        final int gsoType = buffer.getByte(header + VirtioNetHdr.GSO_TYPE) & 0xFF & ~VirtioNetHdr.GSO_ECN;
        if ((flags & ~KNOWN_FLAGS) != 0 || !knownGsoType(gsoType)) {
            return DropReason.BAD_VNET_HEADER;
        }
        final boolean partial = (flags & VirtioNetHdr.F_NEEDS_CSUM) != 0;
        final int csumStart = buffer.getShort(header + VirtioNetHdr.CSUM_START, LE) & 0xFFFF;
        final int csumOffset = buffer.getShort(header + VirtioNetHdr.CSUM_OFFSET, LE) & 0xFFFF;
        if (partial && csumStart + csumOffset + 2 > frameLength) {
            return DropReason.BAD_VNET_HEADER;
        }
        final int ip = header + LENGTH + l3;
        final int version = frameLength > l3 ? (buffer.getByte(ip) & 0xF0) >>> 4 : 0;
        if (version != 4) {
            // IPv6 passes untranslated; anything else is for the processor to refuse. A GSO
            // frame must at least be IP of the GSO type's version.
            if (gsoType == VirtioNetHdr.GSO_TCPV4 || (gsoType != VirtioNetHdr.GSO_NONE && version != 6)) {
                return DropReason.BAD_GSO_FRAME;
            }
            return null;
        }
        if (frameLength < l3 + 20) {
            return gsoType == VirtioNetHdr.GSO_NONE ? null : DropReason.BAD_GSO_FRAME; // else too short for IPv4: the processor counts it
        }
        final int ihl = (buffer.getByte(ip) & 0x0F) * 4;
        final int protocol = buffer.getByte(ip + 9) & 0xFF;
        if (partial) {
            final int expectedOffset = switch (protocol) {
                case IpProtocol.TCP -> TCP_CHECKSUM_OFFSET;
                case IpProtocol.UDP -> UDP_CHECKSUM_OFFSET;
                case IpProtocol.SCTP -> SCTP_CHECKSUM_OFFSET;
                default -> -1;
            };
            if (csumStart != l3 + ihl || csumOffset != expectedOffset) {
                return DropReason.BAD_VNET_HEADER;
            }
        }
        if (gsoType == VirtioNetHdr.GSO_NONE) {
            return null;
        }
        final int gsoSize = buffer.getShort(header + VirtioNetHdr.GSO_SIZE, LE) & 0xFFFF;
        final boolean fragment = (buffer.getShort(ip + 6, ByteOrder.BIG_ENDIAN) & 0x3FFF) != 0;
        final boolean protocolMatches = switch (gsoType) {
            case VirtioNetHdr.GSO_TCPV4 -> protocol == IpProtocol.TCP;
            case VirtioNetHdr.GSO_UDP_L4, VirtioNetHdr.GSO_UDP -> protocol == IpProtocol.UDP;
            default -> false; // TCPV6 on IPv4
        };
        if (!protocolMatches || gsoSize == 0 || !partial || fragment) {
            return DropReason.BAD_GSO_FRAME;
        }
        return null;
    }

    /**
     * Hands a received frame that starts with a virtio_net_hdr to {@code handler}: refused with
     * the reason when {@link #check} finds one (or the frame is shorter than the header), else
     * as a packet whose checksum is partial when the header says so. What every port carrying
     * the header does on receive, so the rules stay here.
     *
     * @param header      offset of the virtio_net_hdr, where the frame starts
     * @param l3          bytes between the header's end and the IP header (see {@link #check})
     * @param frameLength bytes of the frame, the header included
     */
    public static void handUp(final PacketHandler handler, final MutableDirectBuffer buffer, final int header, final int l3,
                              final int frameLength) {
        final DropReason bad = frameLength < LENGTH ? DropReason.BAD_VNET_HEADER
            : check(buffer, header, l3, frameLength - LENGTH);
        if (bad != null) {
            handler.onRefused(bad);
        } else {
            handler.onPacket(buffer, header, frameLength, checksumPartial(buffer, header));
        }
    }

    private static boolean knownGsoType(final int gsoType) {
        return switch (gsoType) {
            case VirtioNetHdr.GSO_NONE, VirtioNetHdr.GSO_TCPV4, VirtioNetHdr.GSO_UDP, VirtioNetHdr.GSO_TCPV6,
                 VirtioNetHdr.GSO_UDP_L4 -> true;
            default -> false;
        };
    }

    /** True when the packet's L4 checksum is partial (NEEDS_CSUM): the kernel completes it after us. */
    public static boolean checksumPartial(final DirectBuffer buffer, final int header) {
        return (buffer.getByte(header + VirtioNetHdr.FLAGS) & VirtioNetHdr.F_NEEDS_CSUM) != 0;
    }

    /** Writes the header of a packet we built whole (a reject): no offload, nothing to finish. */
    public static void writeComplete(final MutableDirectBuffer buffer, final int header) {
        buffer.setMemory(header, LENGTH, (byte) 0);
    }
}
