package dev.ferry.nativeio;

import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.ferry.nativeio.libc.IfReq;
import dev.ferry.nativeio.libc.LibC;
import dev.ferry.nativeio.packet.PacketStructs;
import dev.ferry.nativeio.testing.CProbe;
import java.util.List;
import org.junit.jupiter.api.Test;

/** Every struct layout against the real one, as gcc and the kernel headers on this machine see it. */
class StructLayoutTest {

    static CProbe probe() {
        return new CProbe()
                .include("sys/ioctl.h", "net/if.h", "poll.h", "sys/socket.h", "linux/if_packet.h", "linux/virtio_net.h")
                .expect("sizeof(struct ifreq)", IfReq.LAYOUT.byteSize())
                .expect("offsetof(struct ifreq, ifr_name)", IfReq.NAME)
                .expect("offsetof(struct ifreq, ifr_flags)", IfReq.FLAGS)
                .expect("offsetof(struct ifreq, ifr_ifindex)", IfReq.IFINDEX)
                .expect("offsetof(struct ifreq, ifr_data)", IfReq.DATA)
                .expect("sizeof(struct pollfd)", LibC.POLLFD.byteSize())
                .expect("offsetof(struct pollfd, revents)", 6)
                // AF_PACKET
                .expect("sizeof(struct sockaddr_ll)", PacketStructs.SOCKADDR_LL.byteSize())
                .expect("offsetof(struct sockaddr_ll, sll_protocol)", PacketStructs.SLL_PROTOCOL)
                .expect("offsetof(struct sockaddr_ll, sll_ifindex)", PacketStructs.SLL_IFINDEX)
                .expect("offsetof(struct sockaddr_ll, sll_pkttype)", PacketStructs.SLL_PKTTYPE)
                .expect("offsetof(struct sockaddr_ll, sll_halen)", PacketStructs.SLL_HALEN)
                .expect("offsetof(struct sockaddr_ll, sll_addr)", PacketStructs.SLL_ADDR)
                .expect("sizeof(struct tpacket_req3)", PacketStructs.TPACKET_REQ3.byteSize())
                .expect("offsetof(struct tpacket_req3, tp_frame_nr)", PacketStructs.REQ3_FRAME_NR)
                .expect("offsetof(struct tpacket_req3, tp_retire_blk_tov)", PacketStructs.REQ3_RETIRE_BLK_TOV)
                .expect("sizeof(struct tpacket_block_desc)", PacketStructs.TPACKET_BLOCK_DESC.byteSize())
                .expect("offsetof(struct tpacket_block_desc, hdr.bh1.block_status)", PacketStructs.BLOCK_STATUS)
                .expect("offsetof(struct tpacket_block_desc, hdr.bh1.num_pkts)", PacketStructs.BLOCK_NUM_PKTS)
                .expect("offsetof(struct tpacket_block_desc, hdr.bh1.offset_to_first_pkt)", PacketStructs.BLOCK_OFFSET_TO_FIRST_PKT)
                .expect("offsetof(struct tpacket_block_desc, hdr.bh1.seq_num)", PacketStructs.BLOCK_SEQ_NUM)
                .expect("sizeof(struct tpacket3_hdr)", PacketStructs.TPACKET3_HDR.byteSize())
                .expect("offsetof(struct tpacket3_hdr, tp_next_offset)", PacketStructs.TP_NEXT_OFFSET)
                .expect("offsetof(struct tpacket3_hdr, tp_snaplen)", PacketStructs.TP_SNAPLEN)
                .expect("offsetof(struct tpacket3_hdr, tp_len)", PacketStructs.TP_LEN)
                .expect("offsetof(struct tpacket3_hdr, tp_status)", PacketStructs.TP_STATUS)
                .expect("offsetof(struct tpacket3_hdr, tp_mac)", PacketStructs.TP_MAC)
                .expect("offsetof(struct tpacket3_hdr, tp_net)", PacketStructs.TP_NET)
                .expect("offsetof(struct tpacket3_hdr, hv1.tp_rxhash)", PacketStructs.TP_RXHASH)
                .expect("TPACKET_ALIGN(sizeof(struct tpacket3_hdr))", PacketStructs.TX_DATA_OFFSET)
                .expect("TPACKET3_HDRLEN - sizeof(struct sockaddr_ll)", PacketStructs.TX_DATA_OFFSET)
                .expect("sizeof(struct tpacket_stats_v3)", PacketStructs.TPACKET_STATS_V3.byteSize())
                .expect("sizeof(struct virtio_net_hdr)", PacketStructs.VIRTIO_NET_HDR.byteSize())
                .expect("offsetof(struct virtio_net_hdr, hdr_len)", PacketStructs.VNET_HDR_LEN)
                .expect("offsetof(struct virtio_net_hdr, gso_size)", PacketStructs.VNET_GSO_SIZE)
                .expect("offsetof(struct virtio_net_hdr, csum_start)", PacketStructs.VNET_CSUM_START)
                .expect("offsetof(struct virtio_net_hdr, csum_offset)", PacketStructs.VNET_CSUM_OFFSET);
    }

    @Test
    void shouldMatchKernelStructLayouts() throws Exception {
        List<String> mismatches = probe().mismatches();
        assertEquals(List.of(), mismatches, "struct layouts differ from the C headers");
    }
}
