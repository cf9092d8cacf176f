package dev.ferry.control.host;

import dev.ferry.control.sync.EndpointPorts;
import dev.ferry.dataplane.addr.Ipv4Cidr;
import dev.ferry.dataplane.nat.SnatRange;
import dev.ferry.dataplane.service.NodeSpec;
import dev.ferry.dataplane.service.Protocol;
import dev.ferry.nativeio.IpProtocol;
import dev.ferry.nativeio.netlink.Rule;
import org.junit.jupiter.api.Test;

import java.util.BitSet;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

class HostRoutingTest {
    private static final Ipv4Cidr POD_CIDR = Ipv4Cidr.parse("10.244.1.0/24");

    private static BitSet bits(final int... ports) {
        final BitSet set = new BitSet();
        for (final int p : ports) {
            set.set(p);
        }
        return set;
    }

    /** A node with one address, this pod range, service range 10.96.0.0/16 and the default NodePort range. */
    private static NodeSpec node(final List<Ipv4Cidr> clusterCidrs, final int nodeIp) {
        return new NodeSpec("node-1", List.of(nodeIp), clusterCidrs, POD_CIDR, List.of(Ipv4Cidr.parse("10.96.0.0/16")),
            NodeSpec.DEFAULT_NODE_PORT_MIN, NodeSpec.DEFAULT_NODE_PORT_MAX, List.of(), false);
    }

    private static List<String> strings(final List<?> items) {
        return items.stream().map(Object::toString).toList();
    }

    @Test
    void shouldMergeAdjacentPortsIntoOneRange() {
        assertEquals(List.of("80", "8080-8082", "9000"), strings(PortRanges.fold(bits(80, 8080, 8081, 8082, 9000), 16)));
    }

    @Test
    void shouldCloseTheSmallestGapsWhenOverBudget() {
        // gaps: 80..443 = 363, 443..8080 = 7637, 8080..8443 = 363, 8443..9000 = 557
        final List<PortRanges.Range> ranges = PortRanges.fold(bits(80, 443, 8080, 8443, 9000), 3);
        assertEquals(List.of("80-443", "8080-8443", "9000"), strings(ranges));
        assertEquals(3, PortRanges.fold(bits(80, 443, 8080, 8443, 9000), 3).size());
        assertEquals(List.of("80-9000"), strings(PortRanges.fold(bits(80, 443, 8080, 8443, 9000), 1)));
    }

    @Test
    void shouldNeverExceedTheBudgetAtTenThousandScatteredPorts() {
        final BitSet ports = new BitSet();
        for (int i = 0; i < 10_000; i++) {
            ports.set(1024 + (i * 7919) % 60_000);
        }
        final List<PortRanges.Range> ranges = PortRanges.fold(ports, 16);
        assertEquals(16, ranges.size());
        for (int p = ports.nextSetBit(0); p >= 0; p = ports.nextSetBit(p + 1)) {
            final int port = p;
            assertTrue(ranges.stream().anyMatch(r -> r.start() <= port && port <= r.end()), "port " + port + " covered");
        }
    }

    @Test
    void shouldSteerEachEndpointPortRangeLeavingAndEnteringLocalPods() {
        final EndpointPorts ports = EndpointPorts.builder().add(Protocol.TCP, 8080).add(Protocol.TCP, 8081)
            .add(Protocol.UDP, 5353).build();
        final HostRouting.ReplyRules reply = HostRouting.replyRules(POD_CIDR, ports, 16);
        assertEquals(List.of(
            "pref 20 from 10.244.1.0/24 ipproto 6 sport 8080-8081 lookup 200",
            "pref 22 to 10.244.1.0/24 ipproto 6 sport 8080-8081 lookup 200",
            "pref 20 from 10.244.1.0/24 ipproto 17 sport 5353 lookup 200",
            "pref 22 to 10.244.1.0/24 ipproto 17 sport 5353 lookup 200"), strings(reply.rules()));
        assertEquals(0, reply.extraPorts());
        assertFalse(reply.folded());
    }

    @Test
    void shouldReportThePortsFoldedInBeyondTheBudget() {
        final EndpointPorts ports = EndpointPorts.builder().add(Protocol.TCP, 80).add(Protocol.TCP, 90).add(Protocol.TCP, 5000).build();
        final HostRouting.ReplyRules reply = HostRouting.replyRules(POD_CIDR, ports, 2);
        assertEquals(4, reply.rules().size());
        assertTrue(reply.folded());
        assertEquals(9, reply.extraPorts(), "81-89 steered though unused");
    }

    @Test
    void shouldSteerEveryPortOfAProtocolWithAnEndpointOnPort65535() {
        // a rule's port range cannot end at 65535 (the kernel refuses it)
        final HostRouting.ReplyRules reply = HostRouting.replyRules(POD_CIDR,
            EndpointPorts.builder().add(Protocol.UDP, 65535).build(), 16);
        assertEquals(List.of("pref 20 from 10.244.1.0/24 ipproto 17 lookup 200", "pref 22 to 10.244.1.0/24 ipproto 17 lookup 200"),
            strings(reply.rules()));
        assertTrue(reply.folded());
        for (final Rule rule : reply.rules()) {
            assertTrue(rule.sportEnd() <= Rule.MAX_RANGE_PORT);
        }
    }

