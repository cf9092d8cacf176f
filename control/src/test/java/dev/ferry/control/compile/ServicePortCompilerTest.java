package dev.ferry.control.compile;

import dev.ferry.control.config.NodeConfig;
import dev.ferry.control.config.NodeConfigLoader;
import dev.ferry.control.manifest.ManifestReader;
import dev.ferry.control.manifest.ManifestSet;
import dev.ferry.dataplane.addr.Ipv4;
import dev.ferry.dataplane.service.EndpointSpec;
import dev.ferry.dataplane.service.Protocol;
import dev.ferry.dataplane.service.ServicePortSpec;
import dev.ferry.dataplane.service.ServiceTable;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.net.URISyntaxException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

class ServicePortCompilerTest {
    @TempDir
    Path dir;

    static Path resource(final String name) {
        try {
            return Path.of(ServicePortCompilerTest.class.getResource("/trace/" + name).toURI());
        } catch (final URISyntaxException e) {
            throw new IllegalStateException(e);
        }
    }

    private static NodeConfig nodeConfig() throws Exception {
        return NodeConfigLoader.load(resource("node.yaml"));
    }

    private CompiledServices compile(final String manifests) throws Exception {
        write("m.yaml", manifests);
        final ManifestSet set = ManifestReader.read(List.of(dir));
        assertEquals(List.of(), set.errors());
        return new ServicePortCompiler(nodeConfig()).compile(set);
    }

    private void write(final String name, final String text) throws IOException {
        Files.writeString(dir.resolve(name), text);
    }

    private static ServicePortSpec port(final CompiledServices compiled, final String displayName) {
        return compiled.ports().stream().filter(p -> p.displayName().equals(displayName)).findFirst()
            .orElseThrow(() -> new AssertionError("no " + displayName + " in " + compiled.ports()));
    }

    private static EndpointSpec endpoint(final String address, final int port, final boolean ready, final boolean local) {
        return new EndpointSpec(Ipv4.parse(address), port, ready, ready, false, local);
    }

    private static String service(final String name, final String clusterIp, final String extra) {
        return "apiVersion: v1\nkind: Service\nmetadata: {name: " + name + "}\nspec:\n  clusterIP: " + clusterIp + "\n" + extra + "---\n";
    }

    @Test
    void shouldCompileExampleManifests() throws Exception {
        final ManifestSet set = ManifestReader.read(List.of(resource("manifests")));
        assertEquals(1, set.errors().size(), set.errors().toString());
        assertTrue(set.errors().get(0).toString().endsWith(
            "40-broken.yaml: Service default/broken: spec.ports[0].port: 70000 is not a port (1-65535)"));

        final CompiledServices compiled = new ServicePortCompiler(nodeConfig()).compile(set);
        assertEquals(List.of(), compiled.errors());
        assertEquals(List.of("default/web:http", "tools/echo:udp-echo", "default/lonely:443"),
            compiled.ports().stream().map(ServicePortSpec::displayName).toList(), "headless and ExternalName have no ports");

        final ServicePortSpec web = port(compiled, "default/web:http");
        assertEquals(Protocol.TCP, web.protocol());
        assertEquals(80, web.port());
        assertEquals(List.of(Ipv4.parse("172.30.0.41")), web.clusterIps());
        assertEquals(List.of(endpoint("10.244.1.5", 8080, true, true), endpoint("10.244.2.7", 8080, true, false)),
            web.endpoints(), "named targetPort resolved through the slice port of the same name");

        final ServicePortSpec echo = port(compiled, "tools/echo:udp-echo");
        assertEquals(30007, echo.nodePort());
        assertEquals(List.of(endpoint("10.244.1.20", 7007, true, true), endpoint("10.244.3.4", 7007, false, false)),
            echo.endpoints(), "two slices merged");

        assertEquals(List.of(), port(compiled, "default/lonely:443").endpoints());
    }

    @Test
    void shouldReadDocsExamplesWithoutErrors() throws Exception {
        final Path examples = Path.of("..", "docs", "examples");
        final NodeConfig config = NodeConfigLoader.load(examples.resolve("node.yaml"));
        final ManifestSet set = ManifestReader.read(List.of(examples.resolve("manifests")));
        assertEquals(List.of(), set.errors());
        final CompiledServices compiled = new ServicePortCompiler(config).compile(set);
        assertEquals(List.of(), compiled.errors());
        assertEquals(List.of("default/web:http", "kube-system/kube-dns:dns", "kube-system/kube-dns:dns-tcp", "shop/shop:http",
            "default/billing:443"), compiled.ports().stream().map(ServicePortSpec::displayName).toList());
        assertEquals(3, port(compiled, "kube-system/kube-dns:dns").endpoints().size());
    }

