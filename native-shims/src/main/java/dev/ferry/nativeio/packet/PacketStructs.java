package dev.ferry.nativeio.packet;

import static java.lang.foreign.ValueLayout.JAVA_BYTE;
import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;
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
 * <p>A TPACKET_V3 RX block and the frames in it:
 * <pre>
 *  block (tp_block_size)
 *  +--------------------------------------------+ 0
 *  | tpacket_block_desc: version, offset_to_priv|
 *  |   hdr.bh1: block_status (TP_STATUS_USER),  |
 *  |   num_pkts, offset_to_first_pkt, blk_len,  |
 *  |   seq_num, ts_first_pkt, ts_last_pkt       | 48
 *  +--------------------------------------------+ offset_to_first_pkt
 *  | tpacket3_hdr: tp_next_offset, tp_sec,      |
 *  |   tp_nsec, tp_snaplen, tp_len, tp_status,  |
 *  |   tp_mac, tp_net, hv1 (rxhash, vlan)       | 48
 *  | sockaddr_ll (20)   [virtio_net_hdr (10)]   |
 *  | frame at tp_mac: Ethernet header, payload  |
 *  +--------------------------------------------+ += tp_next_offset
 *  | next tpacket3_hdr ...                      |
 * </pre>
 * A TX frame (fixed tp_frame_size slots) is a tpacket3_hdr with tp_len and tp_status, and the
 * frame itself at {@link #TX_DATA_OFFSET} ({@code TPACKET_ALIGN(sizeof(struct tpacket3_hdr))}).
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

    /** {@code struct tpacket_req3}. */
    public static final StructLayout TPACKET_REQ3 = MemoryLayout.structLayout(
            JAVA_INT.withName("tp_block_size"),
            JAVA_INT.withName("tp_block_nr"),
            JAVA_INT.withName("tp_frame_size"),
            JAVA_INT.withName("tp_frame_nr"),
            JAVA_INT.withName("tp_retire_blk_tov"),
            JAVA_INT.withName("tp_sizeof_priv"),
            JAVA_INT.withName("tp_feature_req_word")).withName("tpacket_req3");
    public static final long REQ3_BLOCK_SIZE = off(TPACKET_REQ3, "tp_block_size");
    public static final long REQ3_BLOCK_NR = off(TPACKET_REQ3, "tp_block_nr");
    public static final long REQ3_FRAME_SIZE = off(TPACKET_REQ3, "tp_frame_size");
    public static final long REQ3_FRAME_NR = off(TPACKET_REQ3, "tp_frame_nr");
    public static final long REQ3_RETIRE_BLK_TOV = off(TPACKET_REQ3, "tp_retire_blk_tov");

    /** {@code struct tpacket_bd_ts}. */
    public static final StructLayout TPACKET_BD_TS = MemoryLayout.structLayout(
            JAVA_INT.withName("ts_sec"), JAVA_INT.withName("ts_nsec")).withName("tpacket_bd_ts");

    /** {@code struct tpacket_hdr_v1}, the V3 block header inside the block descriptor. */
    public static final StructLayout TPACKET_HDR_V1 = MemoryLayout.structLayout(
            JAVA_INT.withName("block_status"),
            JAVA_INT.withName("num_pkts"),
            JAVA_INT.withName("offset_to_first_pkt"),
            JAVA_INT.withName("blk_len"),
            JAVA_LONG.withName("seq_num"),
            TPACKET_BD_TS.withName("ts_first_pkt"),
            TPACKET_BD_TS.withName("ts_last_pkt")).withName("tpacket_hdr_v1");

    /** {@code struct tpacket_block_desc}. */
    public static final StructLayout TPACKET_BLOCK_DESC = MemoryLayout.structLayout(
            JAVA_INT.withName("version"),
            JAVA_INT.withName("offset_to_priv"),
            TPACKET_HDR_V1.withName("hdr")).withName("tpacket_block_desc");
    public static final long BLOCK_STATUS = off(TPACKET_BLOCK_DESC, "hdr", "block_status");
    public static final long BLOCK_NUM_PKTS = off(TPACKET_BLOCK_DESC, "hdr", "num_pkts");
    public static final long BLOCK_OFFSET_TO_FIRST_PKT = off(TPACKET_BLOCK_DESC, "hdr", "offset_to_first_pkt");
    public static final long BLOCK_SEQ_NUM = off(TPACKET_BLOCK_DESC, "hdr", "seq_num");

    /** {@code struct tpacket_hdr_variant1}. */
    public static final StructLayout TPACKET_HDR_VARIANT1 = MemoryLayout.structLayout(
            JAVA_INT.withName("tp_rxhash"),
            JAVA_INT.withName("tp_vlan_tci"),
            JAVA_SHORT.withName("tp_vlan_tpid"),
            JAVA_SHORT.withName("tp_padding")).withName("tpacket_hdr_variant1");

    /** {@code struct tpacket3_hdr}. */
    public static final StructLayout TPACKET3_HDR = MemoryLayout.structLayout(
            JAVA_INT.withName("tp_next_offset"),
            JAVA_INT.withName("tp_sec"),
            JAVA_INT.withName("tp_nsec"),
            JAVA_INT.withName("tp_snaplen"),
            JAVA_INT.withName("tp_len"),
            JAVA_INT.withName("tp_status"),
            JAVA_SHORT.withName("tp_mac"),
            JAVA_SHORT.withName("tp_net"),
            TPACKET_HDR_VARIANT1.withName("hv1"),
            MemoryLayout.sequenceLayout(8, JAVA_BYTE).withName("tp_padding")).withName("tpacket3_hdr");
    public static final long TP_NEXT_OFFSET = off(TPACKET3_HDR, "tp_next_offset");
    public static final long TP_SNAPLEN = off(TPACKET3_HDR, "tp_snaplen");
    public static final long TP_LEN = off(TPACKET3_HDR, "tp_len");
    public static final long TP_STATUS = off(TPACKET3_HDR, "tp_status");
    public static final long TP_MAC = off(TPACKET3_HDR, "tp_mac");
    public static final long TP_NET = off(TPACKET3_HDR, "tp_net");
    public static final long TP_RXHASH = off(TPACKET3_HDR, "hv1", "tp_rxhash");

    /** Where a TX frame's data starts: {@code TPACKET_ALIGN(sizeof(struct tpacket3_hdr))}. */
    public static final int TX_DATA_OFFSET = align(TPACKET3_HDR.byteSize());

    /** {@code struct tpacket_stats_v3}. */
    public static final StructLayout TPACKET_STATS_V3 = MemoryLayout.structLayout(
            JAVA_INT.withName("tp_packets"),
            JAVA_INT.withName("tp_drops"),
            JAVA_INT.withName("tp_freeze_q_cnt")).withName("tpacket_stats_v3");

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
