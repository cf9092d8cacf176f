package dev.ferry.nativeio.netlink;

import static dev.ferry.nativeio.netlink.NetlinkMessage.address;
import static dev.ferry.nativeio.netlink.NetlinkMessage.string;
import static dev.ferry.nativeio.netlink.NetlinkMessage.u32;
import static dev.ferry.nativeio.netlink.NetlinkMessage.u8;
import static java.lang.foreign.ValueLayout.JAVA_BYTE;
import static java.lang.foreign.ValueLayout.JAVA_INT_UNALIGNED;
import static java.lang.foreign.ValueLayout.JAVA_SHORT;
import static java.lang.foreign.ValueLayout.JAVA_SHORT_UNALIGNED;

import dev.ferry.nativeio.libc.Errno;
import dev.ferry.nativeio.libc.LibC;
import dev.ferry.nativeio.libc.NativeException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.net.Inet4Address;
import java.net.InetAddress;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.function.Consumer;

/**
 * An rtnetlink client (rtnetlink(7)) over one NETLINK_ROUTE socket: links (veth pairs, move to
 * a namespace, up/down, MTU, delete, read), addresses, routes (tables, onlink next hops),
 * policy rules (pref, iif, from/to, ipproto, dport range, table) and neighbours. Each change
 * waits for the kernel's ack; a refusal becomes a {@link NativeException} naming the request
 * and the errno, with the kernel's extended-ack text when it gave one, e.g.
 * {@code RTM_NEWRULE pref 30 ... dport 30000-65535 lookup 200: EINVAL (Invalid argument)}.
 *
 * <p>The socket, and so every request, acts on the network namespace of the thread that
 * opened it. Not thread-safe: one control thread uses it.
 *
 * <p>TUN devices are created with the TUNSETIFF ioctl ({@code TunDevice}), not here: the
 * kernel refuses {@code RTM_NEWLINK kind tun} ("tun/tap creation via rtnetlink is not supported").
 */
public final class RtNetlink implements AutoCloseable {
    private static final int BUFFER_SIZE = 64 * 1024;
    private static final int REPLY_TIMEOUT_MS = 5_000;

    private final Arena arena = Arena.ofShared();
    private final MemorySegment request = arena.allocate(BUFFER_SIZE, 8);
    private final MemorySegment reply = arena.allocate(BUFFER_SIZE, 8);
    private final MemorySegment kernel = arena.allocate(NetlinkStructs.SOCKADDR_NL);
    private final int fd;
    private int seq = (int) (System.nanoTime() & 0x7fffffff);

    private RtNetlink(int fd) {
        this.fd = fd;
        kernel.set(JAVA_SHORT, 0, (short) LibC.AF_NETLINK);
    }

    /** Opens a NETLINK_ROUTE socket in the calling thread's network namespace. */
    public static RtNetlink open() {
        int fd = LibC.check("socket(AF_NETLINK, NETLINK_ROUTE)",
                LibC.socket(LibC.AF_NETLINK, LibC.SOCK_RAW | LibC.SOCK_CLOEXEC, Rtnl.NETLINK_ROUTE));
        try (Arena a = Arena.ofConfined()) {
            MemorySegment local = a.allocate(NetlinkStructs.SOCKADDR_NL);
            local.set(JAVA_SHORT, 0, (short) LibC.AF_NETLINK);
            LibC.check("bind(AF_NETLINK)", LibC.bind(fd, local));
            // acks echo only the request header, and carry the kernel's error text
            LibC.setsockopt(fd, Rtnl.SOL_NETLINK, Rtnl.NETLINK_CAP_ACK, 1);
            LibC.setsockopt(fd, Rtnl.SOL_NETLINK, Rtnl.NETLINK_EXT_ACK, 1);
            return new RtNetlink(fd);
        } catch (RuntimeException e) {
            LibC.close(fd);
            throw e;
        }
    }

    // ---- links ----

    /** Creates veth pair {@code name}/{@code peer}, both in this namespace, both down. */
    public void createVeth(String name, String peer) {
        createVeth(name, peer, null);
    }

