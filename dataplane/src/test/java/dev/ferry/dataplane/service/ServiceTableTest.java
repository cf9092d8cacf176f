package dev.ferry.dataplane.service;

import dev.ferry.dataplane.lb.RandomSelector;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;

import static dev.ferry.dataplane.service.Fixtures.ip;
import static dev.ferry.dataplane.service.Fixtures.node;
import static dev.ferry.dataplane.service.Fixtures.svc;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class ServiceTableTest {

    @Test
    void shouldGiveDenseIdsInListOrder() {
        final ServiceTable table = ServiceTable.compile(node(false), List.of(
            svc("a", Protocol.TCP, 80).clusterIp("10.96.0.1").build(),
            svc("b", Protocol.TCP, 80).clusterIp("10.96.0.2").build(),
            svc("c", Protocol.UDP, 53).clusterIp("10.96.0.3").build()));
        assertEquals(3, table.ports().size());
        for (int i = 0; i < 3; i++) {
            assertEquals(i, table.byId(i).id());
            assertSame(table.byId(i), table.ports().get(i));
        }
        assertEquals("default/b:80", table.byId(1).displayName());
        assertSame(table.byId(2), table.find(ip("10.96.0.3"), 17, 53));
        assertNull(table.find(ip("10.96.0.3"), 6, 53));
    }

    @Test
    void shouldRejectTwoServicesClaimingOneClusterIpPort() {
        final IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () ->
            ServiceTable.compile(node(false), List.of(
                svc("first", Protocol.TCP, 80).namespace("shop").clusterIp("10.96.0.1").build(),
                svc("second", Protocol.TCP, 80).namespace("blog").clusterIp("10.96.0.1").build())));
        assertTrue(e.getMessage().contains("shop/first:80"), e.getMessage());
        assertTrue(e.getMessage().contains("blog/second:80"), e.getMessage());
        assertTrue(e.getMessage().contains("10.96.0.1:80/TCP"), e.getMessage());
    }

    @Test
    void shouldRejectTwoServicesClaimingOneNodePort() {
        final IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () ->
            ServiceTable.compile(node(false), List.of(
                svc("first", Protocol.TCP, 80).clusterIp("10.96.0.1").nodePort(30001).build(),
                svc("second", Protocol.TCP, 81).clusterIp("10.96.0.2").nodePort(30001).build())));
        assertTrue(e.getMessage().contains("default/first:80") && e.getMessage().contains("default/second:81"), e.getMessage());
        assertTrue(e.getMessage().contains("198.18.0.11:30001/TCP"), e.getMessage());
    }

    @Test
    void shouldRejectExternalIpThatIsAnotherServicesLoadBalancerIp() {
        final IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () ->
            ServiceTable.compile(node(false), List.of(
                svc("lb", Protocol.TCP, 443).clusterIp("10.96.0.1").loadBalancerIp("198.18.100.1").build(),
                svc("ext", Protocol.TCP, 443).clusterIp("10.96.0.2").externalIp("198.18.100.1").build())));
        assertTrue(e.getMessage().contains("LoadBalancer IP of service port default/lb:443"), e.getMessage());
        assertTrue(e.getMessage().contains("externalIP of service port default/ext:443"), e.getMessage());
    }

    @Test
    void shouldRejectHealthCheckNodePortThatIsAnotherServicesNodePort() {
        assertThrows(IllegalArgumentException.class, () ->
            ServiceTable.compile(node(false), List.of(
                svc("a", Protocol.TCP, 80).clusterIp("10.96.0.1").nodePort(30001).build(),
                svc("b", Protocol.TCP, 80).clusterIp("10.96.0.2").nodePort(30002).externalLocal()
                    .healthCheckNodePort(30001).build())));
    }

    @Test
    void shouldAllowOneIpWithSamePortOnDifferentProtocols() {
        final ServiceTable table = ServiceTable.compile(node(false), List.of(
            svc("dns", Protocol.TCP, 53).clusterIp("10.96.0.10").build(),
            svc("dns", Protocol.UDP, 53).clusterIp("10.96.0.10").build()));
        assertEquals(0, table.find(ip("10.96.0.10"), 6, 53).id());
        assertEquals(1, table.find(ip("10.96.0.10"), 17, 53).id());
    }

    @Test
    void shouldShareHealthCheckNodePortBetweenPortsOfOneService() {
        final ServiceTable table = ServiceTable.compile(node(false), List.of(
            svc("web", Protocol.TCP, 80).portName("http").clusterIp("10.96.0.1").nodePort(30080).externalLocal()
                .healthCheckNodePort(32000).build(),
            svc("web", Protocol.TCP, 443).portName("https").clusterIp("10.96.0.1").nodePort(30443).externalLocal()
                .healthCheckNodePort(32000).build()));
        final int entry = table.lookup(ip("198.18.0.11"), 6, 32000);
        assertEquals(Frontend.HEALTH_CHECK_NODE_PORT, ServiceTable.entryFrontend(entry));
    }

    @Test
    void shouldTreatEveryServiceCidrAddressAsUnallocatedInEmptyTable() {
        final ServiceTable table = ServiceTable.empty(node(false));
        final ServiceRouter router = new ServiceRouter(new RandomSelector(new SplittableRandom(1)));
        final RouteDecision out = new RouteDecision();
        router.route(table, 6, ip("10.244.1.9"), 1234, ip("10.96.0.10"), 80, 0, out);
        assertEquals(Verdict.DROP, out.verdict());
        assertEquals(RouteReason.UNALLOCATED_SERVICE_IP, out.reason());
        router.route(table, 6, ip("10.244.1.9"), 1234, ip("10.112.0.1"), 80, 0, out);
        assertEquals(Verdict.PASS, out.verdict());
        assertTrue(table.ports().isEmpty());
    }

    @Test
    void shouldFindEveryOneOf100000Services() {
        final int count = 100_000;
        final int base = ip("10.96.0.0");
        final List<ServicePortSpec> specs = new ArrayList<>(count);
        for (int i = 0; i < count; i++) {
            // ClusterIPs 10.96.0.1 ..; every tenth also a NodePort and an LB IP.
            final Fixtures.Svc s = svc("svc-" + i, i % 3 == 0 ? Protocol.UDP : Protocol.TCP, 80 + (i % 7))
                .clusterIp(base + 1 + i)
                .ready("10.244." + (i % 200) + "." + (1 + i % 250), 8080, false);
            if (i % 10 == 0 && i / 10 < 2767) {
                s.nodePort(30000 + i / 10).loadBalancerIp("198.19." + ((i / 10) >> 8) + "." + ((i / 10) & 0xFF));
            }
            specs.add(s.build());
        }
        final ServiceTable table = ServiceTable.compile(node(false), specs);
        assertEquals(count, table.size());

        final ServiceRouter router = new ServiceRouter(new RandomSelector(new SplittableRandom(1)));
        final RouteDecision out = new RouteDecision();
        for (int i = 0; i < count; i++) {
            final int proto = i % 3 == 0 ? 17 : 6;
            final int port = 80 + (i % 7);
            router.route(table, proto, ip("10.244.1.9"), 40000, base + 1 + i, port, 0, out);
            assertEquals(Verdict.DNAT, out.verdict());
            assertEquals(i, out.servicePort().id());
            // The wrong port of the same ClusterIP is rejected, not confused with a neighbour.
            router.route(table, proto, ip("10.244.1.9"), 40000, base + 1 + i, port + 100, 0, out);
            assertEquals(RouteReason.UNKNOWN_PORT_ON_CLUSTER_IP, out.reason());
            if (i % 10 == 0 && i / 10 < 2767) {
                assertEquals(i, table.find(ip("198.18.0.11"), proto, 30000 + i / 10).id());
                assertEquals(i, table.find(ip("198.19." + ((i / 10) >> 8) + "." + ((i / 10) & 0xFF)), proto, port).id());
            }
        }
        router.route(table, 6, ip("10.244.1.9"), 40000, base + 1 + count, 80, 0, out);
        assertEquals(RouteReason.UNALLOCATED_SERVICE_IP, out.reason());
        assertFalse(table.isClusterIp(base + 1 + count));
    }

    @Test
    void shouldListFrontendsOfAServicePort() {
        final ServiceTable table = ServiceTable.compile(node(false), List.of(
            svc("lb", Protocol.TCP, 443).clusterIp("10.96.0.1").loadBalancerIp("198.18.100.1")
                .externalIp("198.18.0.200").nodePort(30443).externalLocal().healthCheckNodePort(32000).build()));
        assertEquals(List.of("ClusterIP 10.96.0.1:443/TCP", "LoadBalancer IP 198.18.100.1:443/TCP",
                "externalIP 198.18.0.200:443/TCP", "NodePort 198.18.0.11:30443/TCP",
                "healthCheckNodePort 198.18.0.11:32000/TCP"),
            table.describeFrontends(table.byId(0)));
    }

    @Test
    void shouldComputeEndpointSetsAtCompileTime() {
        final ServiceTable table = ServiceTable.compile(node(false), List.of(
            svc("a", Protocol.TCP, 80).clusterIp("10.96.0.1")
                .ready("10.244.1.1", 80, true)
                .endpoint(Fixtures.servingTerminating("10.244.1.2", 80, true))
                .endpoint(Fixtures.servingTerminating("10.244.2.3", 80, false)).build()));
        final ServicePort sp = table.byId(0);
        assertEquals("[10.244.1.1:80]", sp.clusterEndpoints().toString());
        assertEquals("[10.244.1.1:80]", sp.localEndpoints().toString());
        assertTrue(sp.hasUsableEndpoints());
    }

    @Test
    void shouldAllowLoadBalancerIpAsSourceWhenARangeHoldsTheNode() {
        final ServiceTable table = ServiceTable.compile(node(false), List.of(
            svc("lb", Protocol.TCP, 443).clusterIp("10.96.0.1").loadBalancerIp("198.18.100.1")
                .sourceRange("198.18.0.0/24").ready("10.244.2.1", 443, false).build()));
        final ServicePort sp = table.byId(0);
        assertTrue(sp.loadBalancerSourceAllowed(ip("198.18.0.11")));
        assertTrue(sp.loadBalancerSourceAllowed(ip("198.18.100.1")));
        assertFalse(sp.loadBalancerSourceAllowed(ip("203.0.113.1")));
    }

    @Test
    void shouldReuseTheServicePortsOfUnchangedSpecsAndCompileTheRestAfresh() {
        final ServicePortSpec a = svc("a", Protocol.TCP, 80).clusterIp("10.96.0.1").ready("10.244.1.1", 80, true).build();
        final ServicePortSpec b = svc("b", Protocol.TCP, 80).clusterIp("10.96.0.2").ready("10.244.1.2", 80, true).build();
        final ServicePortSpec c = svc("c", Protocol.UDP, 53).clusterIp("10.96.0.3").ready("10.244.2.3", 53, false).build();
        final ServiceTable first = ServiceTable.compile(node(false), List.of(a, b, c));
        // b's endpoint goes unready (a new spec object), a new service d comes first: a and c move
        final ServicePortSpec bUnready = svc("b", Protocol.TCP, 80).clusterIp("10.96.0.2")
            .endpoint(Fixtures.servingTerminating("10.244.1.2", 80, true)).build();
        final ServicePortSpec d = svc("d", Protocol.TCP, 443).clusterIp("10.96.0.4").ready("10.244.1.4", 443, true).build();
        final List<ServicePortSpec> next = List.of(d, a, bUnready, c);
        final ServiceTable reused = ServiceTable.compile(node(false), next, first);
        final ServiceTable fresh = ServiceTable.compile(node(false), next);

        assertEquals(fresh.toString(), reused.toString());
        for (int id = 0; id < next.size(); id++) {
            final ServicePort got = reused.byId(id);
            final ServicePort want = fresh.byId(id);
            assertEquals(id, got.id());
            assertSame(next.get(id), got.spec());
            assertEquals(want.toString(), got.toString(), "service port " + id);
            assertEquals(want.hasUsableEndpoints(), got.hasUsableEndpoints());
            assertEquals(want.affinityKey(), got.affinityKey());
        }
        for (final String address : List.of("10.96.0.1", "10.96.0.2", "10.96.0.3", "10.96.0.4")) {
            for (final int[] protoPort : new int[][] {{6, 80}, {17, 53}, {6, 443}}) {
                assertEquals(fresh.lookup(ip(address), protoPort[0], protoPort[1]), reused.lookup(ip(address), protoPort[0], protoPort[1]));
            }
        }
        // a's derived state is shared, under its new id; b's was compiled again from its new spec
        assertSame(first.byId(0).clusterEndpoints(), reused.byId(1).clusterEndpoints());
        assertSame(first.byId(2).clusterEndpoints(), reused.byId(3).clusterEndpoints());
        assertEquals("[10.244.1.2:80]", reused.byId(2).clusterEndpoints().toString());
        assertFalse(first.byId(1).clusterEndpoints() == reused.byId(2).clusterEndpoints());
        // unchanged and in place: the very same object
        final ServiceTable again = ServiceTable.compile(node(false), next, reused);
        for (int id = 0; id < next.size(); id++) {
            assertSame(reused.byId(id), again.byId(id));
        }
        // another node: nothing reused (local endpoints depend on it)
        final ServiceTable otherNode = ServiceTable.compile(node(true), next, reused);
        assertFalse(otherNode.byId(1) == reused.byId(1));
    }

    @Test
    void shouldStillRejectADoubleClaimWhenReusingServicePorts() {
        final ServicePortSpec a = svc("a", Protocol.TCP, 80).clusterIp("10.96.0.1").build();
        final ServiceTable first = ServiceTable.compile(node(false), List.of(a));
        final ServicePortSpec clash = svc("b", Protocol.TCP, 80).clusterIp("10.96.0.1").build();
        assertThrows(IllegalArgumentException.class, () -> ServiceTable.compile(node(false), List.of(a, clash), first));
        assertThrows(IllegalArgumentException.class, () -> ServiceTable.compile(node(false), List.of(a, a), first));
    }
}
