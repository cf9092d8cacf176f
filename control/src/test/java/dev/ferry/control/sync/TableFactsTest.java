package dev.ferry.control.sync;

import dev.ferry.dataplane.addr.Ipv4;
import dev.ferry.dataplane.addr.Ipv4Cidr;
import dev.ferry.dataplane.service.EndpointSet;
import dev.ferry.dataplane.service.EndpointSpec;
import dev.ferry.dataplane.service.NodeSpec;
import dev.ferry.dataplane.service.Protocol;
import dev.ferry.dataplane.service.ServicePort;
import dev.ferry.dataplane.service.ServicePortSpec;
import dev.ferry.dataplane.service.ServiceTable;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;

import static org.junit.jupiter.api.Assertions.assertEquals;

/**
 * {@link TableFacts} counts from one table to the next by the service ports that changed; after
 * every step of a sequence of tables (compiled as a sync compiles them, reusing the unchanged
 * specs' ports) its facts must be what walking the whole table gives, computed here from
 * scratch, the way the sync computed them before it kept counts.
 */
class TableFactsTest {
    private static final NodeSpec NODE = new NodeSpec("node-a", List.of(Ipv4.parse("198.18.0.11")),
        List.of(Ipv4Cidr.parse("10.244.0.0/16")), Ipv4Cidr.parse("10.244.1.0/24"), List.of(Ipv4Cidr.parse("10.96.0.0/12")),
        30000, 32767, List.of(), false);
    private static final List<Ipv4Cidr> INSTALLED = NODE.serviceCidrs();

    private static ServicePortSpec spec(final String name, final Protocol protocol, final String clusterIp, final List<String> externalIps,
                                        final int healthCheckNodePort, final int targetPort, final String... endpoints) {
        return spec(name, protocol, protocol == Protocol.UDP ? 53 : 80, clusterIp, externalIps, healthCheckNodePort, targetPort, endpoints);
    }

    /** Endpoints are ready unless written with a leading "!". */
    private static ServicePortSpec spec(final String name, final Protocol protocol, final int port, final String clusterIp,
                                        final List<String> externalIps, final int healthCheckNodePort, final int targetPort,
                                        final String... endpoints) {
        final List<EndpointSpec> eps = new ArrayList<>();
        for (final String e : endpoints) {
            final boolean ready = !e.startsWith("!");
            eps.add(new EndpointSpec(Ipv4.parse(ready ? e : e.substring(1)), targetPort, ready, ready, false, false));
        }
        return new ServicePortSpec("default", name, "", protocol, port, 0,
            List.of(Ipv4.parse(clusterIp)), externalIps.stream().map(Ipv4::parse).toList(), List.of(), List.of(), false, false,
            false, 10800, healthCheckNodePort, eps);
    }

