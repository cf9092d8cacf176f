package dev.ferry.control.host;

import dev.ferry.dataplane.addr.Ipv4;
import dev.ferry.dataplane.addr.Ipv4Cidr;
import dev.ferry.control.sync.EndpointPorts;
import dev.ferry.dataplane.nat.SnatRange;
import dev.ferry.dataplane.service.NodeSpec;
import dev.ferry.dataplane.service.Protocol;
import dev.ferry.nativeio.IpProtocol;
import dev.ferry.nativeio.netlink.Route;
import dev.ferry.nativeio.netlink.Rule;
import dev.ferry.nativeio.netlink.Rtnl;

import java.net.InetAddress;
import java.net.UnknownHostException;
import java.util.ArrayList;
import java.util.List;

/**
 * The routing that steers a node's service traffic into ferry0 (docs/ARCHITECTURE.md,
 * "Attach"), as data: which sysctls, routes and policy rules, so that installing, removing
 * and cleaning up after a crashed predecessor all work from the same list.
 *
 * <pre>
 *  pref 10   iif ferry0                                    lookup local   written back by Ferry:
 *  pref 11   iif ferry0                                    lookup main      routed normally, never re-entering
 *  pref 12   to SERVICE_CIDR                               lookup 200     to a ClusterIP: no further rule concerns it
 *  pref 20   from POD_CIDR ipproto P sport ENDPOINT_PORTS  lookup 200     a local endpoint's reply (per protocol and range)
 *  pref 20   from POD_CIDR ipproto icmp                    lookup 200     ICMP errors from local pods about NATed flows
 *  pref 21   from POD_CIDR to CLUSTER_CIDR                 goto 100       pod to pod, not a reply: no rule below concerns it
 *  pref 22   to POD_CIDR ipproto P sport ENDPOINT_PORTS    lookup 200     a reply to a local client (per protocol and range)
 *  pref 22   to POD_CIDR ipproto icmp                      lookup 200     ICMP errors to local pods about NATed flows
 *  pref 23   to POD_CIDR                                   goto 100       to a local pod, not a reply: likewise
 *  pref 29   to NODE_IP ipproto tcp dport HEALTH_CHECK_PORT lookup local   the node answers (one per port)
 *  pref 30   to NODE_IP dport NODEPORTS                    lookup 200     NodePorts (every protocol with ports)
 *  pref 31   to NODE_IP dport SNAT_RANGE                   lookup 200     replies to masqueraded flows
 *  pref 31   to NODE_IP ipproto icmp                       lookup 200     ICMP errors about them
 *     or, with a masquerade address of its own (masqueradeAddress, on ferry0 with scope host):
 *  pref 31   to MASQ_ADDRESS ipproto tcp|udp|sctp|icmp            lookup 200  every packet to it, any port
 *  pref 100                                                lookup local   moved after ours (pref 0 removed)
 *  table 200: default dev ferry0        main: SERVICE_CIDR dev ferry0, EXTERNAL_IP/32 dev ferry0
 * </pre>
 *
 * <p>Only three kinds of packets enter ferry0: original-direction packets to a service frontend
 * (pref 12, routes and pref 30), replies of flows DNATed without masquerade (prefs 20/22: they come from
 * an endpoint's protocol and port) and replies to masqueraded flows (pref 31). Plain pod-to-pod
 * and pod-to-node traffic on other ports never meets ferry0. The endpoint-port rules are
 * reconciled on every sync ({@link #replyRules}); the kernel walks rules linearly for every
 * routed packet, so their number is bounded by folding ranges ({@link PortRanges}), and the
 * jumps at prefs 21 and 23 spare pod-to-pod traffic the rules for node addresses (each rule
 * walked costs a forwarded packet some 45-50 ns: docs/PERFORMANCE.md). The rules at prefs 30 and
 * 31 name no protocol: a port range matches only packets that have ports (TCP, UDP, SCTP, and
 * also DCCP, UDP-Lite, ESP and AH, whose packets pass through ferry0 unchanged), never an ARP
 * request's route lookup, which must reach the local table for the node to answer.
 */
