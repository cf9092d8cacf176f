package dev.ferry.nativeio.netlink;

import static java.lang.foreign.ValueLayout.JAVA_BYTE;
import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_SHORT;

import java.lang.foreign.MemoryLayout;
import java.lang.foreign.MemoryLayout.PathElement;
import java.lang.foreign.StructLayout;

/**
 * The netlink and rtnetlink structs (linux/netlink.h, linux/rtnetlink.h, linux/if_link.h,
 * linux/if_addr.h, linux/neighbour.h, linux/fib_rules.h; netlink(7), rtnetlink(7)).
 *
 * <p>A request or reply message, attributes 4-byte aligned:
 * <pre>
 *  +------------------+ 0
 *  | nlmsghdr (16)    | nlmsg_len, nlmsg_type, nlmsg_flags, nlmsg_seq, nlmsg_pid
 *  +------------------+ 16
 *  | family header    | ifinfomsg (16) | ifaddrmsg (8) | rtmsg (12) | fib_rule_hdr (12) | ndmsg (12)
 *  +------------------+
 *  | rtattr: len,type | value (len - 4 bytes), padded to 4; nested attributes hold rtattrs
 *  | ...              |
 *  +------------------+ nlmsg_len
 * </pre>
 * An error or ack is {@code nlmsgerr} (a negative errno, or 0, and the request's header),
 * followed with NETLINK_EXT_ACK by attributes such as NLMSGERR_ATTR_MSG.
 */
public final class NetlinkStructs {
    public static final StructLayout NLMSGHDR = MemoryLayout.structLayout(
            JAVA_INT.withName("nlmsg_len"),
            JAVA_SHORT.withName("nlmsg_type"),
            JAVA_SHORT.withName("nlmsg_flags"),
            JAVA_INT.withName("nlmsg_seq"),
            JAVA_INT.withName("nlmsg_pid")).withName("nlmsghdr");
    public static final long NLMSG_LEN = off(NLMSGHDR, "nlmsg_len");
    public static final long NLMSG_TYPE = off(NLMSGHDR, "nlmsg_type");
    public static final long NLMSG_FLAGS = off(NLMSGHDR, "nlmsg_flags");
    public static final long NLMSG_SEQ = off(NLMSGHDR, "nlmsg_seq");
    public static final long NLMSG_PID = off(NLMSGHDR, "nlmsg_pid");
    public static final int NLMSG_HDRLEN = (int) NLMSGHDR.byteSize();

    public static final StructLayout NLMSGERR = MemoryLayout.structLayout(
            JAVA_INT.withName("error"),
            NLMSGHDR.withName("msg")).withName("nlmsgerr");

    public static final StructLayout SOCKADDR_NL = MemoryLayout.structLayout(
            JAVA_SHORT.withName("nl_family"),
            JAVA_SHORT.withName("nl_pad"),
            JAVA_INT.withName("nl_pid"),
            JAVA_INT.withName("nl_groups")).withName("sockaddr_nl");
    public static final long NL_PID = off(SOCKADDR_NL, "nl_pid");

    public static final StructLayout RTATTR = MemoryLayout.structLayout(
            JAVA_SHORT.withName("rta_len"),
            JAVA_SHORT.withName("rta_type")).withName("rtattr");

    public static final StructLayout IFINFOMSG = MemoryLayout.structLayout(
            JAVA_BYTE.withName("ifi_family"),
            JAVA_BYTE.withName("__ifi_pad"),
            JAVA_SHORT.withName("ifi_type"),
            JAVA_INT.withName("ifi_index"),
            JAVA_INT.withName("ifi_flags"),
            JAVA_INT.withName("ifi_change")).withName("ifinfomsg");
    public static final long IFI_FAMILY = off(IFINFOMSG, "ifi_family");
    public static final long IFI_TYPE = off(IFINFOMSG, "ifi_type");
    public static final long IFI_INDEX = off(IFINFOMSG, "ifi_index");
    public static final long IFI_FLAGS = off(IFINFOMSG, "ifi_flags");
    public static final long IFI_CHANGE = off(IFINFOMSG, "ifi_change");