    /** Creates veth pair {@code name}/{@code peer}; the peer goes straight into the namespace at {@code peerNamespace} when not null. */
    public void createVeth(String name, String peer, Path peerNamespace) {
        int nsFd = peerNamespace == null ? -1 : openNamespace(peerNamespace);
        try {
            NetlinkMessage m = message(Rtnl.RTM_NEWLINK, Rtnl.NLM_F_CREATE | Rtnl.NLM_F_EXCL);
            m.struct(NetlinkStructs.IFINFOMSG.byteSize());
            m.attrString(Rtnl.IFLA_IFNAME, name);
            int info = m.beginNest(Rtnl.IFLA_LINKINFO);
            m.attrString(Rtnl.IFLA_INFO_KIND, "veth");
            int data = m.beginNest(Rtnl.IFLA_INFO_DATA);
            int peerNest = m.beginNest(Rtnl.VETH_INFO_PEER);
            m.struct(NetlinkStructs.IFINFOMSG.byteSize());
            m.attrString(Rtnl.IFLA_IFNAME, peer);
            if (nsFd >= 0) {
                m.attrU32(Rtnl.IFLA_NET_NS_FD, nsFd);
            }
            m.endNest(peerNest);
            m.endNest(data);
            m.endNest(info);
            execute(m, "RTM_NEWLINK veth " + name + " peer " + peer + (peerNamespace == null ? "" : " netns " + peerNamespace));
        } finally {
            if (nsFd >= 0) {
                LibC.close(nsFd);
            }
        }
    }

    /** Creates a link of {@code kind} with no kind-specific data (e.g. {@code dummy}). */
    public void createLink(String name, String kind) {
        NetlinkMessage m = message(Rtnl.RTM_NEWLINK, Rtnl.NLM_F_CREATE | Rtnl.NLM_F_EXCL);
        m.struct(NetlinkStructs.IFINFOMSG.byteSize());
        m.attrString(Rtnl.IFLA_IFNAME, name);
        int info = m.beginNest(Rtnl.IFLA_LINKINFO);
        m.attrString(Rtnl.IFLA_INFO_KIND, kind);
        m.endNest(info);
        execute(m, "RTM_NEWLINK " + kind + " " + name);
    }

    /** Sets {@code name} up or down. */
    public void setUp(String name, boolean up) {
        NetlinkMessage m = message(Rtnl.RTM_NEWLINK, 0);
        int ifi = m.struct(NetlinkStructs.IFINFOMSG.byteSize());
        m.u32(ifi + (int) NetlinkStructs.IFI_FLAGS, up ? Rtnl.IFF_UP : 0);
        m.u32(ifi + (int) NetlinkStructs.IFI_CHANGE, Rtnl.IFF_UP);
        m.attrString(Rtnl.IFLA_IFNAME, name);
        execute(m, "RTM_NEWLINK " + name + (up ? " up" : " down"));
    }

    /** Sets the MTU of {@code name}. */
    public void setMtu(String name, int mtu) {
        NetlinkMessage m = message(Rtnl.RTM_NEWLINK, 0);
        m.struct(NetlinkStructs.IFINFOMSG.byteSize());
        m.attrString(Rtnl.IFLA_IFNAME, name);
        m.attrU32(Rtnl.IFLA_MTU, mtu);
        execute(m, "RTM_NEWLINK " + name + " mtu " + mtu);
    }

    /** Moves {@code name} into the network namespace at {@code namespace} (an nsfs file, e.g. /var/run/netns/X). */
    public void moveToNamespace(String name, Path namespace) {
        int nsFd = openNamespace(namespace);
        try {
            NetlinkMessage m = message(Rtnl.RTM_NEWLINK, 0);
            m.struct(NetlinkStructs.IFINFOMSG.byteSize());
            m.attrString(Rtnl.IFLA_IFNAME, name);
            m.attrU32(Rtnl.IFLA_NET_NS_FD, nsFd);
            execute(m, "RTM_NEWLINK " + name + " netns " + namespace);
        } finally {
            LibC.close(nsFd);
        }
    }