public final class HostRouting {
    public static final String DEVICE = "ferry0";
    /** The routing table that means "into the dataplane". */
    public static final int TABLE = 200;
    public static final int PREF_FROM_FERRY_LOCAL = 10;
    public static final int PREF_FROM_FERRY_MAIN = 11;
    /**
     * The node config's service ranges, straight into ferry0: a packet to a ClusterIP walks no
     * further rule (the main table's routes for these ranges stay, for what ferry0 writes back
     * (pref 11) and as the fallbacks' place).
     */
    public static final int PREF_TO_SERVICES = 12;
    public static final int PREF_FROM_POD = 20;
    /**
     * Jumps for pod traffic to pods that no reply rule at pref 20 took (its source port is no
     * endpoint port, and the same ports are all pref 22 selects): to the local table's rule.
     * Agents before these jumps kept the rules of {@link #PREF_TO_POD} here; a start adopts such
     * rules as reply rules and its first sync moves them.
     */
    public static final int PREF_FROM_POD_DONE = 21;
    public static final int PREF_TO_POD = 22;
    /** Jumps for traffic to local pods that no reply rule at pref 22 took: to the local table's rule. */
    public static final int PREF_TO_POD_DONE = 23;
    /**
     * healthCheckNodePorts go straight to the local table, ahead of the NodePort rule: a load
     * balancer's probe is answered by the agent's own listener. (Steered through ferry0 with
     * the other node ports, only the SYN would get there: TCP early demux attaches the local
     * socket to the later packets before routing, and forwarding drops packets with a socket.)
     */
    public static final int PREF_HEALTH_CHECK = 29;
    public static final int PREF_NODE_PORTS = 30;
    public static final int PREF_SNAT_REPLIES = 31;
    public static final int PREF_LOCAL_MOVED = 100;
    /**
     * The most sport ranges per protocol and direction for endpoint replies: at most
     * 2 × 3 × this many rules. Measured per-packet cost of the rule list: docs/PERFORMANCE.md.
     */
    public static final int DEFAULT_MAX_REPLY_RANGES = 8;
    /** Every priority Ferry installs rules at: a crashed predecessor's rules are found by these. */
    public static final List<Integer> OWNED_PRIORITIES = List.of(PREF_FROM_FERRY_LOCAL, PREF_FROM_FERRY_MAIN, PREF_TO_SERVICES, PREF_FROM_POD,
        PREF_FROM_POD_DONE, PREF_TO_POD, PREF_TO_POD_DONE, PREF_HEALTH_CHECK, PREF_NODE_PORTS, PREF_SNAT_REPLIES, PREF_LOCAL_MOVED);
    private static final int PORT_MAX = 65535;
    private static final int[] PROTOCOLS = {Protocol.TCP.number(), Protocol.UDP.number(), Protocol.SCTP.number()};

    private HostRouting() {
    }

    /**
     * The sysctls the attach needs: forwarding, no reverse-path filter on what Ferry writes
     * back, local source addresses accepted from ferry0, and no IPv6 on ferry0 (nothing IPv6
     * is routed there; its link-local chatter would only be passed back).
     */
    public static List<String[]> sysctls() {
        final List<String[]> sysctls = new ArrayList<>(List.of(
            new String[] {"net.ipv4.ip_forward", "1"},
            // Early demux attaches a local socket to a packet before it is routed. A reply from a
            // local pod to the node's own socket (a kubelet probe's SYN-ACK) is then steered into
            // ferry0 by pref 20 and dropped by forwarding ("skb->sk set"); with early demux off it
            // is routed, goes through ferry0 (passed) and is delivered.
            new String[] {"net.ipv4.tcp_early_demux", "0"},
            new String[] {"net.ipv4.udp_early_demux", "0"},
            new String[] {"net.ipv4.conf.all.rp_filter", "0"},
            new String[] {"net/ipv4/conf/" + DEVICE + "/rp_filter", "0"},
            new String[] {"net/ipv4/conf/" + DEVICE + "/accept_local", "1"}));
        if (java.nio.file.Files.isDirectory(java.nio.file.Path.of("/proc/sys/net/ipv6/conf"))) {
            sysctls.add(new String[] {"net/ipv6/conf/" + DEVICE + "/disable_ipv6", "1"});
        }
        return sysctls;
    }

