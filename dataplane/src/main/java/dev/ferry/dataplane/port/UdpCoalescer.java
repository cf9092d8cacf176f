package dev.ferry.dataplane.port;

import dev.ferry.dataplane.counters.CounterType;
import dev.ferry.dataplane.counters.WorkerCounters;
import dev.ferry.dataplane.packet.Checksums;
import dev.ferry.dataplane.packet.DropReason;
import dev.ferry.dataplane.packet.Ipv4Packet;
import dev.ferry.nativeio.IpProtocol;
import dev.ferry.nativeio.virtio.VirtioNetHdr;
import org.agrona.DirectBuffer;
import org.agrona.concurrent.UnsafeBuffer;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;

/**
 * Joins the UDP datagrams of one flow that a queue sends one after another in a batch into one
 * GSO super-packet (virtio {@code gso_type} UDP_L4) before the port writes them (to TUN, or into
 * the packet port's TX ring), as a UDP sender's own stack does with UDP_SEGMENT: the kernel then
 * routes and forwards the datagrams once, as one packet, and cuts them apart again where they
 * leave (the veth, or the receiving socket), each with its own length and checksum. Without it
 * every datagram of a UDP stream pays a write and a trip through routing and forwarding of its
 * own.
 *
 * <pre>
 *  sent:     [vnet][L2][IP|UDP|p1]  [vnet][L2][IP|UDP|p2]  [vnet][L2][IP|UDP|p3']   same flow, p1 = p2 = size, p3' &lt;= size
 *  written:  [vnet: NEEDS_CSUM, UDP_L4, gso_size = size][L2][IP total|UDP total, partial checksum|p1 p2 p3']
 * </pre>
 * L2 is the port's link-layer header between the virtio header and IP: none on TUN, Ethernet
 * (14 bytes, type IPv4) on the packet port, where it must be the same for the whole group.
 *
 * A datagram joins the pending group when it is IPv4 UDP without options and not a fragment,
 * carries no GSO of its own, has the first one's addresses, ports, TOS, TTL and DF bit, and its
 * payload is the group's segment size (or smaller, which closes the group: only the last segment
 * may be short); at most {@link #MAX_SEGMENTS} and 64 KB. Anything else first writes the group
 * out, so no flow's packets are reordered. A group of one is written as it came. The IP header
 * and UDP length cover the whole group; the UDP checksum field holds the pseudo-header sum over
 * that length (a partial checksum, which the kernel adjusts per segment and completes). One
 * instance per queue thread; allocation-free.
 */
final class UdpCoalescer {
    /** Segments per super-packet: the kernel's UDP GSO limit is 64 in every version that has it. */
    static final int MAX_SEGMENTS = 64;

    /** Writes one packet (virtio header included) to the device; true when the kernel took it whole. */
    @FunctionalInterface
    interface Writer {
        boolean write(long address, int length);
    }

    private static final ByteOrder NET = ByteOrder.BIG_ENDIAN;
    private static final ByteOrder LE = ByteOrder.LITTLE_ENDIAN;
    private static final int VNET = VirtioHeader.LENGTH;
    private static final int IP_HEADER = 20;
    private static final int HEADERS = IP_HEADER + Ipv4Packet.UDP_HEADER;
    private static final int MAX_IP_LENGTH = 65535;
    private static final int ETHERTYPE_IPV4 = 0x0800;

    private final Writer writer;
    /** Bytes of link-layer header between the virtio header and the IP header. */
    private final int l2;
    /** Offset of the IP header in a frame. */
    private final int ipAt;
    private final UnsafeBuffer group;
    /** Bytes in {@link #group}, virtio header included; 0 when nothing is pending. */
    private int groupLength;
    private int segments;
    private int segmentSize;
    private boolean closed;
    /** The owning queue's counters (UDP_COALESCED, TX_FAILED), once the port is given them. */
    private WorkerCounters counters;

    /** @param l2 bytes of link-layer header after the virtio header: 0 on TUN, 14 (Ethernet) on the packet port */
    UdpCoalescer(final Writer writer, final int l2) {
        this.writer = writer;
        this.l2 = l2;
        this.ipAt = VNET + l2;
        this.group = new UnsafeBuffer(ByteBuffer.allocateDirect(ipAt + MAX_IP_LENGTH));
    }

    /**
     * Takes a packet the queue sends ({@code length} bytes at {@code offset}, virtio header first):
     * true when it joined the pending group or started a new one (after writing out the group it
     * could not join); false when it is no candidate, and the pending group was written out, so
     * that the caller writes this one itself, in order.
     */
    boolean offer(final DirectBuffer buffer, final int offset, final int length) {
        final int ip = offset + ipAt;
        final int payload = candidatePayload(buffer, offset, length);
        if (payload > 0 && groupLength > 0 && joins(buffer, offset, payload)) {
            group.putBytes(groupLength, buffer, ip + HEADERS, payload);
            groupLength += payload;
            segments++;
            closed = payload < segmentSize;
            return true;
        }
        flush();
        if (payload <= 0) {
            return false;
        }
        group.putBytes(0, buffer, offset, length);
        groupLength = length;
        segments = 1;
        segmentSize = payload;
        closed = false;
        return true;
    }

