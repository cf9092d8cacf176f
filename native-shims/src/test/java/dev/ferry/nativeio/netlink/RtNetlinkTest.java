package dev.ferry.nativeio.netlink;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.ferry.nativeio.IpProtocol;
import dev.ferry.nativeio.libc.NativeException;
import dev.ferry.nativeio.netns.NetworkNamespace;
import dev.ferry.nativeio.probe.NativeAccessProbe.Need;
import dev.ferry.nativeio.testing.Privileged;
import dev.ferry.nativeio.testing.TestNetns;
import java.net.InetAddress;
import java.util.List;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.function.Executable;

/** Privileged: every request goes to a netlink socket opened inside a namespace the test creates. */
class RtNetlinkTest {

    @BeforeAll
    static void privileged() {
        Privileged.require(Need.NETLINK);
    }

    private static InetAddress ip(String s) throws Exception {
        return InetAddress.getByName(s);
    }

    @Test
    void shouldCreateReadAndDeleteVethPair() {
        try (TestNetns ns = TestNetns.create(); RtNetlink nl = ns.call(RtNetlink::open)) {
            nl.createVeth("fa0", "fa1");
            Link a = nl.link("fa0");
            Link b = nl.link("fa1");
            assertEquals("veth", a.kind());
            assertEquals("veth", b.kind());
            assertEquals(b.index(), a.peerIndex());
            assertEquals(a.index(), nl.ifindex("fa0"));
            assertTrue(nl.links().stream().anyMatch(l -> l.name().equals("fa1")));
            assertTrue(ns.ip("link", "show", "fa0").contains("fa0@fa1"), "ip sees the pair");
            nl.deleteLink("fa0");
            assertTrue(nl.findLink("fa0").isEmpty());
            assertTrue(nl.findLink("fa1").isEmpty());
        }
    }

    @Test
    void shouldSetLinkUpDownAndMtu() {
        try (TestNetns ns = TestNetns.create(); RtNetlink nl = ns.call(RtNetlink::open)) {
            nl.createVeth("fa0", "fa1");
            nl.setMtu("fa0", 1400);
            assertEquals(1400, nl.link("fa0").mtu());
            assertFalse(nl.link("fa0").up());
            nl.setUp("fa0", true);
            assertTrue(nl.link("fa0").up());
            nl.setUp("fa0", false);
            assertFalse(nl.link("fa0").up());
        }
    }

    @Test
    void shouldMoveLinksToAnotherNamespace() {
        try (TestNetns a = TestNetns.create(); TestNetns b = TestNetns.create();
             RtNetlink nlA = a.call(RtNetlink::open); RtNetlink nlB = b.call(RtNetlink::open)) {
            nlA.createVeth("fa0", "fa1");
            nlA.moveToNamespace("fa1", NetworkNamespace.named(b.name()));
            assertTrue(nlA.findLink("fa1").isEmpty());
            assertEquals("veth", nlB.link("fa1").kind());
            nlA.createVeth("fb0", "fb1", NetworkNamespace.named(b.name()));
            assertTrue(nlA.findLink("fb1").isEmpty());
            assertEquals("veth", nlB.link("fb1").kind());
            nlB.deleteLink("fb1");
            assertTrue(nlA.findLink("fb0").isEmpty(), "deleting one end removes the pair");
        }
    }

    @Test
    void shouldAddReadAndDeleteAddresses() throws Exception {
        try (TestNetns ns = TestNetns.create(); RtNetlink nl = ns.call(RtNetlink::open)) {
            nl.createVeth("fa0", "fa1");
            nl.addAddress("fa0", ip("10.220.0.1"), 24);
            nl.addAddress("fa0", ip("fd00:ferr::1".replace("ferr", "f")), 64);
            List<Address> addrs = nl.addresses("fa0");
            assertTrue(addrs.contains(new Address(nl.ifindex("fa0"), ip("10.220.0.1"), 24)), addrs.toString());
            assertTrue(addrs.contains(new Address(nl.ifindex("fa0"), ip("fd00:f::1"), 64)), addrs.toString());
            assertTrue(ns.ip("addr", "show", "fa0").contains("10.220.0.1/24"));
            nl.deleteAddress("fa0", ip("10.220.0.1"), 24);
            nl.deleteAddress("fa0", ip("fd00:f::1"), 64);
            InetAddress removed = ip("10.220.0.1");
            assertTrue(nl.addresses("fa0").stream().noneMatch(a -> a.address().equals(removed)));
        }
    }