    /**
     * The policy rules, in the order they are added (the moved local rule before pref 0 is
     * removed). {@code snatAddressOwned}: the SNAT address is a masquerade address of its own, so
     * everything sent to it is a reply to a masqueraded flow (or ICMP about one), on any port.
     * Its rules still name the protocols: an ARP request's route lookup (protocol 0) must fall
     * through to the local table, so that the node answers for the address.
     *
     * <p>The jumps at prefs 21 and 23 are left out for a range that holds one of the node
     * addresses the rules at prefs 29-31 select (a NodePort address or the SNAT address): a pod's
     * packet to it must still meet them.
     */
    public static List<Rule> rules(final NodeSpec node, final SnatRange snat, final boolean snatAddressOwned) {
        final Ipv4Cidr podCidr = node.podCidr();
        final List<Integer> nodePortIps = node.nodePortIps();
        final List<Rule> rules = new ArrayList<>();
        rules.add(Rule.lookup(Rtnl.RT_TABLE_LOCAL).priority(PREF_FROM_FERRY_LOCAL).iif(DEVICE));
        rules.add(Rule.lookup(Rtnl.RT_TABLE_MAIN).priority(PREF_FROM_FERRY_MAIN).iif(DEVICE));
        for (final Ipv4Cidr services : node.serviceCidrs()) {
            rules.add(Rule.lookup(TABLE).priority(PREF_TO_SERVICES).to(inet(services.base()), services.prefixLen()));
        }
        if (podCidr != null) {
            // ICMP errors about NATed flows (port unreachable, fragmentation needed) quote the
            // translated packet and must be translated too; ICMP is rare enough to take it all.
            rules.add(fromPods(podCidr).ipProto(IpProtocol.ICMP));
            rules.add(toPods(podCidr).ipProto(IpProtocol.ICMP));
            final List<Integer> nodeAddresses = new ArrayList<>(nodePortIps);
            nodeAddresses.add(snat.address());
            for (final Ipv4Cidr pods : podDestinations(podCidr, node.clusterCidrs())) {
                if (nodeAddresses.stream().noneMatch(pods::contains)) {
                    rules.add(Rule.jumpTo(PREF_LOCAL_MOVED).priority(PREF_FROM_POD_DONE)
                        .from(inet(podCidr.base()), podCidr.prefixLen()).to(inet(pods.base()), pods.prefixLen()));
                }
            }
            if (nodeAddresses.stream().noneMatch(podCidr::contains)) {
                rules.add(Rule.jumpTo(PREF_LOCAL_MOVED).priority(PREF_TO_POD_DONE).to(inet(podCidr.base()), podCidr.prefixLen()));
            }
        }
        for (final int ip : nodePortIps) {
            rules.add(Rule.lookup(TABLE).priority(PREF_NODE_PORTS).to(inet(ip), 32).dport(node.nodePortMin(), node.nodePortMax()));
        }
        if (snatAddressOwned) {
            for (final int protocol : PROTOCOLS) {
                rules.add(Rule.lookup(TABLE).priority(PREF_SNAT_REPLIES).to(inet(snat.address()), 32).ipProto(protocol));
            }
        } else {
            rules.add(Rule.lookup(TABLE).priority(PREF_SNAT_REPLIES).to(inet(snat.address()), 32).dport(snat.minPort(), snat.maxPort()));
        }
        // ICMP errors about masqueraded flows (port unreachable, fragmentation needed) come back
        // to the SNAT address too; ICMP that is not about a tracked flow is passed back and
        // delivered locally through pref 10.
        rules.add(Rule.lookup(TABLE).priority(PREF_SNAT_REPLIES).to(inet(snat.address()), 32).ipProto(IpProtocol.ICMP));
        rules.add(Rule.lookup(Rtnl.RT_TABLE_LOCAL).priority(PREF_LOCAL_MOVED));
        return rules;
    }

