package dev.ferry.control.compile;

import dev.ferry.control.config.NodeConfig;
import dev.ferry.control.config.NodeConfigLoader;
import dev.ferry.control.manifest.ManifestReader;
import dev.ferry.control.manifest.ManifestSet;
import dev.ferry.dataplane.addr.Ipv4;
import dev.ferry.dataplane.service.EndpointSet;
import dev.ferry.dataplane.service.ServicePort;
import dev.ferry.dataplane.service.ServiceTable;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Topology-aware routing, case by case as kube-proxy's TestCategorizeEndpoints
 * (pkg/proxy/topology_test.go) puts it, with the hints semantics of its current topology.go (no
 * annotation gate: hints count whenever every ready endpoint has one) and PreferSameNode on, as
 * it is from Kubernetes 1.35. Each case goes through the real code: an EndpointSlice with
 * zone and node hints read from YAML, compiled for node-1 in the case's zone, then the
 * dataplane's cluster and local sets of the compiled service port.
 */
class TopologyTableTest {
    @TempDir
    Path dir;

    /** An endpoint: its last octet (10.1.2.N), ready or not (serving-terminating when "term"), on node-1 or not, its hints. */
    record Ep(int octet, String condition, boolean local, List<String> zones, List<String> nodes) {
        static Ep ready(final int octet, final String... zones) {
            return new Ep(octet, "ready", false, List.of(zones), List.of());
        }

        Ep onThisNode() {
            return new Ep(octet, condition, true, zones, nodes);
        }

        Ep unready() {
            return new Ep(octet, "unready", local, zones, nodes);
        }

        Ep terminating() {
            return new Ep(octet, "term", local, zones, nodes);
        }

        Ep nodes(final String... names) {
            return new Ep(octet, condition, local, zones, List.of(names));
        }
    }

    /** One case; {@code local} null when the service has no Local policy. */
    record Case(String name, String zone, boolean externalLocal, List<Ep> endpoints, Set<Integer> cluster, Set<Integer> local) {
        @Override
        public String toString() {
            return name;
        }
    }