    /** Deletes {@code name} (a veth pair goes with either end). */
    public void deleteLink(String name) {
        NetlinkMessage m = message(Rtnl.RTM_DELLINK, 0);
        m.struct(NetlinkStructs.IFINFOMSG.byteSize());
        m.attrString(Rtnl.IFLA_IFNAME, name);
        execute(m, "RTM_DELLINK " + name);
    }

    /** The link named {@code name}; a {@link NativeException} with ENODEV when there is none. */
    public Link link(String name) {
        NetlinkMessage m = message(Rtnl.RTM_GETLINK, 0);
        m.struct(NetlinkStructs.IFINFOMSG.byteSize());
        m.attrString(Rtnl.IFLA_IFNAME, name);
        List<Link> out = new ArrayList<>();
        execute(m, "RTM_GETLINK " + name, msg -> out.add(parseLink(msg)));
        if (out.isEmpty()) {
            throw new NativeException("RTM_GETLINK " + name, Errno.ENODEV);
        }
        return out.get(0);
    }

    /** The link named {@code name}, or empty. */
    public Optional<Link> findLink(String name) {
        try {
            return Optional.of(link(name));
        } catch (NativeException e) {
            if (e.errno() == Errno.ENODEV) {
                return Optional.empty();
            }
            throw e;
        }
    }

    /** Every link in this namespace. */
    public List<Link> links() {
        NetlinkMessage m = message(Rtnl.RTM_GETLINK, Rtnl.NLM_F_DUMP);
        m.struct(NetlinkStructs.IFINFOMSG.byteSize());
        List<Link> out = new ArrayList<>();
        execute(m, "RTM_GETLINK dump", msg -> out.add(parseLink(msg)));
        return out;
    }

    private static Link parseLink(MemorySegment msg) {
        long base = NetlinkStructs.NLMSG_HDRLEN;
        int index = msg.get(JAVA_INT_UNALIGNED, base + NetlinkStructs.IFI_INDEX);
        int flags = msg.get(JAVA_INT_UNALIGNED, base + NetlinkStructs.IFI_FLAGS);
        Map<Integer, MemorySegment> a = NetlinkMessage.attributes(msg,
                base + NetlinkStructs.IFINFOMSG.byteSize(), msg.byteSize());
        String kind = null;
        MemorySegment info = a.get(Rtnl.IFLA_LINKINFO);
        if (info != null) {
            kind = string(NetlinkMessage.nested(info).get(Rtnl.IFLA_INFO_KIND));
        }
        return new Link(index, string(a.get(Rtnl.IFLA_IFNAME)), flags, u32(a.get(Rtnl.IFLA_MTU), 0),
                NetlinkMessage.mac(a.get(Rtnl.IFLA_ADDRESS)), kind, u32(a.get(Rtnl.IFLA_LINK), 0));
    }

    /** The index of {@code name}. */
    public int ifindex(String name) {
        return link(name).index();
    }

    // ---- addresses ----

    /** Adds {@code address/prefixLength} to {@code ifname} (scope global). */
    public void addAddress(String ifname, InetAddress address, int prefixLength) {
        addAddress(ifname, address, prefixLength, Rtnl.RT_SCOPE_UNIVERSE);
    }

    /**
     * Adds {@code address/prefixLength} to {@code ifname} with {@code scope} ({@link Rtnl#RT_SCOPE_HOST}:
     * the node answers for it, ARP included, but never picks it as the source of its own packets).
     */
    public void addAddress(String ifname, InetAddress address, int prefixLength, int scope) {
        execute(addressMessage(Rtnl.RTM_NEWADDR, Rtnl.NLM_F_CREATE | Rtnl.NLM_F_EXCL, ifindex(ifname), address, prefixLength, scope),
                "RTM_NEWADDR " + address.getHostAddress() + "/" + prefixLength + " dev " + ifname);
    }