    @Test
    void shouldCarryServicePoliciesIntoSpec() throws Exception {
        final CompiledServices compiled = compile(service("lb", "172.30.0.9", """
              type: LoadBalancer
              ports: [{port: 443, nodePort: 31443}]
              externalIPs: [203.0.113.9]
              loadBalancerSourceRanges: [198.51.100.0/24]
              externalTrafficPolicy: Local
              internalTrafficPolicy: Local
              healthCheckNodePort: 32000
              sessionAffinity: ClientIP
            status:
              loadBalancer: {ingress: [{ip: 192.0.2.10}]}
            """));
        final ServicePortSpec lb = compiled.ports().get(0);
        assertEquals("default/lb:443", lb.displayName());
        assertEquals("", lb.portName());
        assertEquals(31443, lb.nodePort());
        assertEquals(List.of(Ipv4.parse("203.0.113.9")), lb.externalIps());
        assertEquals(List.of(Ipv4.parse("192.0.2.10")), lb.loadBalancerIps());
        assertEquals(1, lb.loadBalancerSourceRanges().size());
        assertTrue(lb.externalPolicyLocal());
        assertTrue(lb.internalPolicyLocal());
        assertTrue(lb.affinityClientIp());
        assertEquals(ServicePortSpec.DEFAULT_AFFINITY_TIMEOUT_SECONDS, lb.affinityTimeoutSeconds());
        assertEquals(32000, lb.healthCheckNodePort());
    }

    @Test
    void shouldLeaveNodePortZeroWhenNotGiven() throws Exception {
        final CompiledServices compiled = compile(service("np", "172.30.0.9", "  type: NodePort\n  ports: [{port: 80}]\n"));
        assertEquals(0, compiled.ports().get(0).nodePort());
        assertFalse(compiled.ports().get(0).externalPolicyLocal());
    }

    @Test
    void shouldMatchSlicePortsByNameAndProtocol() throws Exception {
        final CompiledServices compiled = compile(service("dns", "172.30.0.10", """
              ports:
              - {name: dns, port: 53, protocol: UDP}
              - {name: dns-tcp, port: 53, protocol: TCP}
            """) + """
            apiVersion: discovery.k8s.io/v1
            kind: EndpointSlice
            metadata: {name: dns-1, labels: {kubernetes.io/service-name: dns}}
            addressType: IPv4
            ports:
            - {name: dns, port: 5353, protocol: UDP}
            - {name: dns-tcp, port: 5354, protocol: TCP}
            - {name: metrics, port: 9153, protocol: TCP}
            - {name: dns, port: 9999, protocol: SCTP}
            endpoints: [{addresses: [10.244.1.2]}]
            """);
        assertEquals(List.of(endpoint("10.244.1.2", 5353, true, false)), port(compiled, "default/dns:dns").endpoints());
        assertEquals(List.of(endpoint("10.244.1.2", 5354, true, false)), port(compiled, "default/dns:dns-tcp").endpoints());
    }

    @Test
    void shouldIgnoreSlicesOfOtherNamespacesAndCountDuplicateEndpointsOnce() throws Exception {
        final String slice = """
            apiVersion: discovery.k8s.io/v1
            kind: EndpointSlice
            metadata: {name: NAME, namespace: NS, labels: {kubernetes.io/service-name: web}}
            addressType: IPv4
            ports: [{port: 8080}]
            endpoints: [{addresses: [10.244.1.5]}]
            ---
            """;
        final CompiledServices compiled = compile(service("web", "172.30.0.41", "  ports: [{port: 80}]\n")
            + slice.replace("NAME", "a").replace("NS", "default")
            + slice.replace("NAME", "b").replace("NS", "default")
            + slice.replace("NAME", "c").replace("NS", "other").replace("10.244.1.5", "10.244.9.9"));
        assertEquals(List.of(endpoint("10.244.1.5", 8080, true, false)), compiled.ports().get(0).endpoints());
    }

    @Test
    void shouldRejectNodePortOutsideNodeRange() throws Exception {
        final CompiledServices compiled = compile(service("np", "172.30.0.9", "  type: NodePort\n  ports: [{port: 80, nodePort: 8080}]\n"));
        assertEquals(List.of(), compiled.ports());
        assertTrue(compiled.errors().get(0).toString().endsWith(
            "m.yaml: Service default/np: spec.ports[0].nodePort: 8080 is outside the node's nodePortRange 30000-32767"),
            compiled.errors().toString());
    }

