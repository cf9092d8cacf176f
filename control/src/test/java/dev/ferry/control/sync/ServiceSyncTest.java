package dev.ferry.control.sync;

import dev.ferry.conntrack.ConntrackTable;
import dev.ferry.conntrack.ConntrackTimeouts;
import dev.ferry.conntrack.FlowKey;
import dev.ferry.dataplane.addr.Ipv4;
import dev.ferry.dataplane.addr.Ipv4Cidr;
import dev.ferry.dataplane.pipeline.ServiceTableHolder;
import dev.ferry.dataplane.service.EndpointSpec;
import dev.ferry.dataplane.service.NodeSpec;
import dev.ferry.dataplane.service.Protocol;
import dev.ferry.dataplane.service.ServicePortSpec;
import dev.ferry.dataplane.service.ServiceTable;
import dev.ferry.dataplane.trace.TraceFlow;
import dev.ferry.dataplane.trace.Tracer;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertTrue;

class ServiceSyncTest {
    private static final NodeSpec NODE = new NodeSpec("node-a", List.of(Ipv4.parse("198.18.0.11")),
        List.of(Ipv4Cidr.parse("10.244.0.0/16")), Ipv4Cidr.parse("10.244.1.0/24"), List.of(Ipv4Cidr.parse("10.96.0.0/12")),
        30000, 32767, List.of(), false);

    private final ConntrackTable conntrack = ConntrackTable.inMemory(64, ConntrackTimeouts.kubeProxyDefaults());
    private final ServiceTableHolder holder = new ServiceTableHolder(ServiceTable.empty(NODE));
    private final List<Set<Ipv4Cidr>> routed = new ArrayList<>();
    /** The table that was serving when each routePrefixes call came. */
    private final List<ServiceTable> servingWhenRouted = new ArrayList<>();
    private final List<Set<Integer>> localPorts = new ArrayList<>();
    private final List<Boolean> outcomes = new ArrayList<>();
    /** Each steerReplies call, with the table that was serving when it came. */
    private final List<EndpointPorts> steered = new ArrayList<>();
    private final List<ServiceTable> servingWhenSteered = new ArrayList<>();
    private final ServiceSync sync = new ServiceSync(NODE, holder, conntrack, new ServiceSync.HostState() {
        @Override
        public void routePrefixes(final Set<Ipv4Cidr> prefixes) {
            routed.add(prefixes);
            servingWhenRouted.add(holder.get());
        }

        @Override
        public void deliverLocally(final Set<Integer> healthCheckNodePorts) {
            localPorts.add(healthCheckNodePorts);
        }

        @Override
        public void steerReplies(final EndpointPorts ports) {
            steered.add(ports);
            servingWhenSteered.add(holder.get());
        }
    }, (durationNs, queuedAtMs, ok) -> outcomes.add(ok));

    @AfterEach
    void close() {
        conntrack.close();
    }

    private static ServicePortSpec dns(final String clusterIp, final String externalIp, final String... endpoints) {
        final List<EndpointSpec> eps = new ArrayList<>();
        for (final String e : endpoints) {
            eps.add(new EndpointSpec(Ipv4.parse(e), 5353, true, true, false, false));
        }
        return new ServicePortSpec("default", "dns", "", Protocol.UDP, 53, 0, List.of(Ipv4.parse(clusterIp)),
            externalIp == null ? List.of() : List.of(Ipv4.parse(externalIp)), List.of(), List.of(), false, false, false,
            10800, 0, eps);
    }

    private static ServicePortSpec web(final int targetPort, final String... endpoints) {
        final List<EndpointSpec> eps = new ArrayList<>();
        for (final String e : endpoints) {
            eps.add(new EndpointSpec(Ipv4.parse(e), targetPort, true, true, false, true));
        }
        return new ServicePortSpec("default", "web", "", Protocol.TCP, 80, 0, List.of(Ipv4.parse("10.96.0.10")),
            List.of(), List.of(), List.of(), false, false, false, 10800, 0, eps);
    }