    /** Removes {@code address/prefixLength} from {@code ifname}. */
    public void deleteAddress(String ifname, InetAddress address, int prefixLength) {
        execute(addressMessage(Rtnl.RTM_DELADDR, 0, ifindex(ifname), address, prefixLength, Rtnl.RT_SCOPE_UNIVERSE),
                "RTM_DELADDR " + address.getHostAddress() + "/" + prefixLength + " dev " + ifname);
    }

    private NetlinkMessage addressMessage(int type, int flags, int index, InetAddress address, int prefixLength, int scope) {
        NetlinkMessage m = message(type, flags);
        int ifa = m.struct(NetlinkStructs.IFADDRMSG.byteSize());
        m.u8(ifa + (int) NetlinkStructs.IFA_FAMILY, family(address));
        m.u8(ifa + (int) NetlinkStructs.IFA_PREFIXLEN, prefixLength);
        m.u8(ifa + (int) NetlinkStructs.IFA_SCOPE, scope);
        m.u32(ifa + (int) NetlinkStructs.IFA_INDEX, index);
        if (address instanceof Inet4Address) {
            m.attrAddress(Rtnl.IFA_LOCAL, address);
        }
        m.attrAddress(Rtnl.IFA_ADDRESS, address);
        return m;
    }

    /** The addresses of {@code ifname}. */
    public List<Address> addresses(String ifname) {
        int index = ifindex(ifname);
        NetlinkMessage m = message(Rtnl.RTM_GETADDR, Rtnl.NLM_F_DUMP);
        m.struct(NetlinkStructs.IFADDRMSG.byteSize());
        List<Address> out = new ArrayList<>();
        execute(m, "RTM_GETADDR dump", msg -> {
            long base = NetlinkStructs.NLMSG_HDRLEN;
            int idx = msg.get(JAVA_INT_UNALIGNED, base + NetlinkStructs.IFA_INDEX);
            if (idx != index) {
                return;
            }
            Map<Integer, MemorySegment> a = NetlinkMessage.attributes(msg, base + NetlinkStructs.IFADDRMSG.byteSize(), msg.byteSize());
            MemorySegment addr = a.containsKey(Rtnl.IFA_LOCAL) ? a.get(Rtnl.IFA_LOCAL) : a.get(Rtnl.IFA_ADDRESS);
            out.add(new Address(idx, address(addr), Byte.toUnsignedInt(msg.get(JAVA_BYTE, base + NetlinkStructs.IFA_PREFIXLEN))));
        });
        return out;
    }

    // ---- routes ----

    /** Adds {@code route}; EEXIST when it is there already. */
    public void addRoute(Route route) {
        execute(routeMessage(Rtnl.RTM_NEWROUTE, Rtnl.NLM_F_CREATE | Rtnl.NLM_F_EXCL, route, route.scope()),
                "RTM_NEWROUTE " + route);
    }

    /** Adds or replaces {@code route}. */
    public void replaceRoute(Route route) {
        execute(routeMessage(Rtnl.RTM_NEWROUTE, Rtnl.NLM_F_CREATE | Rtnl.NLM_F_REPLACE, route, route.scope()),
                "RTM_NEWROUTE replace " + route);
    }

    /** Deletes {@code route}; ESRCH when there is no such route. */
    public void deleteRoute(Route route) {
        execute(routeMessage(Rtnl.RTM_DELROUTE, 0, route, Rtnl.RT_SCOPE_NOWHERE), "RTM_DELROUTE " + route);
    }