    /**
     * The rules that steer replies of DNATed flows into ferry0: for each protocol, its endpoint
     * ports folded into at most {@code maxRangesPerProtocol} source-port ranges, each range once
     * leaving local pods (pref 20) and once entering them (pref 22). A protocol with an endpoint
     * on port 65535, which a rule's range cannot end at, is steered on every port.
     */
    public static ReplyRules replyRules(final Ipv4Cidr podCidr, final EndpointPorts ports, final int maxRangesPerProtocol) {
        final List<Rule> rules = new ArrayList<>();
        final int[] extra = {0};
        final boolean[] folded = {false};
        if (podCidr == null) {
            return new ReplyRules(List.of(), 0, false);
        }
        ports.forEachProtocol((protocol, set) -> {
            if (set.get(PORT_MAX)) {
                rules.add(fromPods(podCidr).ipProto(protocol.number()));
                rules.add(toPods(podCidr).ipProto(protocol.number()));
                extra[0] += PORT_MAX - set.cardinality();
                folded[0] = true;
                return;
            }
            final List<PortRanges.Range> ranges = PortRanges.fold(set, maxRangesPerProtocol);
            extra[0] += PortRanges.covered(ranges) - set.cardinality();
            folded[0] |= PortRanges.covered(ranges) > set.cardinality();
            for (final PortRanges.Range range : ranges) {
                rules.add(fromPods(podCidr).ipProto(protocol.number()).sport(range.start(), range.end()));
            }
            for (final PortRanges.Range range : ranges) {
                rules.add(toPods(podCidr).ipProto(protocol.number()).sport(range.start(), range.end()));
            }
        });
        return new ReplyRules(List.copyOf(rules), extra[0], folded[0]);
    }

    /**
     * The reply-steering rules for one set of endpoint ports.
     *
     * @param rules      the rules, prefs 20 and 22
     * @param extraPorts ports steered although no endpoint uses them (folded into a range to keep
     *                   the rule count bounded); their traffic passes through ferry0 unchanged
     * @param folded     whether the budget forced any folding
     */
    public record ReplyRules(List<Rule> rules, int extraPorts, boolean folded) {
    }

    /** Where a local pod's traffic goes to other pods: the cluster's pod ranges, or its own range where none are configured. */
    private static List<Ipv4Cidr> podDestinations(final Ipv4Cidr podCidr, final List<Ipv4Cidr> clusterCidrs) {
        final List<Ipv4Cidr> destinations = new ArrayList<>(clusterCidrs);
        if (destinations.stream().noneMatch(c -> c.contains(podCidr.base()) && c.prefixLen() <= podCidr.prefixLen())) {
            destinations.add(podCidr);
        }
        return destinations;
    }

    private static Rule fromPods(final Ipv4Cidr podCidr) {
        return Rule.lookup(TABLE).priority(PREF_FROM_POD).from(inet(podCidr.base()), podCidr.prefixLen());
    }

    private static Rule toPods(final Ipv4Cidr podCidr) {
        return Rule.lookup(TABLE).priority(PREF_TO_POD).to(inet(podCidr.base()), podCidr.prefixLen());
    }

    /** The rules that keep a healthCheckNodePort's TCP local, one per NodePort address. */
    public static List<Rule> healthCheckRules(final List<Integer> nodePortIps, final int port) {
        final List<Rule> rules = new ArrayList<>();
        for (final int ip : nodePortIps) {
            rules.add(Rule.lookup(Rtnl.RT_TABLE_LOCAL).priority(PREF_HEALTH_CHECK).to(inet(ip), 32)
                .ipProto(Protocol.TCP.number()).dport(port, port));
        }
        return rules;
    }

    /**
     * Refuses a node whose ephemeral ports (net.ipv4.ip_local_port_range) overlap the SNAT range
     * on the node address or the NodePort range: replies to the node's own connections would be
     * steered into ferry0 and could collide with translated flows. (A masquerade address of its
     * own holds no local sockets.)
     *
     * @return a problem to report, or null
     */
    public static String checkLocalPortRange(final String ipLocalPortRange, final SnatRange snat, final boolean snatAddressOwned,
                                             final int nodePortMin, final int nodePortMax) {
        final String[] parts = ipLocalPortRange.trim().split("\\s+");
        final int min = Integer.parseInt(parts[0]);
        final int max = Integer.parseInt(parts[parts.length - 1]);
        if (!snatAddressOwned && min <= snat.maxPort() && snat.minPort() <= max) {
            return "net.ipv4.ip_local_port_range " + min + "-" + max + " overlaps Ferry's SNAT ports "
                + snat.minPort() + "-" + snat.maxPort() + ": narrow it (sysctl -w net.ipv4.ip_local_port_range='32768 60999')";
        }
        if (min <= nodePortMax && nodePortMin <= max) {
            return "net.ipv4.ip_local_port_range " + min + "-" + max + " overlaps the NodePort range "
                + nodePortMin + "-" + nodePortMax + ": narrow one of them";
        }
        return null;
    }