    @Test
    void shouldAddReadAndDeleteRoutesWithOnlinkNextHopsAndTables() throws Exception {
        try (TestNetns ns = TestNetns.create(); RtNetlink nl = ns.call(RtNetlink::open)) {
            nl.createVeth("ferry0", "ferry0p");
            nl.setUp("ferry0", true);
            nl.setUp("ferry0p", true);
            int dev = nl.ifindex("ferry0");
            Route service = Route.to(ip("10.96.0.0"), 12).dev(dev);
            Route intoDataplane = Route.defaultRoute(false).via(ip("169.254.77.1")).dev(dev).withOnlink().table(200);
            Route bigTable = Route.to(ip("10.244.1.0"), 24).via(ip("169.254.77.1")).dev(dev).withOnlink().table(1000);
            nl.addRoute(service);
            nl.addRoute(intoDataplane);
            nl.addRoute(bigTable);
            assertTrue(nl.routes(false, Rtnl.RT_TABLE_MAIN).stream().anyMatch(r -> r.matches(service)));
            Route read = nl.routes(false, 200).stream().filter(r -> r.matches(intoDataplane)).findFirst().orElseThrow();
            assertTrue(read.onlink(), "onlink flag read back");
            assertEquals(ip("169.254.77.1"), read.gateway());
            assertTrue(nl.routes(false, 1000).stream().anyMatch(r -> r.matches(bigTable)));
            String ipRoutes = ns.ip("route", "show", "table", "200");
            assertTrue(ipRoutes.startsWith("default via 169.254.77.1 dev ferry0") && ipRoutes.contains("onlink"), ipRoutes);
            Route fallback = Route.defaultRoute(false).type(Rtnl.RTN_BLACKHOLE).metric(-1).table(200);
            nl.addRoute(fallback);
            assertTrue(nl.routes(false, 200).stream().anyMatch(r -> r.matches(fallback)), "blackhole with a metric read back");
            assertTrue(ns.ip("route", "show", "table", "200").matches("(?s).*blackhole default .*metric 4294967295.*"),
                    ns.ip("route", "show", "table", "200"));
            nl.deleteRoute(fallback);
            nl.deleteRoute(service);
            nl.deleteRoute(intoDataplane);
            nl.deleteRoute(bigTable);
            assertTrue(nl.routes(false, Rtnl.RT_TABLE_MAIN).stream().noneMatch(r -> r.matches(service)));
            assertTrue(nl.routes(false, 200).isEmpty());
            assertTrue(nl.routes(false, 1000).isEmpty());
        }
    }

    @Test
    void shouldAddReadAndDeletePolicyRules() throws Exception {
        try (TestNetns ns = TestNetns.create(); RtNetlink nl = ns.call(RtNetlink::open)) {
            List<Rule> rules = List.of(
                    Rule.lookup(Rtnl.RT_TABLE_LOCAL).priority(10).iif("ferry0"),
                    Rule.lookup(200).priority(20).from(ip("10.244.1.0"), 24),
                    Rule.lookup(200).priority(21).to(ip("10.244.1.0"), 24),
                    Rule.lookup(200).priority(30).to(ip("198.18.0.10"), 32).ipProto(IpProtocol.TCP).dport(30000, 32767),
                    Rule.lookup(1000).priority(31).to(ip("198.18.0.10"), 32).ipProto(IpProtocol.UDP).dport(61000, 65534),
                    Rule.lookup(200).priority(20).from(ip("10.244.1.0"), 24).ipProto(IpProtocol.TCP).sport(8080, 8080),
                    Rule.lookup(200).priority(21).to(ip("10.244.1.0"), 24).ipProto(IpProtocol.UDP).sport(5353, 5360),
                    Rule.lookup(200).priority(30).to(ip("198.18.0.10"), 32).dport(30000, 32767),
                    Rule.jumpTo(100).priority(22).from(ip("10.244.1.0"), 24).to(ip("10.244.0.0"), 16),
                    Rule.lookup(Rtnl.RT_TABLE_LOCAL).priority(100));
            for (Rule r : rules) {
                nl.addRule(r);
            }
            List<Rule> read = nl.rules(false);
            for (Rule r : rules) {
                assertTrue(read.stream().anyMatch(x -> x.matches(r)), "read back " + r + " in " + read);
            }
            String ipRules = ns.ip("rule", "show");
            assertTrue(ipRules.contains("30:\tfrom all to 198.18.0.10 ipproto tcp dport 30000-32767 lookup 200"), ipRules);
            assertTrue(ipRules.contains("20:\tfrom 10.244.1.0/24 ipproto tcp sport 8080 lookup 200"), ipRules);
            assertTrue(ipRules.contains("21:\tfrom all to 10.244.1.0/24 ipproto udp sport 5353-5360 lookup 200"), ipRules);
            assertTrue(ipRules.contains("30:\tfrom all to 198.18.0.10 dport 30000-32767 lookup 200"), ipRules);
            assertTrue(ipRules.contains("22:\tfrom 10.244.1.0/24 to 10.244.0.0/16 goto 100"), ipRules);
            assertTrue(read.stream().filter(Rule::isJump).allMatch(r -> r.gotoPriority() == 100 && r.priority() == 22), read.toString());
            for (Rule r : rules) {
                nl.deleteRule(r);
            }
            List<Rule> after = nl.rules(false);
            for (Rule r : rules) {
                assertTrue(after.stream().noneMatch(x -> x.matches(r)), "deleted " + r);
            }
        }
    }