    private NetlinkMessage routeMessage(int type, int flags, Route r, int scope) {
        NetlinkMessage m = message(type, flags);
        int rtm = m.struct(NetlinkStructs.RTMSG.byteSize());
        m.u8(rtm + (int) NetlinkStructs.RTM_FAMILY, r.ipv6() ? LibC.AF_INET6 : LibC.AF_INET);
        m.u8(rtm + (int) NetlinkStructs.RTM_DST_LEN, r.prefixLength());
        m.u8(rtm + (int) NetlinkStructs.RTM_TABLE, r.table() < 256 ? r.table() : Rtnl.RT_TABLE_UNSPEC);
        m.u8(rtm + (int) NetlinkStructs.RTM_PROTOCOL, type == Rtnl.RTM_DELROUTE ? 0 : Rtnl.RTPROT_STATIC);
        m.u8(rtm + (int) NetlinkStructs.RTM_SCOPE, scope);
        m.u8(rtm + (int) NetlinkStructs.RTM_TYPE, r.type());
        m.u32(rtm + (int) NetlinkStructs.RTM_FLAGS, r.onlink() ? Rtnl.RTNH_F_ONLINK : 0);
        m.attrU32(Rtnl.RTA_TABLE, r.table());
        if (r.destination() != null) {
            m.attrAddress(Rtnl.RTA_DST, r.destination());
        }
        if (r.gateway() != null) {
            m.attrAddress(Rtnl.RTA_GATEWAY, r.gateway());
        }
        if (r.ifindex() != 0) {
            m.attrU32(Rtnl.RTA_OIF, r.ifindex());
        }
        if (r.metric() != 0) {
            m.attrU32(Rtnl.RTA_PRIORITY, r.metric());
        }
        return m;
    }

    /** The IPv4 ({@code ipv6} false) or IPv6 routes of {@code table}. */
    public List<Route> routes(boolean ipv6, int table) {
        NetlinkMessage m = message(Rtnl.RTM_GETROUTE, Rtnl.NLM_F_DUMP);
        int rtm = m.struct(NetlinkStructs.RTMSG.byteSize());
        m.u8(rtm + (int) NetlinkStructs.RTM_FAMILY, ipv6 ? LibC.AF_INET6 : LibC.AF_INET);
        List<Route> out = new ArrayList<>();
        execute(m, "RTM_GETROUTE dump", msg -> {
            long base = NetlinkStructs.NLMSG_HDRLEN;
            Map<Integer, MemorySegment> a = NetlinkMessage.attributes(msg, base + NetlinkStructs.RTMSG.byteSize(), msg.byteSize());
            int t = u32(a.get(Rtnl.RTA_TABLE), Byte.toUnsignedInt(msg.get(JAVA_BYTE, base + NetlinkStructs.RTM_TABLE)));
            int family = Byte.toUnsignedInt(msg.get(JAVA_BYTE, base + NetlinkStructs.RTM_FAMILY));
            if (t != table || family != (ipv6 ? LibC.AF_INET6 : LibC.AF_INET)) {
                return;
            }
            int flags = msg.get(JAVA_INT_UNALIGNED, base + NetlinkStructs.RTM_FLAGS);
            out.add(new Route(ipv6, address(a.get(Rtnl.RTA_DST)),
                    Byte.toUnsignedInt(msg.get(JAVA_BYTE, base + NetlinkStructs.RTM_DST_LEN)),
                    address(a.get(Rtnl.RTA_GATEWAY)), u32(a.get(Rtnl.RTA_OIF), 0), t,
                    (flags & Rtnl.RTNH_F_ONLINK) != 0, Byte.toUnsignedInt(msg.get(JAVA_BYTE, base + NetlinkStructs.RTM_TYPE)),
                    u32(a.get(Rtnl.RTA_PRIORITY), 0)));
        });
        return out;
    }

    // ---- rules ----

    /** Adds policy rule {@code rule}. */
    public void addRule(Rule rule) {
        execute(ruleMessage(Rtnl.RTM_NEWRULE, Rtnl.NLM_F_CREATE | Rtnl.NLM_F_EXCL, rule), "RTM_NEWRULE " + rule);
    }

    /** Deletes the rule matching {@code rule}'s selectors. */
    public void deleteRule(Rule rule) {
        execute(ruleMessage(Rtnl.RTM_DELRULE, 0, rule), "RTM_DELRULE " + rule);
    }

