package dev.ferry.nativeio;

import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.ferry.nativeio.libc.IfReq;
import dev.ferry.nativeio.libc.LibC;
import dev.ferry.nativeio.netlink.NetlinkStructs;
import dev.ferry.nativeio.packet.PacketSocket;
import dev.ferry.nativeio.packet.PacketStructs;
import dev.ferry.nativeio.testing.CProbe;
import dev.ferry.nativeio.tun.TunDevice;
import dev.ferry.nativeio.virtio.VirtioNetHdr;
import java.util.List;
import org.junit.jupiter.api.Test;

/** Every struct layout against the real one, as gcc and the kernel headers on this machine see it. */
class StructLayoutTest {

    static CProbe probe() {
        return new CProbe()
                .include("sys/ioctl.h", "net/if.h", "poll.h", "sys/socket.h", "linux/if_packet.h", "linux/virtio_net.h", "linux/if_tun.h",
                        "linux/netlink.h", "linux/rtnetlink.h", "linux/fib_rules.h", "linux/neighbour.h")
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
                .expect("sizeof(struct tpacket_req)", PacketStructs.TPACKET_REQ.byteSize())
                .expect("offsetof(struct tpacket_req, tp_block_nr)", PacketStructs.REQ_BLOCK_NR)
                .expect("offsetof(struct tpacket_req, tp_frame_size)", PacketStructs.REQ_FRAME_SIZE)
                .expect("offsetof(struct tpacket_req, tp_frame_nr)", PacketStructs.REQ_FRAME_NR)
                .expect("sizeof(struct tpacket2_hdr)", PacketStructs.TPACKET2_HDR.byteSize())
                .expect("offsetof(struct tpacket2_hdr, tp_status)", PacketStructs.TP_STATUS)
                .expect("offsetof(struct tpacket2_hdr, tp_len)", PacketStructs.TP_LEN)
                .expect("offsetof(struct tpacket2_hdr, tp_snaplen)", PacketStructs.TP_SNAPLEN)
                .expect("offsetof(struct tpacket2_hdr, tp_mac)", PacketStructs.TP_MAC)
                .expect("offsetof(struct tpacket2_hdr, tp_net)", PacketStructs.TP_NET)
                .expect("TPACKET_ALIGN(sizeof(struct tpacket2_hdr))", PacketStructs.TX_DATA_OFFSET)
                .expect("TPACKET2_HDRLEN - sizeof(struct sockaddr_ll)", PacketStructs.TX_DATA_OFFSET)
                .expect("sizeof(struct tpacket_stats)", PacketStructs.TPACKET_STATS.byteSize())
                .expect("TPACKET_V2", PacketSocket.TPACKET_V2)
                .expect("PACKET_COPY_THRESH", PacketSocket.PACKET_COPY_THRESH)
                .expect("TP_STATUS_COPY", PacketSocket.TP_STATUS_COPY)
                // virtio_net_hdr (TUN IFF_VNET_HDR and PACKET_VNET_HDR)
                .expect("sizeof(struct virtio_net_hdr)", VirtioNetHdr.LAYOUT.byteSize())
                .expect("offsetof(struct virtio_net_hdr, flags)", VirtioNetHdr.FLAGS)
                .expect("offsetof(struct virtio_net_hdr, gso_type)", VirtioNetHdr.GSO_TYPE)
                .expect("offsetof(struct virtio_net_hdr, hdr_len)", VirtioNetHdr.HDR_LEN)
                .expect("offsetof(struct virtio_net_hdr, gso_size)", VirtioNetHdr.GSO_SIZE)
                .expect("offsetof(struct virtio_net_hdr, csum_start)", VirtioNetHdr.CSUM_START)
                .expect("offsetof(struct virtio_net_hdr, csum_offset)", VirtioNetHdr.CSUM_OFFSET)
                .expect("VIRTIO_NET_HDR_F_NEEDS_CSUM", VirtioNetHdr.F_NEEDS_CSUM)
                .expect("VIRTIO_NET_HDR_F_DATA_VALID", VirtioNetHdr.F_DATA_VALID)
                .expect("VIRTIO_NET_HDR_F_RSC_INFO", VirtioNetHdr.F_RSC_INFO)
                .expect("VIRTIO_NET_HDR_GSO_NONE", VirtioNetHdr.GSO_NONE)
                .expect("VIRTIO_NET_HDR_GSO_TCPV4", VirtioNetHdr.GSO_TCPV4)
                .expect("VIRTIO_NET_HDR_GSO_UDP", VirtioNetHdr.GSO_UDP)
                .expect("VIRTIO_NET_HDR_GSO_TCPV6", VirtioNetHdr.GSO_TCPV6)
                // VIRTIO_NET_HDR_GSO_UDP_L4 (5) and TUN_F_USO4/6 (0x20, 0x40) are newer than the libc
                // headers on some build machines (Linux 6.2 uapi); they are not probed here.
                .expect("VIRTIO_NET_HDR_GSO_ECN", VirtioNetHdr.GSO_ECN)
                // TUN (linux/if_tun.h)
                .expect("TUNSETIFF", TunDevice.TUNSETIFF)
                .expect("TUNSETPERSIST", TunDevice.TUNSETPERSIST)
                .expect("TUNSETOFFLOAD", TunDevice.TUNSETOFFLOAD)
                .expect("IFF_TUN", TunDevice.IFF_TUN)
                .expect("IFF_NO_PI", TunDevice.IFF_NO_PI)
                .expect("IFF_MULTI_QUEUE", TunDevice.IFF_MULTI_QUEUE)
                .expect("IFF_VNET_HDR", TunDevice.IFF_VNET_HDR)
                .expect("TUN_F_CSUM", TunDevice.TUN_F_CSUM)
                .expect("TUN_F_TSO4", TunDevice.TUN_F_TSO4)
                .expect("TUN_F_TSO6", TunDevice.TUN_F_TSO6)

                // netlink
                .expect("sizeof(struct nlmsghdr)", NetlinkStructs.NLMSGHDR.byteSize())
                .expect("offsetof(struct nlmsghdr, nlmsg_type)", NetlinkStructs.NLMSG_TYPE)
                .expect("offsetof(struct nlmsghdr, nlmsg_flags)", NetlinkStructs.NLMSG_FLAGS)
                .expect("offsetof(struct nlmsghdr, nlmsg_seq)", NetlinkStructs.NLMSG_SEQ)
                .expect("offsetof(struct nlmsghdr, nlmsg_pid)", NetlinkStructs.NLMSG_PID)
                .expect("NLMSG_HDRLEN", NetlinkStructs.NLMSG_HDRLEN)
                .expect("sizeof(struct nlmsgerr)", NetlinkStructs.NLMSGERR.byteSize())
                .expect("sizeof(struct sockaddr_nl)", NetlinkStructs.SOCKADDR_NL.byteSize())
                .expect("offsetof(struct sockaddr_nl, nl_pid)", NetlinkStructs.NL_PID)
                .expect("sizeof(struct rtattr)", NetlinkStructs.RTATTR.byteSize())
                .expect("sizeof(struct ifinfomsg)", NetlinkStructs.IFINFOMSG.byteSize())
                .expect("offsetof(struct ifinfomsg, ifi_type)", NetlinkStructs.IFI_TYPE)
                .expect("offsetof(struct ifinfomsg, ifi_index)", NetlinkStructs.IFI_INDEX)
                .expect("offsetof(struct ifinfomsg, ifi_flags)", NetlinkStructs.IFI_FLAGS)
                .expect("offsetof(struct ifinfomsg, ifi_change)", NetlinkStructs.IFI_CHANGE)
                .expect("sizeof(struct ifaddrmsg)", NetlinkStructs.IFADDRMSG.byteSize())
                .expect("offsetof(struct ifaddrmsg, ifa_prefixlen)", NetlinkStructs.IFA_PREFIXLEN)
                .expect("offsetof(struct ifaddrmsg, ifa_scope)", NetlinkStructs.IFA_SCOPE)
                .expect("offsetof(struct ifaddrmsg, ifa_index)", NetlinkStructs.IFA_INDEX)
                .expect("sizeof(struct rtmsg)", NetlinkStructs.RTMSG.byteSize())
                .expect("offsetof(struct rtmsg, rtm_dst_len)", NetlinkStructs.RTM_DST_LEN)
                .expect("offsetof(struct rtmsg, rtm_table)", NetlinkStructs.RTM_TABLE)
                .expect("offsetof(struct rtmsg, rtm_protocol)", NetlinkStructs.RTM_PROTOCOL)
                .expect("offsetof(struct rtmsg, rtm_scope)", NetlinkStructs.RTM_SCOPE)
                .expect("offsetof(struct rtmsg, rtm_type)", NetlinkStructs.RTM_TYPE)
                .expect("offsetof(struct rtmsg, rtm_flags)", NetlinkStructs.RTM_FLAGS)
                .expect("sizeof(struct fib_rule_hdr)", NetlinkStructs.FIB_RULE_HDR.byteSize())
                .expect("offsetof(struct fib_rule_hdr, dst_len)", NetlinkStructs.FRH_DST_LEN)
                .expect("offsetof(struct fib_rule_hdr, src_len)", NetlinkStructs.FRH_SRC_LEN)
                .expect("offsetof(struct fib_rule_hdr, table)", NetlinkStructs.FRH_TABLE)
                .expect("offsetof(struct fib_rule_hdr, action)", NetlinkStructs.FRH_ACTION)
                .expect("sizeof(struct fib_rule_port_range)", NetlinkStructs.FIB_RULE_PORT_RANGE.byteSize())
                .expect("sizeof(struct ndmsg)", NetlinkStructs.NDMSG.byteSize())
                .expect("offsetof(struct ndmsg, ndm_ifindex)", NetlinkStructs.NDM_IFINDEX)
                .expect("offsetof(struct ndmsg, ndm_state)", NetlinkStructs.NDM_STATE)
                .expect("offsetof(struct ndmsg, ndm_flags)", NetlinkStructs.NDM_FLAGS)
                .expect("offsetof(struct ndmsg, ndm_type)", NetlinkStructs.NDM_TYPE);
    }

    @Test
    void shouldMatchKernelStructLayouts() throws Exception {
        List<String> mismatches = probe().mismatches();
        assertEquals(List.of(), mismatches, "struct layouts differ from the C headers");
    }
}