    /** Writes the pending group out, if any. */
    void flush() {
        if (groupLength == 0) {
            return;
        }
        if (segments > 1) {
            seal();
        }
        final boolean written = writer.write(group.addressOffset(), groupLength);
        if (counters != null) {
            if (!written) {
                counters.drop(DropReason.TX_FAILED, segments); // taken by send(), so counted as sent once
            } else if (segments > 1) {
                counters.add(CounterType.UDP_COALESCED, segments);
            }
        }
        groupLength = 0;
        segments = 0;
    }

    /** Where the coalescer counts the datagrams it wrote inside super-packets and those a failed write lost. */
    void countInto(final WorkerCounters queueCounters) {
        this.counters = queueCounters;
    }

    /**
     * The UDP payload length of a packet that may be coalesced, else 0. A complete checksum the
     * kernel has not vouched for (neither NEEDS_CSUM nor DATA_VALID, e.g. a datagram forwarded from
     * outside) is checked first: the group gets a new checksum, which must not make a damaged
     * datagram look whole; one that does not verify is written as it came, for the receiver to drop.
     */
    private int candidatePayload(final DirectBuffer buffer, final int offset, final int length) {
        if (length < ipAt + HEADERS || (buffer.getByte(offset + VirtioNetHdr.GSO_TYPE) & 0xFF) != VirtioNetHdr.GSO_NONE) {
            return 0;
        }
        if (l2 > 0 && (buffer.getShort(offset + ipAt - 2, NET) & 0xFFFF) != ETHERTYPE_IPV4) {
            return 0;
        }
        final int ip = offset + ipAt;
        if ((buffer.getByte(ip) & 0xFF) != 0x45 || (buffer.getByte(ip + 9) & 0xFF) != IpProtocol.UDP
            || (buffer.getShort(ip + 6, NET) & 0x3FFF) != 0) {
            return 0; // not IPv4 UDP without options, or a fragment
        }
        final int total = buffer.getShort(ip + 2, NET) & 0xFFFF;
        final int udpLength = buffer.getShort(ip + IP_HEADER + 4, NET) & 0xFFFF;
        if (total != length - ipAt || udpLength != total - IP_HEADER) {
            return 0;
        }
        final int flags = buffer.getByte(offset + VirtioNetHdr.FLAGS) & (VirtioNetHdr.F_NEEDS_CSUM | VirtioNetHdr.F_DATA_VALID);
        final int field = buffer.getShort(ip + IP_HEADER + Ipv4Packet.UDP_OFFSET_CHECKSUM, NET) & 0xFFFF;
        if (flags == 0 && field != 0 && Checksums.transport(buffer, ip, IpProtocol.UDP, ip + IP_HEADER, udpLength) != field) {
            return 0;
        }
        return total - HEADERS;
    }

    private boolean joins(final DirectBuffer buffer, final int offset, final int payload) {
        final int ip = offset + ipAt;
        final int first = ipAt;
        return !closed && payload <= segmentSize && segments < MAX_SEGMENTS
            && groupLength - ipAt + payload <= MAX_IP_LENGTH
            && sameLinkHeader(buffer, offset)
            && buffer.getLong(ip + 12) == group.getLong(first + 12)                 // source and destination address
            && buffer.getInt(ip + IP_HEADER) == group.getInt(first + IP_HEADER)      // ports
            && buffer.getByte(ip + 1) == group.getByte(first + 1)                    // TOS
            && buffer.getByte(ip + 8) == group.getByte(first + 8)                    // TTL
            && (buffer.getShort(ip + 6, NET) & 0x4000) == (group.getShort(first + 6, NET) & 0x4000); // DF
    }

    private boolean sameLinkHeader(final DirectBuffer buffer, final int offset) {
        for (int i = 0; i < l2; i++) {
            if (buffer.getByte(offset + VNET + i) != group.getByte(VNET + i)) {
                return false;
            }
        }
        return true;
    }

    /** Turns the group into one super-packet: lengths over all of it, a partial UDP checksum, the GSO header. */
    private void seal() {
        final int ip = ipAt;
        final int total = groupLength - ipAt;
        group.putShort(ip + 2, (short) total, NET);
        group.putShort(ip + Ipv4Packet.OFFSET_CHECKSUM, (short) Checksums.ipv4Header(group, ip, IP_HEADER), NET);
        final int udp = ip + IP_HEADER;
        final int udpLength = total - IP_HEADER;
        group.putShort(udp + 4, (short) udpLength, NET);
        group.putShort(udp + Ipv4Packet.UDP_OFFSET_CHECKSUM, (short) Checksums.pseudoHeaderPartial(group, ip, IpProtocol.UDP, udpLength), NET);
        group.setMemory(0, VNET, (byte) 0);
        group.putByte(VirtioNetHdr.FLAGS, (byte) VirtioNetHdr.F_NEEDS_CSUM);
        group.putByte(VirtioNetHdr.GSO_TYPE, (byte) VirtioNetHdr.GSO_UDP_L4);
        // csum_start and hdr_len count from the frame after the virtio header, the link-layer header included
        group.putShort(VirtioNetHdr.HDR_LEN, (short) (l2 + HEADERS), LE);
        group.putShort(VirtioNetHdr.GSO_SIZE, (short) segmentSize, LE);
        group.putShort(VirtioNetHdr.CSUM_START, (short) (l2 + IP_HEADER), LE);
        group.putShort(VirtioNetHdr.CSUM_OFFSET, (short) Ipv4Packet.UDP_OFFSET_CHECKSUM, LE);
    }
}
