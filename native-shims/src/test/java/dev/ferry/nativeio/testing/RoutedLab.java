package dev.ferry.nativeio.testing;

import dev.ferry.nativeio.netlink.Route;
import dev.ferry.nativeio.netlink.RtNetlink;
import dev.ferry.nativeio.netlink.Rule;
import dev.ferry.nativeio.netlink.Rtnl;
import dev.ferry.nativeio.netlink.Sysctl;
import dev.ferry.nativeio.netns.NetworkNamespace;
import java.net.InetAddress;

/**
 * The agent's routing (docs/ARCHITECTURE.md, "Attach") in miniature, configured through {@link RtNetlink}: a client namespace
 * (10.230.1.2) and a server namespace (10.230.2.2) joined by a node namespace that forwards
 * between them, where everything arriving from either side is steered into the dataplane
 * device (table 200) and what the dataplane writes back (iif ferry0) is routed normally:
 * <pre>
 *  client vc ── nc node ns ── vs server
 *                 │  pref 10 iif ferry0 lookup main
 *                 │  pref 20 iif nc lookup 200 ; pref 21 iif ns lookup 200
 *               ferry0 (TUN, or veth whose peer ferry0p sits in its own namespace)
 * </pre>
 */
public final class RoutedLab implements AutoCloseable {
    public static final String CLIENT_IP = "10.230.1.2";
    public static final String SERVER_IP = "10.230.2.2";
    public static final int DATAPLANE_TABLE = 200;

    public final TestNetns client;
    public final TestNetns node;
    public final TestNetns server;
    public final RtNetlink nodeNetlink;

    private RoutedLab(TestNetns client, TestNetns node, TestNetns server, RtNetlink nodeNetlink) {
        this.client = client;
        this.node = node;
        this.server = server;
        this.nodeNetlink = nodeNetlink;
    }

    public static RoutedLab create() {
        TestNetns client = TestNetns.create();
        TestNetns node = null;
        TestNetns server = null;
        RtNetlink nl = null;
        try {
            node = TestNetns.create();
            server = TestNetns.create();
            nl = node.call(RtNetlink::open);
            RoutedLab lab = new RoutedLab(client, node, server, nl);
            lab.wire(client, "nc", "vc", "10.230.1");
            lab.wire(server, "ns", "vs", "10.230.2");
            node.run(() -> {
                Sysctl.write("net.ipv4.ip_forward", "1");
                Sysctl.write("net.ipv4.conf.all.rp_filter", "0");
                Sysctl.write("net.ipv4.conf.default.rp_filter", "0");
                Sysctl.write("net.ipv6.conf.all.disable_ipv6", "1");
                Sysctl.write("net.ipv6.conf.default.disable_ipv6", "1");
            });
            nl.addRule(Rule.lookup(Rtnl.RT_TABLE_MAIN).priority(10).iif("ferry0"));
            nl.addRule(Rule.lookup(DATAPLANE_TABLE).priority(20).iif("nc"));
            nl.addRule(Rule.lookup(DATAPLANE_TABLE).priority(21).iif("ns"));
            return lab;
        } catch (RuntimeException | Error e) {
            if (nl != null) {
                nl.close();
            }
            for (TestNetns ns : new TestNetns[] {server, node, client}) {
                if (ns != null) {
                    ns.close();
                }
            }
            throw e;
        }
    }

    private void wire(TestNetns far, String nodeSide, String farSide, String net) {
        try (RtNetlink farNl = far.call(RtNetlink::open)) {
            far.run(() -> Sysctl.write("net.ipv6.conf.all.disable_ipv6", "1"));
            nodeNetlink.createVeth(nodeSide, farSide, NetworkNamespace.named(far.name()));
            nodeNetlink.addAddress(nodeSide, addr(net + ".1"), 24);
            nodeNetlink.setUp(nodeSide, true);
            farNl.addAddress(farSide, addr(net + ".2"), 24);
            farNl.setUp(farSide, true);
            farNl.addRoute(Route.defaultRoute(false).via(addr(net + ".1")).dev(farNl.ifindex(farSide)));
        }
    }

    /** Finishes the node side once ferry0 exists: up, rp_filter off, the dataplane table's default route. */
    public void steerInto(Route intoDataplane) {
        nodeNetlink.setUp("ferry0", true);
        node.run(() -> Sysctl.write("net.ipv4.conf.ferry0.rp_filter", "0"));
        nodeNetlink.addRoute(intoDataplane);
    }

    public static InetAddress addr(String s) {
        try {
            return InetAddress.getByName(s);
        } catch (java.net.UnknownHostException e) {
            throw new IllegalArgumentException(s, e);
        }
    }

    @Override
    public void close() {
        nodeNetlink.close();
        server.close();
        node.close();
        client.close();
    }
}