    private NetlinkMessage ruleMessage(int type, int flags, Rule r) {
        NetlinkMessage m = message(type, flags);
        int frh = m.struct(NetlinkStructs.FIB_RULE_HDR.byteSize());
        m.u8(frh + (int) NetlinkStructs.FRH_FAMILY, r.ipv6() ? LibC.AF_INET6 : LibC.AF_INET);
        m.u8(frh + (int) NetlinkStructs.FRH_DST_LEN, r.to() == null ? 0 : r.toLength());
        m.u8(frh + (int) NetlinkStructs.FRH_SRC_LEN, r.from() == null ? 0 : r.fromLength());
        if (r.isJump()) {
            m.u8(frh + (int) NetlinkStructs.FRH_ACTION, Rtnl.FR_ACT_GOTO);
            m.attrU32(Rtnl.FRA_GOTO, r.gotoPriority());
        } else {
            m.u8(frh + (int) NetlinkStructs.FRH_TABLE, r.table() < 256 ? r.table() : Rtnl.RT_TABLE_UNSPEC);
            m.u8(frh + (int) NetlinkStructs.FRH_ACTION, Rtnl.FR_ACT_TO_TBL);
            m.attrU32(Rtnl.FRA_TABLE, r.table());
        }
        if (r.priority() >= 0) {
            m.attrU32(Rtnl.FRA_PRIORITY, r.priority());
        }
        if (r.iif() != null) {
            m.attrString(Rtnl.FRA_IIFNAME, r.iif());
        }
        if (r.from() != null) {
            m.attrAddress(Rtnl.FRA_SRC, r.from());
        }
        if (r.to() != null) {
            m.attrAddress(Rtnl.FRA_DST, r.to());
        }
        if (r.ipProto() != 0) {
            m.attrU8(Rtnl.FRA_IP_PROTO, r.ipProto());
        }
        if (r.sportStart() != 0 || r.sportEnd() != 0) {
            m.attrU32(Rtnl.FRA_SPORT_RANGE, portRange(r.sportStart(), r.sportEnd()));
        }
        if (r.dportStart() != 0 || r.dportEnd() != 0) {
            m.attrU32(Rtnl.FRA_DPORT_RANGE, portRange(r.dportStart(), r.dportEnd()));
        }
        return m;
    }

    /** struct fib_rule_port_range {__u16 start; __u16 end;} in host order, as one u32 attribute. */
    private static int portRange(int start, int end) {
        return (start & 0xffff) | (end << 16);
    }

    /** The IPv4 or IPv6 policy rules, in priority order. */
    public List<Rule> rules(boolean ipv6) {
        NetlinkMessage m = message(Rtnl.RTM_GETRULE, Rtnl.NLM_F_DUMP);
        int frh = m.struct(NetlinkStructs.FIB_RULE_HDR.byteSize());
        m.u8(frh + (int) NetlinkStructs.FRH_FAMILY, ipv6 ? LibC.AF_INET6 : LibC.AF_INET);
        List<Rule> out = new ArrayList<>();
        execute(m, "RTM_GETRULE dump", msg -> {
            long base = NetlinkStructs.NLMSG_HDRLEN;
            Map<Integer, MemorySegment> a = NetlinkMessage.attributes(msg, base + NetlinkStructs.FIB_RULE_HDR.byteSize(), msg.byteSize());
            MemorySegment sports = a.get(Rtnl.FRA_SPORT_RANGE);
            MemorySegment ports = a.get(Rtnl.FRA_DPORT_RANGE);
            InetAddress from = address(a.get(Rtnl.FRA_SRC));
            InetAddress to = address(a.get(Rtnl.FRA_DST));
            out.add(new Rule(ipv6, u32(a.get(Rtnl.FRA_PRIORITY), 0), string(a.get(Rtnl.FRA_IIFNAME)),
                    from, from == null ? 0 : Byte.toUnsignedInt(msg.get(JAVA_BYTE, base + NetlinkStructs.FRH_SRC_LEN)),
                    to, to == null ? 0 : Byte.toUnsignedInt(msg.get(JAVA_BYTE, base + NetlinkStructs.FRH_DST_LEN)),
                    u8(a.get(Rtnl.FRA_IP_PROTO), 0),
                    sports == null ? 0 : Short.toUnsignedInt(sports.get(JAVA_SHORT_UNALIGNED, 0)),
                    sports == null ? 0 : Short.toUnsignedInt(sports.get(JAVA_SHORT_UNALIGNED, 2)),
                    ports == null ? 0 : Short.toUnsignedInt(ports.get(JAVA_SHORT_UNALIGNED, 0)),
                    ports == null ? 0 : Short.toUnsignedInt(ports.get(JAVA_SHORT_UNALIGNED, 2)),
                    u32(a.get(Rtnl.FRA_TABLE), Byte.toUnsignedInt(msg.get(JAVA_BYTE, base + NetlinkStructs.FRH_TABLE))),
                    msg.get(JAVA_BYTE, base + NetlinkStructs.FRH_ACTION) == Rtnl.FR_ACT_GOTO ? u32(a.get(Rtnl.FRA_GOTO), 0) : 0));
        });
        return out;
    }