    public static final StructLayout IFADDRMSG = MemoryLayout.structLayout(
            JAVA_BYTE.withName("ifa_family"),
            JAVA_BYTE.withName("ifa_prefixlen"),
            JAVA_BYTE.withName("ifa_flags"),
            JAVA_BYTE.withName("ifa_scope"),
            JAVA_INT.withName("ifa_index")).withName("ifaddrmsg");
    public static final long IFA_FAMILY = off(IFADDRMSG, "ifa_family");
    public static final long IFA_PREFIXLEN = off(IFADDRMSG, "ifa_prefixlen");
    public static final long IFA_SCOPE = off(IFADDRMSG, "ifa_scope");
    public static final long IFA_INDEX = off(IFADDRMSG, "ifa_index");

    public static final StructLayout RTMSG = MemoryLayout.structLayout(
            JAVA_BYTE.withName("rtm_family"),
            JAVA_BYTE.withName("rtm_dst_len"),
            JAVA_BYTE.withName("rtm_src_len"),
            JAVA_BYTE.withName("rtm_tos"),
            JAVA_BYTE.withName("rtm_table"),
            JAVA_BYTE.withName("rtm_protocol"),
            JAVA_BYTE.withName("rtm_scope"),
            JAVA_BYTE.withName("rtm_type"),
            JAVA_INT.withName("rtm_flags")).withName("rtmsg");
    public static final long RTM_FAMILY = off(RTMSG, "rtm_family");
    public static final long RTM_DST_LEN = off(RTMSG, "rtm_dst_len");
    public static final long RTM_TABLE = off(RTMSG, "rtm_table");
    public static final long RTM_PROTOCOL = off(RTMSG, "rtm_protocol");
    public static final long RTM_SCOPE = off(RTMSG, "rtm_scope");
    public static final long RTM_TYPE = off(RTMSG, "rtm_type");
    public static final long RTM_FLAGS = off(RTMSG, "rtm_flags");

    public static final StructLayout FIB_RULE_HDR = MemoryLayout.structLayout(
            JAVA_BYTE.withName("family"),
            JAVA_BYTE.withName("dst_len"),
            JAVA_BYTE.withName("src_len"),
            JAVA_BYTE.withName("tos"),
            JAVA_BYTE.withName("table"),
            JAVA_BYTE.withName("res1"),
            JAVA_BYTE.withName("res2"),
            JAVA_BYTE.withName("action"),
            JAVA_INT.withName("flags")).withName("fib_rule_hdr");
    public static final long FRH_FAMILY = off(FIB_RULE_HDR, "family");
    public static final long FRH_DST_LEN = off(FIB_RULE_HDR, "dst_len");
    public static final long FRH_SRC_LEN = off(FIB_RULE_HDR, "src_len");
    public static final long FRH_TABLE = off(FIB_RULE_HDR, "table");
    public static final long FRH_ACTION = off(FIB_RULE_HDR, "action");

    public static final StructLayout FIB_RULE_PORT_RANGE = MemoryLayout.structLayout(
            JAVA_SHORT.withName("start"),
            JAVA_SHORT.withName("end")).withName("fib_rule_port_range");

    public static final StructLayout NDMSG = MemoryLayout.structLayout(
            JAVA_BYTE.withName("ndm_family"),
            JAVA_BYTE.withName("ndm_pad1"),
            JAVA_SHORT.withName("ndm_pad2"),
            JAVA_INT.withName("ndm_ifindex"),
            JAVA_SHORT.withName("ndm_state"),
            JAVA_BYTE.withName("ndm_flags"),
            JAVA_BYTE.withName("ndm_type")).withName("ndmsg");
    public static final long NDM_FAMILY = off(NDMSG, "ndm_family");
    public static final long NDM_IFINDEX = off(NDMSG, "ndm_ifindex");
    public static final long NDM_STATE = off(NDMSG, "ndm_state");
    public static final long NDM_FLAGS = off(NDMSG, "ndm_flags");
    public static final long NDM_TYPE = off(NDMSG, "ndm_type");

    private NetlinkStructs() {
    }

    private static long off(StructLayout layout, String name) {
        return layout.byteOffset(PathElement.groupElement(name));
    }
}