    @Test
    void shouldHoldWhatTheWholeTableGivesAfterEveryChange() {
        final ServicePortSpec web = spec("web", Protocol.TCP, "10.96.0.10", List.of(), 0, 8080, "10.244.1.5", "10.244.2.5");
        final ServicePortSpec dns = spec("dns", Protocol.UDP, "10.96.0.53", List.of(), 0, 5353, "10.244.1.7", "10.244.2.7");
        final ServicePortSpec lb = spec("lb", Protocol.TCP, "10.96.0.80", List.of("203.0.113.9"), 32000, 8443, "10.244.2.9");
        final ServicePortSpec outside = spec("outside", Protocol.TCP, "10.200.0.1", List.of(), 0, 9090, "10.244.1.11");
        // dns loses an endpoint; a second UDP service shares the other one
        final ServicePortSpec dnsOneLeft = spec("dns", Protocol.UDP, "10.96.0.53", List.of(), 0, 5353, "10.244.1.7");
        final ServicePortSpec dns2 = spec("dns2", Protocol.UDP, "10.96.0.54", List.of(), 0, 5353, "10.244.1.7");
        // both lose it: it goes; an unready endpoint still counts for reply steering (port 7000)
        final ServicePortSpec dnsNone = spec("dns", Protocol.UDP, "10.96.0.53", List.of(), 0, 7000, "!10.244.1.7");
        final ServicePortSpec lb2 = spec("lb2", Protocol.TCP, 443, "10.96.0.81", List.of("203.0.113.9"), 32001, 8443, "10.244.2.9");

        final NodeSpec widened = NODE.withExtraServiceCidrs(List.of(Ipv4Cidr.parse("10.200.0.0/16")));
        final List<Step> steps = List.of(
            new Step(NODE, List.of(web, dns, lb, outside)),
            new Step(NODE, List.of(web, dnsOneLeft, dns2, lb, outside)),
            new Step(NODE, List.of(web, dnsNone, lb, lb2, outside)), // dns2 gone, lb2 shares lb's external IP
            new Step(NODE, List.of(web, dnsNone, lb2, outside)), // lb gone: its external IP stays (lb2's), its health port goes
            new Step(widened, List.of(web, dnsNone, lb2, outside)), // another range: 10.200.0.1 no longer outside
            new Step(widened, List.of(web, dnsNone, lb2, outside)), // nothing changed
            new Step(NODE, List.of(outside, web)), // reordered and shrunk, ranges back
            new Step(NODE, List.of()));

        final TableFacts facts = new TableFacts();
        ServiceTable serving = ServiceTable.empty(NODE);
        facts.update(serving);
        int at = 0;
        for (final Step step : steps) {
            at++;
            final ServiceTable next = ServiceTable.compile(step.node(), step.specs(), serving);
            final Set<Long> goneWanted = udpEndpoints(serving);
            goneWanted.removeAll(udpEndpoints(next));
            final List<Long> gone = facts.update(next);
            assertEquals(goneWanted, new HashSet<>(gone), "step " + at + ": UDP endpoints gone");
            assertEquals(gone.size(), new HashSet<>(gone).size(), "step " + at + ": each gone endpoint once");
            assertEquals(endpointPorts(next), facts.endpointPorts(), "step " + at + ": endpoint ports");
            assertEquals(healthCheckNodePorts(next), facts.healthCheckNodePorts(), "step " + at + ": health check node ports");
            assertEquals(routedPrefixes(next), facts.routedPrefixes(INSTALLED), "step " + at + ": routed prefixes");
            serving = next;
        }
    }

    private record Step(NodeSpec node, List<ServicePortSpec> specs) {
    }

    // ---- the whole-table computations, as the sync made them before it counted ----

    private static EndpointPorts endpointPorts(final ServiceTable table) {
        final EndpointPorts.Builder out = EndpointPorts.builder();
        for (final ServicePort port : table.ports()) {
            for (final EndpointSpec endpoint : port.spec().endpoints()) {
                out.add(port.protocol(), endpoint.port());
            }
        }
        return out.build();
    }

    private static Set<Long> udpEndpoints(final ServiceTable table) {
        final Set<Long> out = new HashSet<>();
        for (final ServicePort port : table.ports()) {
            if (port.protocol() == Protocol.UDP) {
                for (final EndpointSet set : List.of(port.clusterEndpoints(), port.localEndpoints())) {
                    for (int i = 0; i < set.size(); i++) {
                        out.add(((set.address(i) & 0xFFFFFFFFL) << 16) | set.port(i));
                    }
                }
            }
        }
        return out;
    }

    private static Set<Integer> healthCheckNodePorts(final ServiceTable table) {
        final Set<Integer> out = new TreeSet<>();
        for (final ServicePort port : table.ports()) {
            if (port.spec().healthCheckNodePort() > 0) {
                out.add(port.spec().healthCheckNodePort());
            }
        }
        return Set.copyOf(out);
    }

    private static Set<Ipv4Cidr> routedPrefixes(final ServiceTable table) {
        final Set<Ipv4Cidr> out = new LinkedHashSet<>();
        for (final Ipv4Cidr range : table.node().serviceCidrs()) {
            if (INSTALLED.stream().noneMatch(own -> own.covers(range))) {
                out.add(range);
            }
        }
        for (final ServicePort port : table.ports()) {
            for (final List<Integer> addresses : List.of(port.spec().clusterIps(), port.spec().externalIps(), port.spec().loadBalancerIps())) {
                for (final int address : addresses) {
                    if (!table.inServiceCidrs(address)) {
                        out.add(new Ipv4Cidr(address, 32));
                    }
                }
            }
        }
        return Set.copyOf(out);
    }
}