    @Test
    void shouldRejectSecondServiceClaimingSameNodePort() throws Exception {
        final String ports = "  type: NodePort\n  ports: [{port: 80, nodePort: 30080}]\n";
        final CompiledServices compiled = compile(service("a", "172.30.0.1", ports) + service("b", "172.30.0.2", ports));
        assertEquals(List.of("default/a:80"), compiled.ports().stream().map(ServicePortSpec::displayName).toList());
        assertTrue(compiled.errors().get(0).toString().contains(
            "Service default/b: spec.ports[0].nodePort: 30080/TCP is already the node port of "), compiled.errors().toString());
    }

    @Test
    void shouldRejectClusterIpOutsideServiceCidrsOrTaken() throws Exception {
        final String ports = "  ports: [{port: 80}]\n";
        final CompiledServices compiled = compile(service("a", "172.30.0.1", ports) + service("b", "172.30.0.1", ports)
            + service("c", "10.0.0.1", ports));
        assertEquals(List.of("default/a:80"), compiled.ports().stream().map(ServicePortSpec::displayName).toList());
        assertEquals(2, compiled.errors().size());
        assertTrue(compiled.errors().get(0).toString().contains("Service default/b: spec.clusterIP: 172.30.0.1 is already the ClusterIP of"));
        assertTrue(compiled.errors().get(1).toString().contains(
            "Service default/c: spec.clusterIP: 10.0.0.1 is outside the serviceCIDRs [172.30.0.0/16]"));
    }

    @Test
    void shouldRejectServicesWhoseFrontendsCollideSoTheServiceTableCompiles() throws Exception {
        final CompiledServices compiled = compile(service("a", "172.30.0.1", """
              type: NodePort
              ports: [{name: dns, port: 53, protocol: UDP}, {name: web, port: 80, nodePort: 30080}]
            """)
            + service("b", "172.30.0.2", "  ports: [{port: 53, protocol: UDP}]\n  externalIPs: [172.30.0.1]\n")
            + service("c", "172.30.0.3", "  ports: [{port: 8080}]\n  externalIPs: [172.30.0.1]\n")
            + service("d", "172.30.0.4", """
              type: LoadBalancer
              externalTrafficPolicy: Local
              healthCheckNodePort: 30080
              ports: [{port: 443, nodePort: 30443}]
            """));
        assertEquals(List.of("default/a:dns", "default/a:web", "default/c:8080"),
            compiled.ports().stream().map(ServicePortSpec::displayName).toList());
        assertEquals(2, compiled.errors().size(), compiled.errors().toString());
        assertTrue(compiled.errors().get(0).toString().endsWith(
            "Service default/b: spec.externalIPs[0]: 172.30.0.1:53/UDP is already the ClusterIP of " + dir.resolve("m.yaml")
                + ": Service default/a"), compiled.errors().get(0).toString());
        assertTrue(compiled.errors().get(1).toString().contains(
            "Service default/d: spec.healthCheckNodePort: 30080/TCP is already the node port of "), compiled.errors().get(1).toString());
        ServiceTable.compile(nodeConfig().toNodeSpec(), compiled.ports());
    }

    @Test
    void shouldRejectServiceClaimingOneNodePortTwice() throws Exception {
        final CompiledServices compiled = compile(service("a", "172.30.0.1", """
              type: LoadBalancer
              externalTrafficPolicy: Local
              healthCheckNodePort: 30080
              ports: [{name: a, port: 80, nodePort: 30080}, {name: b, port: 81, nodePort: 30081}]
            """) + service("b", "172.30.0.2", """
              type: NodePort
              ports: [{name: a, port: 80, nodePort: 30090}, {name: b, port: 81, nodePort: 30090}]
            """));
        assertEquals(List.of(), compiled.ports());
        assertTrue(compiled.errors().get(0).toString().endsWith(
            "Service default/a: spec.healthCheckNodePort: 30080/TCP is already the node port of spec.ports[0].nodePort"),
            compiled.errors().toString());
        assertTrue(compiled.errors().get(1).toString().endsWith(
            "Service default/b: spec.ports[1].nodePort: 30090/TCP is already the node port of spec.ports[0].nodePort"),
            compiled.errors().toString());
    }
}
