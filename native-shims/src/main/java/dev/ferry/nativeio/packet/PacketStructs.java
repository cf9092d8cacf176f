package dev.ferry.nativeio.packet;

import static java.lang.foreign.ValueLayout.JAVA_BYTE;
import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_SHORT;

import dev.ferry.nativeio.libc.CTypes;
import java.lang.foreign.MemoryLayout;
import java.lang.foreign.MemoryLayout.PathElement;
import java.lang.foreign.StructLayout;

/**
 * The AF_PACKET structs (linux/if_packet.h, packet(7), Documentation/networking/packet_mmap.rst)
 * with the byte offsets the ring code uses ({@code virtio_net_hdr} is
 * {@link dev.ferry.nativeio.virtio.VirtioNetHdr}).
 *
 * <p>The TPACKET_V2 RX ring: blocks of whole fixed-size frames, each with its own status word
 * (no block to fill, no retire timer: a frame is the user's as soon as the kernel wrote it):
 * <pre>
 *  block (tp_block_size) = tp_block_size / tp_frame_size frames
 *  +--------------------------------------------+ frame i (tp_frame_size)
 *  | tpacket2_hdr: tp_status (TP_STATUS_USER,   |
 *  |   | TP_STATUS_COPY ...), tp_len,           |
 *  |   tp_snaplen, tp_mac, tp_net, tp_sec,      |
 *  |   tp_nsec, tp_vlan_tci, tp_vlan_tpid       | 32
 *  | sockaddr_ll (20)   [virtio_net_hdr (10)]   |
 *  | frame at tp_mac: Ethernet header, payload  |
 *  +--------------------------------------------+ frame i + 1
 * </pre>
 * A frame longer than a slot is, with PACKET_COPY_THRESH set, queued whole on the socket's
 * receive queue instead and its slot marked TP_STATUS_COPY. A TX frame (fixed tp_frame_size
 * slots) is a tpacket2_hdr with tp_len and tp_status, and the frame itself at
 * {@link #TX_DATA_OFFSET} ({@code TPACKET_ALIGN(sizeof(struct tpacket2_hdr))}).
 */
public final class PacketStructs {
    public static final int TPACKET_ALIGNMENT = 16;

    /** {@code struct sockaddr_ll}. */
    public static final StructLayout SOCKADDR_LL = MemoryLayout.structLayout(
            JAVA_SHORT.withName("sll_family"),
            CTypes.BE16.withName("sll_protocol"),
            JAVA_INT.withName("sll_ifindex"),
            JAVA_SHORT.withName("sll_hatype"),
            JAVA_BYTE.withName("sll_pkttype"),
            JAVA_BYTE.withName("sll_halen"),
            MemoryLayout.sequenceLayout(8, JAVA_BYTE).withName("sll_addr")).withName("sockaddr_ll");
    public static final long SLL_FAMILY = off(SOCKADDR_LL, "sll_family");
    public static final long SLL_PROTOCOL = off(SOCKADDR_LL, "sll_protocol");
    public static final long SLL_IFINDEX = off(SOCKADDR_LL, "sll_ifindex");
    public static final long SLL_PKTTYPE = off(SOCKADDR_LL, "sll_pkttype");
    public static final long SLL_HALEN = off(SOCKADDR_LL, "sll_halen");
    public static final long SLL_ADDR = off(SOCKADDR_LL, "sll_addr");

    /** {@code struct tpacket_req} (TPACKET_V1/V2 rings). */
    public static final StructLayout TPACKET_REQ = MemoryLayout.structLayout(
            JAVA_INT.withName("tp_block_size"),
            JAVA_INT.withName("tp_block_nr"),
            JAVA_INT.withName("tp_frame_size"),
            JAVA_INT.withName("tp_frame_nr")).withName("tpacket_req");
    public static final long REQ_BLOCK_SIZE = off(TPACKET_REQ, "tp_block_size");
    public static final long REQ_BLOCK_NR = off(TPACKET_REQ, "tp_block_nr");
    public static final long REQ_FRAME_SIZE = off(TPACKET_REQ, "tp_frame_size");
    public static final long REQ_FRAME_NR = off(TPACKET_REQ, "tp_frame_nr");

    /** {@code struct tpacket2_hdr}. */
    public static final StructLayout TPACKET2_HDR = MemoryLayout.structLayout(
            JAVA_INT.withName("tp_status"),
            JAVA_INT.withName("tp_len"),
            JAVA_INT.withName("tp_snaplen"),
            JAVA_SHORT.withName("tp_mac"),
            JAVA_SHORT.withName("tp_net"),
            JAVA_INT.withName("tp_sec"),
            JAVA_INT.withName("tp_nsec"),
            JAVA_SHORT.withName("tp_vlan_tci"),
            JAVA_SHORT.withName("tp_vlan_tpid"),
            MemoryLayout.sequenceLayout(4, JAVA_BYTE).withName("tp_padding")).withName("tpacket2_hdr");
    public static final long TP_STATUS = off(TPACKET2_HDR, "tp_status");
    public static final long TP_LEN = off(TPACKET2_HDR, "tp_len");
    public static final long TP_SNAPLEN = off(TPACKET2_HDR, "tp_snaplen");
    public static final long TP_MAC = off(TPACKET2_HDR, "tp_mac");
    public static final long TP_NET = off(TPACKET2_HDR, "tp_net");

    /** Where a TX frame's data starts: {@code TPACKET_ALIGN(sizeof(struct tpacket2_hdr))}. */
    public static final int TX_DATA_OFFSET = align(TPACKET2_HDR.byteSize());

    /** {@code struct tpacket_stats} (TPACKET_V1/V2). */
    public static final StructLayout TPACKET_STATS = MemoryLayout.structLayout(
            JAVA_INT.withName("tp_packets"),
            JAVA_INT.withName("tp_drops")).withName("tpacket_stats");

    private PacketStructs() {
    }

    static int align(long x) {
        return (int) ((x + TPACKET_ALIGNMENT - 1) & ~(TPACKET_ALIGNMENT - 1));
    }

    private static long off(StructLayout layout, String... path) {
        PathElement[] elements = new PathElement[path.length];
        for (int i = 0; i < path.length; i++) {
            elements[i] = PathElement.groupElement(path[i]);
        }
        return layout.byteOffset(elements);
    }
}