    @Test
    void shouldNoLongerSteerAllPodTrafficIntoFerry0() {
        final List<Rule> rules = HostRouting.rules(node(List.of(), 0xC6120B), SnatRange.defaults(0xC6120B), false);
        for (final Rule rule : rules) {
            if (rule.priority() == HostRouting.PREF_FROM_POD || rule.priority() == HostRouting.PREF_TO_POD) {
                assertEquals(IpProtocol.ICMP, rule.ipProto(), "only ICMP to and from pods is steered as a whole: " + rule);
            }
        }
    }

    @Test
    void shouldSteerEveryPortOfAMasqueradeAddressOfItsOwnButOnlyTheSnatRangeOfTheNodeAddress() {
        final int nodeIp = 0xC612000B; // 198.18.0.11
        final int masquerade = 0xC612006F; // 198.18.0.111
        final List<String> onNode = strings(HostRouting.rules(node(List.of(), nodeIp), SnatRange.defaults(nodeIp), false))
            .stream().filter(r -> r.startsWith("pref 31 ")).toList();
        // one rule for every protocol with ports: a port range never matches an ARP request's lookup
        assertEquals(List.of("pref 31 to 198.18.0.11/32 dport 61000-65534 lookup 200",
            "pref 31 to 198.18.0.11/32 ipproto 1 lookup 200"), onNode);
        final List<String> owned = strings(HostRouting.rules(node(List.of(), nodeIp), SnatRange.wholeAddress(masquerade), true)).stream().filter(r -> r.startsWith("pref 31 ")).toList();
        // by protocol, never bare: an ARP request's lookup (protocol 0) must reach the local table
        assertEquals(List.of("pref 31 to 198.18.0.111/32 ipproto 6 lookup 200", "pref 31 to 198.18.0.111/32 ipproto 17 lookup 200",
            "pref 31 to 198.18.0.111/32 ipproto 132 lookup 200", "pref 31 to 198.18.0.111/32 ipproto 1 lookup 200"), owned);
    }

    @Test
    void shouldLetPodToPodTrafficJumpPastTheRulesForNodeAddresses() {
        final int nodeIp = 0xC612000B; // 198.18.0.11
        final List<String> rules = strings(HostRouting.rules(node(List.of(Ipv4Cidr.parse("10.244.0.0/16")), nodeIp), SnatRange.defaults(nodeIp), false));
        assertEquals(List.of(
            "pref 10 iif ferry0 lookup 255",
            "pref 11 iif ferry0 lookup 254",
            "pref 12 to 10.96.0.0/16 lookup 200",
            "pref 20 from 10.244.1.0/24 ipproto 1 lookup 200",
            "pref 22 to 10.244.1.0/24 ipproto 1 lookup 200",
            "pref 21 from 10.244.1.0/24 to 10.244.0.0/16 goto 100",
            "pref 23 to 10.244.1.0/24 goto 100",
            "pref 30 to 198.18.0.11/32 dport 30000-32767 lookup 200",
            "pref 31 to 198.18.0.11/32 dport 61000-65534 lookup 200",
            "pref 31 to 198.18.0.11/32 ipproto 1 lookup 200",
            "pref 100 lookup 255"), rules);
        // without clusterCIDRs the jump covers the node's own pod range
        assertTrue(strings(HostRouting.rules(node(List.of(), nodeIp), SnatRange.defaults(nodeIp), false))
            .contains("pref 21 from 10.244.1.0/24 to 10.244.1.0/24 goto 100"));
    }

    @Test
    void shouldKeepTheRulesForNodeAddressesOnTheWayOfAPodRangeThatHoldsOne() {
        final int nodeIpInPodRange = 0x0AF40101; // 10.244.1.1, a bridge's address used as a NodePort address
        final List<String> rules = strings(HostRouting.rules(node(List.of(Ipv4Cidr.parse("10.244.0.0/16")), nodeIpInPodRange), SnatRange.defaults(0xC612000B), false));
        assertTrue(rules.stream().noneMatch(r -> r.contains("goto")), "a pod's packet to 10.244.1.1:NodePort must meet pref 30: " + rules);
    }

    @Test
    void shouldRefuseEphemeralPortsInTheSnatRangeOnlyOnTheNodeAddress() {
        final int nodeIp = 0xC612000B;
        assertTrue(HostRouting.checkLocalPortRange("32768 65000", SnatRange.defaults(nodeIp), false, 30000, 32767)
            .contains("overlaps Ferry's SNAT ports 61000-65534"));
        assertEquals(null, HostRouting.checkLocalPortRange("32768 60999", SnatRange.defaults(nodeIp), false, 30000, 32767));
        assertEquals(null, HostRouting.checkLocalPortRange("32768 60999", SnatRange.wholeAddress(0xC612006F), true, 30000, 32767),
            "a masquerade address of its own holds no local sockets");
        assertTrue(HostRouting.checkLocalPortRange("30000 60999", SnatRange.wholeAddress(0xC612006F), true, 30000, 32767)
            .contains("overlaps the NodePort range"));
    }
}
