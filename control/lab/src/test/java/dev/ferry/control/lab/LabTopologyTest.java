package dev.ferry.control.lab;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.ferry.dataplane.addr.Ipv4;
import dev.ferry.dataplane.addr.Ipv4Cidr;
import org.junit.jupiter.api.Test;

import java.util.HashSet;
import java.util.List;
import java.util.Set;

class LabTopologyTest {
    @Test
    void shouldPlacePodsInsideTheirNodesPodCidr() {
        for (int nodes = LabTopology.MIN_NODES; nodes <= LabTopology.MAX_NODES; nodes++) {
            final LabTopology topology = new LabTopology(nodes);
            for (final LabTopology.Pod pod : topology.pods()) {
                assertTrue(Ipv4Cidr.parse(pod.node().podCidr()).contains(Ipv4.parse(pod.ip())), pod.toString());
                assertTrue(Ipv4Cidr.parse(LabTopology.CLUSTER_CIDR).contains(Ipv4.parse(pod.ip())), pod.toString());
            }
        }
    }

    @Test
    void shouldGiveEveryNamespaceTheLabPrefixAndEveryInterfaceALegalName() {
        final LabTopology topology = new LabTopology(LabTopology.MAX_NODES);
        final Set<String> namespaces = new HashSet<>(topology.namespaces());
        assertEquals(topology.namespaces().size(), namespaces.size(), "namespace names are unique");
        namespaces.forEach(ns -> assertTrue(ns.startsWith(LabTopology.PREFIX), ns));
        topology.pods().forEach(p -> assertTrue(p.hostIf().length() <= 15, p.hostIf()));
        topology.nodes().forEach(n -> assertTrue(n.routerPort().length() <= 15, n.routerPort()));
    }

    @Test
    void shouldHaveThreeWebBackendsOnTwoNodesWithOneOnEachSide() {
        final LabTopology topology = new LabTopology(2);
        final List<LabTopology.Pod> web = topology.webPods();
        assertEquals(List.of("web-1", "web-2", "web-3"), web.stream().map(LabTopology.Pod::name).toList());
        assertEquals(Set.of("node-1", "node-2"), Set.copyOf(web.stream().map(p -> p.node().name()).toList()));
        assertEquals("node-1", topology.requirePod("local-1").node().name());
        assertEquals("yes", topology.requirePod("web-1").labels().get("solo"));
    }

    @Test
    void shouldResolveShortAndFullNamespaceNames() {
        final LabTopology topology = new LabTopology(2);
        assertEquals("ferry-lab-client", topology.resolveNamespace("client").orElseThrow());
        assertEquals("ferry-lab-node-2", topology.resolveNamespace("node-2").orElseThrow());
        assertEquals("ferry-lab-pod-web-3", topology.resolveNamespace("web-3").orElseThrow());
        assertEquals("ferry-lab-pod-web-3", topology.resolveNamespace("ferry-lab-pod-web-3").orElseThrow());
        assertTrue(topology.resolveNamespace("node-3").isEmpty());
    }

    @Test
    void shouldRejectANodeCountOutsideTheSupportedRange() {
        assertThrows(IllegalArgumentException.class, () -> new LabTopology(1));
        assertThrows(IllegalArgumentException.class, () -> new LabTopology(10));
        assertThrows(IllegalArgumentException.class, () -> new LabTopology("ferry-lab", 2));
        assertEquals("ferry-labtest-7-node-1", new LabTopology("ferry-labtest-7-", 2).node(1).netns());
    }
}