    private static EndpointPorts ports(final Object... protocolPortPairs) {
        final EndpointPorts.Builder b = EndpointPorts.builder();
        for (int i = 0; i < protocolPortPairs.length; i += 2) {
            b.add((Protocol) protocolPortPairs[i], (Integer) protocolPortPairs[i + 1]);
        }
        return b.build();
    }

    private long tcpFlowTo(final String backend, final int backendPort, final int clientPort) {
        final FlowKey original = new FlowKey().setIpv4(6, Ipv4.parse("10.244.1.5"), clientPort, Ipv4.parse("10.96.0.10"), 80);
        final FlowKey reply = new FlowKey().setIpv4(6, Ipv4.parse(backend), backendPort, Ipv4.parse("10.244.1.5"), clientPort);
        return conntrack.insert(original, reply, 0, 0, 1_000L);
    }

    @Test
    void shouldSteerRepliesFromEveryEndpointPortBeforeTheTableThatUsesItServes() {
        final ServiceTable before = holder.get();
        sync.setDesired(List.of(web(8080, "10.244.1.7"), dns("10.96.0.53", null, "10.244.2.8")), 1L);
        sync.sync();
        assertEquals(ports(Protocol.TCP, 8080, Protocol.UDP, 5353), steered.getFirst());
        assertSame(before, servingWhenSteered.getFirst(), "steered while the old table still served");
        assertEquals(ports(Protocol.TCP, 8080, Protocol.UDP, 5353), steered.getLast());

        final int calls = steered.size();
        sync.sync();
        assertEquals(calls, steered.size(), "an unchanged state changes no rule");

        sync.setDesired(List.of(web(9090, "10.244.1.7")), 2L);
        sync.sync();
        assertEquals(ports(Protocol.TCP, 8080, Protocol.TCP, 9090, Protocol.UDP, 5353), steered.get(calls),
            "the new port is added before the table moves to it, the old ones kept until it has");
        assertEquals(ports(Protocol.TCP, 9090), steered.getLast(), "ports without endpoints or flows are dropped");
    }

    @Test
    void shouldKeepSteeringARemovedPortUntilItsLastFlowEnds() {
        sync.setDesired(List.of(web(8080, "10.244.1.7"), dns("10.96.0.53", null, "10.244.2.8")), 1L);
        sync.sync();
        final long flow = tcpFlowTo("10.244.1.7", 8080, 40000);
        assertTrue(flow >= 0);

        sync.setDesired(List.of(dns("10.96.0.53", null, "10.244.2.8")), 2L);
        sync.sync();
        assertEquals(ports(Protocol.TCP, 8080, Protocol.UDP, 5353), steered.getLast(),
            "the established flow to 8080 keeps its replies steered");

        conntrack.delete(flow);
        sync.sync(); // the periodic sync
        assertEquals(ports(Protocol.UDP, 5353), steered.getLast(), "once the flow is gone, so is its rule");
    }

    @Test
    void shouldSteerThePortsOfFlowsFoundAtTheFirstSync() {
        assertTrue(tcpFlowTo("10.244.2.9", 7000, 40000) >= 0); // re-attached from a previous agent's table
        sync.setDesired(List.of(web(8080, "10.244.1.7")), 1L);
        sync.sync();
        assertEquals(ports(Protocol.TCP, 7000, Protocol.TCP, 8080), steered.getLast());
    }

    private long udpFlowTo(final String backend, final int clientPort) {
        final FlowKey original = new FlowKey().setIpv4(17, Ipv4.parse("10.244.1.5"), clientPort, Ipv4.parse("10.96.0.53"), 53);
        final FlowKey reply = new FlowKey().setIpv4(17, Ipv4.parse(backend), 5353, Ipv4.parse("10.244.1.5"), clientPort);
        return conntrack.insert(original, reply, 0, 0, 1_000L);
    }