    // ---- neighbours ----

    /** Adds or replaces neighbour entry {@code n}. */
    public void addNeighbour(Neighbour n) {
        NetlinkMessage m = neighbourMessage(Rtnl.RTM_NEWNEIGH, Rtnl.NLM_F_CREATE | Rtnl.NLM_F_REPLACE, n);
        m.attrBytes(Rtnl.NDA_LLADDR, NetlinkMessage.parseMac(n.lladdr()));
        execute(m, "RTM_NEWNEIGH " + n);
    }

    /** Deletes the entry for {@code n}'s address on its interface. */
    public void deleteNeighbour(Neighbour n) {
        execute(neighbourMessage(Rtnl.RTM_DELNEIGH, 0, n), "RTM_DELNEIGH " + n);
    }

    private NetlinkMessage neighbourMessage(int type, int flags, Neighbour n) {
        NetlinkMessage m = message(type, flags);
        int ndm = m.struct(NetlinkStructs.NDMSG.byteSize());
        m.u8(ndm + (int) NetlinkStructs.NDM_FAMILY, family(n.address()));
        m.u32(ndm + (int) NetlinkStructs.NDM_IFINDEX, n.ifindex());
        m.u16(ndm + (int) NetlinkStructs.NDM_STATE, n.state());
        m.attrAddress(Rtnl.NDA_DST, n.address());
        return m;
    }

    /** The neighbour entries on interface {@code ifindex}. */
    public List<Neighbour> neighbours(int ifindex) {
        NetlinkMessage m = message(Rtnl.RTM_GETNEIGH, Rtnl.NLM_F_DUMP);
        m.struct(NetlinkStructs.NDMSG.byteSize());
        List<Neighbour> out = new ArrayList<>();
        execute(m, "RTM_GETNEIGH dump", msg -> {
            long base = NetlinkStructs.NLMSG_HDRLEN;
            int idx = msg.get(JAVA_INT_UNALIGNED, base + NetlinkStructs.NDM_IFINDEX);
            if (idx != ifindex) {
                return;
            }
            Map<Integer, MemorySegment> a = NetlinkMessage.attributes(msg, base + NetlinkStructs.NDMSG.byteSize(), msg.byteSize());
            out.add(new Neighbour(idx, address(a.get(Rtnl.NDA_DST)), NetlinkMessage.mac(a.get(Rtnl.NDA_LLADDR)),
                    Short.toUnsignedInt(msg.get(JAVA_SHORT_UNALIGNED, base + NetlinkStructs.NDM_STATE))));
        });
        return out;
    }

    // ---- plumbing ----

    private static int family(InetAddress a) {
        return a instanceof Inet4Address ? LibC.AF_INET : LibC.AF_INET6;
    }

    private static int openNamespace(Path ns) {
        return LibC.check("open(" + ns + ")", LibC.open(ns.toString(), LibC.O_RDONLY | LibC.O_CLOEXEC));
    }

    private NetlinkMessage message(int type, int flags) {
        seq++;
        return new NetlinkMessage(request, type, Rtnl.NLM_F_REQUEST | Rtnl.NLM_F_ACK | flags, seq);
    }