    static List<Case> cases() {
        return List.of(
            new Case("zone hints: only this zone's endpoints", "zone-a", false,
                List.of(Ep.ready(3, "zone-a"), Ep.ready(4, "zone-b"), Ep.ready(5, "zone-c"), Ep.ready(6, "zone-a")), Set.of(3, 6), null),
            new Case("eTP Local: topology ignored for the local set", "zone-a", true,
                List.of(Ep.ready(3, "zone-a").onThisNode(), Ep.ready(4, "zone-b").onThisNode(), Ep.ready(5, "zone-c"), Ep.ready(6, "zone-a")),
                Set.of(3, 6), Set.of(3, 4)),
            new Case("node without a zone: hints ignored", null, false, List.of(Ep.ready(3, "zone-a")), Set.of(3), null),
            new Case("node in another zone than every hint: hints ignored", "zone-b", false, List.of(Ep.ready(3, "zone-a")), Set.of(3), null),
            new Case("an unready endpoint of this zone is not used", "zone-a", false,
                List.of(Ep.ready(3, "zone-a"), Ep.ready(4, "zone-b"), Ep.ready(5, "zone-c"), Ep.ready(6, "zone-a").unready()), Set.of(3), null),
            new Case("only unready endpoints in this zone: no filtering", "zone-a", false,
                List.of(Ep.ready(3, "zone-a").unready(), Ep.ready(4, "zone-b"), Ep.ready(5, "zone-c"), Ep.ready(6, "zone-a").unready()),
                Set.of(4, 5), null),
            new Case("a ready endpoint without hints: no filtering", "zone-a", false,
                List.of(Ep.ready(3, "zone-a"), Ep.ready(4, "zone-b"), Ep.ready(5), Ep.ready(6, "zone-a")), Set.of(3, 4, 5, 6), null),
            new Case("several zones per endpoint: any naming this zone", "zone-c", false,
                List.of(Ep.ready(3, "zone-a", "zone-b", "zone-c"), Ep.ready(4, "zone-b", "zone-c"), Ep.ready(5, "zone-b", "zone-d"),
                    Ep.ready(6, "zone-c")), Set.of(3, 4, 6), null),
            new Case("eTP Local, topology and localness disagree", "zone-a", true,
                List.of(Ep.ready(3, "zone-a").onThisNode(), Ep.ready(4, "zone-b").onThisNode(), Ep.ready(5, "zone-a"), Ep.ready(6, "zone-b")),
                Set.of(3, 5), Set.of(3, 4)),
            new Case("PreferSameNode: node hints for this node", "zone-a", false,
                List.of(Ep.ready(3, "zone-a").nodes("node-1").onThisNode(), Ep.ready(4, "zone-a").nodes("node-2"),
                    Ep.ready(5, "zone-b").nodes("node-3")), Set.of(3), null),
            new Case("PreferSameNode without an endpoint for this node: zone hints", "zone-a", false,
                List.of(Ep.ready(4, "zone-a").nodes("node-2"), Ep.ready(5, "zone-b").nodes("node-3"), Ep.ready(6, "zone-a").nodes("node-4")),
                Set.of(4, 6), null),
            new Case("a ready endpoint without a node hint: zone hints", "zone-b", false,
                List.of(Ep.ready(3, "zone-a").nodes("node-1").onThisNode(), Ep.ready(4, "zone-b")), Set.of(4), null),
            new Case("none ready: serving-terminating ones, whatever the topology", "zone-a", false,
                List.of(Ep.ready(3, "zone-a").terminating(), Ep.ready(4, "zone-b").terminating()), Set.of(3, 4), null));
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("cases")
    void shouldChooseTheEndpointsKubeProxyChooses(final Case c) throws Exception {
        final NodeConfig node = nodeOne();
        final Path manifests = Files.createDirectories(dir.resolve("manifests"));
        Files.writeString(manifests.resolve("svc.yaml"), manifest(c));
        final ManifestSet set = ManifestReader.read(List.of(manifests));
        assertEquals(List.of(), set.errors());
        final CompiledServices compiled = new ServicePortCompiler(node, c.zone()).compile(set);
        assertEquals(List.of(), compiled.errors());
        final ServicePort port = ServiceTable.compile(node.toNodeSpec(), compiled.ports()).ports().getFirst();
        assertEquals(new TreeSet<>(c.cluster()), octets(port.clusterEndpoints()), "cluster set");
        if (c.local() != null) {
            assertEquals(new TreeSet<>(c.local()), octets(port.localEndpoints()), "local set");
        }
    }

    @Test
    void shouldHintEachDerivedEndpointForItsNodeUnderPreferSameNode() throws Exception {
        final NodeConfig node = nodeOne();
        final Path manifests = Files.createDirectories(dir.resolve("manifests"));
        Files.writeString(manifests.resolve("svc.yaml"), """
            apiVersion: v1
            kind: Service
            metadata: {name: web}
            spec:
              clusterIP: 10.96.0.10
              selector: {app: web}
              trafficDistribution: PreferSameNode
              ports: [{port: 80, targetPort: 8080}]
            ---
            apiVersion: v1
            kind: Service
            metadata: {name: wrong}
            spec:
              clusterIP: 10.96.0.11
              selector: {app: web}
              trafficDistribution: PreferNearby
              ports: [{port: 80, targetPort: 8080}]
            """ + pod("web-1", "node-1", "10.244.1.5") + pod("web-2", "node-2", "10.244.2.5"));
        final ManifestSet set = ManifestReader.read(List.of(manifests));
        assertEquals(1, set.errors().size(), set.errors().toString());
        assertTrue(set.errors().getFirst().toString().contains("spec.trafficDistribution: must be one of"), set.errors().toString());
        final CompiledServices compiled = new ServicePortCompiler(node).compile(
            ManifestSet.of(set.services(), dev.ferry.control.endpoints.EndpointsController.slices(set.services(), set)));
        final ServicePort port = ServiceTable.compile(node.toNodeSpec(), compiled.ports()).ports().getFirst();
        assertEquals(1, port.clusterEndpoints().size(), "only this node's pod: " + port);
        assertEquals(Ipv4.parse("10.244.1.5"), port.clusterEndpoints().address(0));
    }

    /** node-1, without a zone of its own (each case gives the compiler its zone). */
    private NodeConfig nodeOne() throws Exception {
        return NodeConfigLoader.load(Files.writeString(dir.resolve("node.yaml"), """
            nodeName: node-1
            nodeIPs: [198.18.0.11]
            clusterCIDRs: [10.244.0.0/16]
            serviceCIDRs: [10.96.0.0/12]
            """));
    }

    private static String pod(final String name, final String nodeName, final String ip) {
        return """
            ---
            apiVersion: v1
            kind: Pod
            metadata: {name: %s, labels: {app: web}}
            spec: {nodeName: %s, containers: [{name: web, ports: [{containerPort: 8080}]}]}
            status: {podIP: %s, conditions: [{type: Ready, status: "True"}]}
            """.formatted(name, nodeName, ip);
    }

    private static TreeSet<Integer> octets(final EndpointSet set) {
        final TreeSet<Integer> out = new TreeSet<>();
        for (int i = 0; i < set.size(); i++) {
            out.add(set.address(i) & 0xFF);
        }
        return out;
    }

    private static String manifest(final Case c) {
        final StringBuilder y = new StringBuilder("""
            apiVersion: v1
            kind: Service
            metadata: {name: web}
            spec:
              type: %s
              clusterIP: 10.96.0.10
              ports: [{name: http, port: 80, nodePort: 30080}]
            ---
            apiVersion: discovery.k8s.io/v1
            kind: EndpointSlice
            metadata: {name: web-1, labels: {kubernetes.io/service-name: web}}
            addressType: IPv4
            ports: [{name: http, port: 80}]
            endpoints:
            """.formatted(c.externalLocal() ? "NodePort\n  externalTrafficPolicy: Local" : "NodePort"));
        for (final Ep ep : c.endpoints()) {
            y.append("- addresses: [").append(Ipv4.format(Ipv4.parse("10.1.2.0") + ep.octet())).append("]\n");
            y.append("  nodeName: ").append(ep.local() ? "node-1" : "node-9").append('\n');
            y.append("  conditions: ").append(switch (ep.condition()) {
                case "ready" -> "{ready: true}";
                case "unready" -> "{ready: false}";
                default -> "{ready: false, serving: true, terminating: true}";
            }).append('\n');
            y.append("  hints: {forZones: [").append(String.join(", ", ep.zones().stream().map(z -> "{name: " + z + "}").toList()))
                .append("], forNodes: [").append(String.join(", ", ep.nodes().stream().map(n -> "{name: " + n + "}").toList())).append("]}\n");
        }
        return y.toString();
    }
}