    @Test
    void shouldSwapTheTableAndFlushUdpFlowsOfRemovedEndpointsOnly() {
        sync.setDesired(List.of(dns("10.96.0.53", null, "10.244.2.8", "10.244.2.9")), 1L);
        sync.sync();
        assertNotNull(holder.get().find(Ipv4.parse("10.96.0.53"), 17, 53));
        assertTrue(udpFlowTo("10.244.2.8", 40000) >= 0);
        assertTrue(udpFlowTo("10.244.2.9", 40001) >= 0);

        sync.setDesired(List.of(dns("10.96.0.53", null, "10.244.2.9")), 2L);
        sync.sync();
        assertEquals(1, conntrack.size(), "the flow to the removed endpoint is flushed, the other kept");
        assertTrue(conntrack.find(new FlowKey().setIpv4(17, Ipv4.parse("10.244.2.9"), 5353, Ipv4.parse("10.244.1.5"), 40001)) >= 0);
        assertEquals(List.of(true, true), outcomes);
    }

    @Test
    void shouldKeepTheLastGoodTableWhenTheDesiredStateDoesNotCompile() {
        sync.setDesired(List.of(dns("10.96.0.53", null, "10.244.2.8")), 1L);
        sync.sync();
        final ServiceTable good = holder.get();
        final ServicePortSpec clash = new ServicePortSpec("other", "dns", "", Protocol.UDP, 53, 0, List.of(Ipv4.parse("10.96.0.53")),
            List.of(), List.of(), List.of(), false, false, false, 10800, 0, List.of());
        sync.setDesired(List.of(dns("10.96.0.53", null, "10.244.2.8"), clash), 2L);
        sync.sync();
        assertSame(good, holder.get());
        assertEquals(List.of(true, false), outcomes);
    }

    @Test
    void shouldReportExternalAddressesToRouteOnlyWhenTheyChange() {
        sync.setDesired(List.of(dns("10.96.0.53", "198.18.0.200", "10.244.2.8")), 1L);
        sync.sync();
        sync.sync();
        assertEquals(List.of(Set.of(Ipv4Cidr.parse("198.18.0.200/32"))), routed);
        sync.setDesired(List.of(), 2L);
        sync.sync();
        assertEquals(Set.of(), routed.getLast());
        assertNull(holder.get().find(Ipv4.parse("10.96.0.53"), 17, 53));
    }

    @Test
    void shouldRouteAClusterIpOutsideTheServiceCidrsOnItsOwn() {
        final ServicePortSpec extraRange = new ServicePortSpec("default", "dns-b", "", Protocol.UDP, 53, 0, List.of(Ipv4.parse("10.200.0.53")),
            List.of(), List.of(), List.of(), false, false, false, 10800, 0, dns("10.96.0.53", null, "10.244.2.8").endpoints());
        sync.setDesired(List.of(dns("10.96.0.53", null, "10.244.2.8"), extraRange), 1L);
        sync.sync();
        assertEquals(Set.of(Ipv4Cidr.parse("10.200.0.53/32")), routed.getLast(),
            "a ClusterIP of a range the node config does not list (a cluster ServiceCIDR) gets its /32; 10.96.0.53 is routed with 10.96.0.0/12");
        assertNotNull(holder.get().find(Ipv4.parse("10.200.0.53"), 17, 53), "and is served");
    }

    /** A first TCP packet from a local pod to {@code dst:port} through the serving snapshot: its verdict. */
    private String verdictFromPod(final String dst, final int port) {
        return new Tracer(holder.get()).trace(new TraceFlow(Protocol.TCP, Ipv4.parse("10.244.1.5"), 0, Ipv4.parse(dst), port)).verdict();
    }

    private static ServicePortSpec webAt(final String clusterIp) {
        return new ServicePortSpec("default", "web-" + clusterIp, "", Protocol.TCP, 80, 0, List.of(Ipv4.parse(clusterIp)),
            List.of(), List.of(), List.of(), false, false, false, 10800, 0,
            List.of(new EndpointSpec(Ipv4.parse("10.244.1.7"), 8080, true, true, false, true)));
    }