    /** The kernel's own rule that Ferry moves to {@link #PREF_LOCAL_MOVED}. */
    public static Rule defaultLocalRule() {
        return Rule.lookup(Rtnl.RT_TABLE_LOCAL).priority(0);
    }

    /**
     * Routes through ferry0 ({@code ifindex}): the service CIDRs (main) and the default of table
     * 200; via {@code gateway} on-link for the packet port (whose frames need a next hop's MAC),
     * directly for TUN ({@code gateway} null).
     */
    public static List<Route> routes(final int ifindex, final InetAddress gateway, final List<Ipv4Cidr> serviceCidrs) {
        final List<Route> routes = new ArrayList<>();
        for (final Ipv4Cidr cidr : serviceCidrs) {
            routes.add(intoFerry(Route.to(inet(cidr.base()), cidr.prefixLen()), ifindex, gateway));
        }
        routes.add(intoFerry(Route.defaultRoute(false), ifindex, gateway).table(TABLE));
        return routes;
    }

    /** The metric of the fallback routes: the highest, so any route into ferry0 wins over them. */
    public static final int FALLBACK_METRIC = -1;

    /**
     * Blackhole routes behind the routes into ferry0: should ferry0 vanish or its routes be
     * unusable while no agent runs, what had to be translated is dropped (and retransmitted
     * once an agent is back), never routed on untranslated.
     */
    public static List<Route> fallbackRoutes(final List<Ipv4Cidr> serviceCidrs) {
        final List<Route> routes = new ArrayList<>();
        for (final Ipv4Cidr cidr : serviceCidrs) {
            routes.add(Route.to(inet(cidr.base()), cidr.prefixLen()).type(Rtnl.RTN_BLACKHOLE).metric(FALLBACK_METRIC));
        }
        routes.add(Route.defaultRoute(false).type(Rtnl.RTN_BLACKHOLE).metric(FALLBACK_METRIC).table(TABLE));
        return routes;
    }

    /** The fallback behind a route of {@link #prefixRoute}. */
    public static Route prefixFallback(final Ipv4Cidr prefix) {
        return Route.to(inet(prefix.base()), prefix.prefixLen()).type(Rtnl.RTN_BLACKHOLE).metric(FALLBACK_METRIC);
    }

    /** Whether {@code route} is one of Ferry's fallbacks (found again by cleanup). */
    public static boolean isFallback(final Route route) {
        return route.type() == Rtnl.RTN_BLACKHOLE && route.metric() == FALLBACK_METRIC;
    }

    /**
     * A route into ferry0 that follows the desired state: a service range of the cluster's beyond
     * the node config's (a ServiceCIDR object), or a /32 for an externalIP, a LoadBalancer IP or
     * a ClusterIP outside every service range.
     */
    public static Route prefixRoute(final int ifindex, final InetAddress gateway, final Ipv4Cidr prefix) {
        return intoFerry(Route.to(inet(prefix.base()), prefix.prefixLen()), ifindex, gateway);
    }

    private static Route intoFerry(final Route route, final int ifindex, final InetAddress gateway) {
        return gateway == null ? route.dev(ifindex) : route.dev(ifindex).via(gateway).withOnlink();
    }

    static InetAddress inet(final int address) {
        try {
            return InetAddress.getByAddress(new byte[] {
                (byte) (address >>> 24), (byte) (address >>> 16), (byte) (address >>> 8), (byte) address});
        } catch (final UnknownHostException e) {
            throw new IllegalStateException("4 bytes are always an address: " + Ipv4.format(address), e);
        }
    }
}