    private void execute(NetlinkMessage m, String what) {
        execute(m, what, null);
    }

    /**
     * Sends {@code m} and reads replies until its ack, error or end of dump; each data message
     * (a slice holding exactly one message) goes to {@code onMessage}.
     */
    private void execute(NetlinkMessage m, String what, Consumer<MemorySegment> onMessage) {
        int len = m.finish();
        int mySeq = request.get(JAVA_INT_UNALIGNED, NetlinkStructs.NLMSG_SEQ);
        MemorySegment errno = LibC.threadErrnoState();
        long sent = LibC.sendto(errno, fd, request.address(), len, 0, kernel.address(), (int) kernel.byteSize());
        LibC.check("sendto(" + what + ")", sent);
        while (true) {
            int ready = LibC.pollOne(fd, LibC.POLLIN, REPLY_TIMEOUT_MS);
            if (ready == 0) {
                throw new NativeException(what + ": no reply from the kernel within " + REPLY_TIMEOUT_MS + " ms", Errno.EAGAIN);
            }
            long n = LibC.check("recv(" + what + ")", LibC.recvfrom(errno, fd, reply.address(), BUFFER_SIZE, 0, 0, 0));
            long at = 0;
            while (at + NetlinkStructs.NLMSG_HDRLEN <= n) {
                int msgLen = reply.get(JAVA_INT_UNALIGNED, at + NetlinkStructs.NLMSG_LEN);
                int type = Short.toUnsignedInt(reply.get(JAVA_SHORT_UNALIGNED, at + NetlinkStructs.NLMSG_TYPE));
                int flags = Short.toUnsignedInt(reply.get(JAVA_SHORT_UNALIGNED, at + NetlinkStructs.NLMSG_FLAGS));
                int s = reply.get(JAVA_INT_UNALIGNED, at + NetlinkStructs.NLMSG_SEQ);
                if (msgLen < NetlinkStructs.NLMSG_HDRLEN || at + msgLen > n) {
                    throw new NativeException(what + ": malformed netlink reply", Errno.EIO);
                }
                MemorySegment msg = reply.asSlice(at, msgLen);
                at += NetlinkMessage.align(msgLen);
                if (s != mySeq) {
                    continue; // a late reply to an earlier request
                }
                if (type == Rtnl.NLMSG_DONE) {
                    return;
                }
                if (type == Rtnl.NLMSG_ERROR) {
                    int error = msg.get(JAVA_INT_UNALIGNED, NetlinkStructs.NLMSG_HDRLEN);
                    if (error == 0) {
                        return;
                    }
                    throw new NativeException(what, -error, extendedAck(msg, flags));
                }
                if (type == Rtnl.NLMSG_NOOP) {
                    continue;
                }
                if (onMessage != null) {
                    onMessage.accept(msg);
                }
                if ((flags & Rtnl.NLM_F_MULTI) == 0 && onMessage != null && (m.segment().get(JAVA_SHORT_UNALIGNED,
                        NetlinkStructs.NLMSG_FLAGS) & Rtnl.NLM_F_DUMP) != Rtnl.NLM_F_DUMP) {
                    // a single reply to a GET; the ack follows, keep reading for it
                    continue;
                }
            }
        }
    }

    /** The NLMSGERR_ATTR_MSG text of an error, when the kernel sent one. */
    private static String extendedAck(MemorySegment msg, int flags) {
        if ((flags & Rtnl.NLM_F_ACK_TLVS) == 0) {
            return null;
        }
        long tlvs = NetlinkStructs.NLMSG_HDRLEN + NetlinkStructs.NLMSGERR.byteSize();
        if (tlvs >= msg.byteSize()) {
            return null;
        }
        return string(NetlinkMessage.attributes(msg, tlvs, msg.byteSize()).get(Rtnl.NLMSGERR_ATTR_MSG));
    }

    @Override
    public void close() {
        LibC.close(fd);
        arena.close();
    }
}
