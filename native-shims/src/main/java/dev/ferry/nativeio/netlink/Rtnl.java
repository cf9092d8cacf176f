package dev.ferry.nativeio.netlink;

/** Netlink and rtnetlink constants (linux/netlink.h, linux/rtnetlink.h, if_link.h, if_addr.h, fib_rules.h, neighbour.h). */
public final class Rtnl {
    public static final int NETLINK_ROUTE = 0;
    public static final int SOL_NETLINK = 270;
    public static final int NETLINK_CAP_ACK = 10;
    public static final int NETLINK_EXT_ACK = 11;

    public static final int NLMSG_NOOP = 1;
    public static final int NLMSG_ERROR = 2;
    public static final int NLMSG_DONE = 3;

    public static final int NLM_F_REQUEST = 0x1;
    public static final int NLM_F_MULTI = 0x2;
    public static final int NLM_F_ACK = 0x4;
    public static final int NLM_F_DUMP = 0x300;
    public static final int NLM_F_REPLACE = 0x100;
    public static final int NLM_F_EXCL = 0x200;
    public static final int NLM_F_CREATE = 0x400;
    public static final int NLM_F_ACK_TLVS = 0x200;
    public static final int NLMSGERR_ATTR_MSG = 1;

    public static final int RTM_NEWLINK = 16;
    public static final int RTM_DELLINK = 17;
    public static final int RTM_GETLINK = 18;
    public static final int RTM_NEWADDR = 20;
    public static final int RTM_DELADDR = 21;
    public static final int RTM_GETADDR = 22;
    public static final int RTM_NEWROUTE = 24;
    public static final int RTM_DELROUTE = 25;
    public static final int RTM_GETROUTE = 26;
    public static final int RTM_NEWNEIGH = 28;
    public static final int RTM_DELNEIGH = 29;
    public static final int RTM_GETNEIGH = 30;
    public static final int RTM_NEWRULE = 32;
    public static final int RTM_DELRULE = 33;
    public static final int RTM_GETRULE = 34;

    public static final int NLA_TYPE_MASK = 0x3fff;
    public static final int NLA_F_NESTED = 0x8000;

    public static final int IFLA_ADDRESS = 1;
    public static final int IFLA_IFNAME = 3;
    public static final int IFLA_MTU = 4;
    public static final int IFLA_LINK = 5;
    public static final int IFLA_LINKINFO = 18;
    public static final int IFLA_NET_NS_PID = 19;
    public static final int IFLA_NET_NS_FD = 28;
    public static final int IFLA_INFO_KIND = 1;
    public static final int IFLA_INFO_DATA = 2;
    public static final int VETH_INFO_PEER = 1;
    public static final int IFF_UP = 0x1;

    public static final int IFA_ADDRESS = 1;
    public static final int IFA_LOCAL = 2;

    public static final int RTA_DST = 1;
    public static final int RTA_SRC = 2;
    public static final int RTA_OIF = 4;
    public static final int RTA_GATEWAY = 5;
    public static final int RTA_PRIORITY = 6;
    public static final int RTA_TABLE = 15;
    public static final int RTNH_F_ONLINK = 4;
    public static final int RTPROT_BOOT = 3;
    public static final int RTPROT_STATIC = 4;
    public static final int RT_SCOPE_UNIVERSE = 0;
    public static final int RT_SCOPE_LINK = 253;
    public static final int RT_SCOPE_HOST = 254;
    public static final int RT_SCOPE_NOWHERE = 255;
    public static final int RTN_UNICAST = 1;
    public static final int RTN_LOCAL = 2;
    public static final int RTN_BLACKHOLE = 6;
    public static final int RTN_UNREACHABLE = 7;
    public static final int RT_TABLE_UNSPEC = 0;
    public static final int RT_TABLE_MAIN = 254;
    public static final int RT_TABLE_LOCAL = 255;

    public static final int FRA_DST = 1;
    public static final int FRA_SRC = 2;
    public static final int FRA_IIFNAME = 3;
    /** The priority of the rule an FR_ACT_GOTO rule jumps to. */
    public static final int FRA_GOTO = 4;
    public static final int FRA_PRIORITY = 6;
    public static final int FRA_TABLE = 15;
    public static final int FRA_OIFNAME = 17;
    public static final int FRA_IP_PROTO = 22;
    public static final int FRA_SPORT_RANGE = 23;
    public static final int FRA_DPORT_RANGE = 24;
    public static final int FR_ACT_TO_TBL = 1;
    public static final int FR_ACT_GOTO = 2;

    public static final int NDA_DST = 1;
    public static final int NDA_LLADDR = 2;
    public static final int NUD_PERMANENT = 0x80;

    private Rtnl() {
    }
}