    @Test
    void shouldAddReadAndDeletePermanentNeighbour() throws Exception {
        try (TestNetns ns = TestNetns.create(); RtNetlink nl = ns.call(RtNetlink::open)) {
            nl.createVeth("ferry0", "ferry0p");
            int dev = nl.ifindex("ferry0");
            String mac = nl.link("ferry0p").mac();
            Neighbour n = Neighbour.permanent(dev, ip("169.254.77.1"), mac);
            nl.addNeighbour(n);
            assertTrue(nl.neighbours(dev).contains(n), nl.neighbours(dev).toString());
            assertTrue(ns.ip("neigh", "show", "dev", "ferry0").contains("169.254.77.1 lladdr " + mac + " PERMANENT"));
            nl.deleteNeighbour(n);
            assertTrue(nl.neighbours(dev).stream().noneMatch(x -> x.address().equals(n.address())));
        }
    }

    @Test
    void shouldWriteSysctlsOfTheCallingThreadsNamespaceOnly() {
        String rootForwarding = Sysctl.read("net.ipv4.ip_forward");
        try (TestNetns ns = TestNetns.create()) {
            String inside = rootForwarding.equals("1") ? "0" : "1";
            ns.run(() -> Sysctl.write("net.ipv4.ip_forward", inside));
            assertEquals(inside, ns.call(() -> Sysctl.read("net.ipv4.ip_forward")));
            assertEquals(inside, ns.exec("cat", "/proc/sys/net/ipv4/ip_forward").trim());
            assertEquals(rootForwarding, Sysctl.read("net.ipv4.ip_forward"), "root namespace untouched");
        }
        assertThrows(IllegalArgumentException.class, () -> Sysctl.path("../../etc/passwd"));
    }

    @Test
    void shouldRaiseExceptionNamingRequestAndErrnoForBadRequests() throws Exception {
        try (TestNetns ns = TestNetns.create(); RtNetlink nl = ns.call(RtNetlink::open)) {
            nl.createVeth("ferry0", "ferry0p");
            nl.setUp("ferry0", true);
            int dev = nl.ifindex("ferry0");
            assertErrno("RTM_DELLINK ferrynope0", "ENODEV", () -> nl.deleteLink("ferrynope0"));
            assertErrno("RTM_GETLINK ferrynope0", "ENODEV", () -> nl.link("ferrynope0"));
            assertErrno("RTM_NEWLINK tun ferrytun1", "EOPNOTSUPP", () -> nl.createLink("ferrytun1", "tun"));
            assertErrno("RTM_NEWRULE pref 31", "EINVAL", () -> nl.addRule(
                    Rule.lookup(200).priority(31).ipProto(IpProtocol.TCP).dport(61000, 65535)));
            assertErrno("RTM_NEWROUTE default via 169.254.77.1", "ENETUNREACH", () -> nl.addRoute(
                    Route.defaultRoute(false).via(ip("169.254.77.1")).dev(dev).table(200)));
            Route r = Route.to(ip("10.96.0.0"), 12).dev(dev);
            nl.addRoute(r);
            assertErrno("RTM_NEWROUTE 10.96.0.0/12", "EEXIST", () -> nl.addRoute(r));
            nl.deleteRoute(r);
            assertErrno("RTM_DELROUTE 10.96.0.0/12", "ESRCH", () -> nl.deleteRoute(r));
        }
    }

    private static void assertErrno(String requestPrefix, String errno, Executable call) {
        NativeException e = assertThrows(NativeException.class, call);
        assertEquals(errno, e.errnoName(), e.getMessage());
        assertTrue(e.getMessage().startsWith(requestPrefix), e.getMessage());
        assertTrue(e.getMessage().contains(": " + errno + " ("), e.getMessage());
    }
}