    @Test
    void shouldTreatTheClustersServiceRangesAsTheNodeConfigsOnes() {
        // (destination, verdict) with the node config's 10.96.0.0/12 and a cluster ServiceCIDR 10.200.0.0/16
        sync.setDesired(List.of(webAt("10.96.0.10"), webAt("10.200.0.10")), List.of(Ipv4Cidr.parse("10.200.0.0/16")), 1L);
        sync.sync();
        final String[][] flows = {
            {"10.96.0.10", "80", "DNAT"},     // a ClusterIP of the config's range
            {"10.200.0.10", "80", "DNAT"},    // a ClusterIP of the cluster's range
            {"10.96.0.10", "81", "REJECT"},   // an unknown port of either: rejected
            {"10.200.0.10", "81", "REJECT"},
            {"10.96.0.99", "80", "DROP"},     // an unallocated address of either: dropped
            {"10.200.0.99", "80", "DROP"},
            {"10.201.0.99", "80", "PASS"},    // outside both: not service traffic
        };
        for (final String[] flow : flows) {
            assertEquals(flow[2], verdictFromPod(flow[0], Integer.parseInt(flow[1])), flow[0] + ":" + flow[1]);
        }
        assertEquals(Set.of(Ipv4Cidr.parse("10.200.0.0/16")), routed.getLast(),
            "the cluster's range is routed into ferry0 whole (its ClusterIP needs no /32); the config's is routed at start");
    }

    @Test
    void shouldRouteAClustersRangeOnlyWhileTheTableDropsInItAndNeverOneTheConfigCovers() {
        final List<Ipv4Cidr> extra = List.of(Ipv4Cidr.parse("10.96.0.0/12"), Ipv4Cidr.parse("10.100.0.0/16"), Ipv4Cidr.parse("10.200.0.0/16"));
        sync.setDesired(List.of(webAt("10.96.0.10")), extra, 1L);
        sync.sync();
        assertEquals(List.of(Set.of(Ipv4Cidr.parse("10.200.0.0/16"))), routed,
            "10.96.0.0/12 (the config's own) and 10.100.0.0/16 (inside it) are routed already");
        assertTrue(servingWhenRouted.getLast().inServiceCidrs(Ipv4.parse("10.200.0.99")),
            "routed in only once the serving table drops its unallocated addresses");

        sync.setDesired(List.of(webAt("10.96.0.10")), List.of(Ipv4Cidr.parse("10.96.0.0/12")), 2L);
        sync.sync();
        assertEquals(Set.of(), routed.getLast(), "a deleted ServiceCIDR's range is no longer routed");
        assertTrue(servingWhenRouted.getLast().inServiceCidrs(Ipv4.parse("10.200.0.99")),
            "withdrawn while the old table still drops in it: never passed back to be routed in again");
        assertEquals("PASS", verdictFromPod("10.200.0.99", 80), "and then no longer dropped");
        assertEquals("DROP", verdictFromPod("10.96.0.99", 80), "the node config's range stays, whatever the cluster says");
    }

    @Test
    void shouldReportHealthCheckNodePortsToKeepLocal() {
        final ServicePortSpec lb = new ServicePortSpec("default", "lb", "", Protocol.TCP, 80, 30080, List.of(Ipv4.parse("10.96.0.80")),
            List.of(), List.of(Ipv4.parse("198.18.100.1")), List.of(), true, false, false, 10800, 32000, List.of());
        sync.setDesired(List.of(lb), 1L);
        sync.sync();
        assertEquals(List.of(Set.of(32000)), localPorts);
        sync.setDesired(List.of(), 2L);
        sync.sync();
        assertEquals(Set.of(), localPorts.getLast());
    }

    @Test
    void shouldCoalesceABurstOfRequestsIntoFewRuns() throws Exception {
        final AtomicInteger runs = new AtomicInteger();
        final CountDownLatch first = new CountDownLatch(1);
        try (BoundedFrequencyRunner runner = new BoundedFrequencyRunner("test-sync", () -> {
            runs.incrementAndGet();
            first.countDown();
        }, 200, 60_000, Throwable::printStackTrace)) {
            runner.start();
            assertTrue(first.await(10, TimeUnit.SECONDS), "the first periodic run happens at start");
            for (int i = 0; i < 1_000; i++) {
                runner.run();
            }
            final long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
            while (runs.get() < 2 && System.nanoTime() < deadline) {
                Thread.onSpinWait();
            }
            assertEquals(2, runs.get(), "1,000 requests inside one min-interval coalesce into one run");
            assertFalse(runs.get() > 2);
        }
    }
}
