package dev.ferry.control.endpoints;

import dev.ferry.control.compile.CompiledServices;
import dev.ferry.control.compile.ServicePortCompiler;
import dev.ferry.control.config.NodeConfig;
import dev.ferry.control.config.PortType;
import dev.ferry.control.manifest.ManifestReader;
import dev.ferry.control.manifest.ManifestSet;
import dev.ferry.dataplane.addr.Ipv4;
import dev.ferry.dataplane.addr.Ipv4Cidr;
import dev.ferry.dataplane.service.EndpointSpec;
import dev.ferry.dataplane.service.NodeSpec;
import dev.ferry.dataplane.service.ServicePortSpec;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;

class EndpointsControllerTest {
    private static final NodeConfig NODE = new NodeConfig(new NodeSpec("node-a", List.of(Ipv4.parse("198.18.0.11")),
        List.of(Ipv4Cidr.parse("10.244.0.0/16")), Ipv4Cidr.parse("10.244.1.0/24"), List.of(Ipv4Cidr.parse("10.96.0.0/12")),
        30000, 32767, List.of(), false), PortType.TUN);

    @TempDir
    Path dir;

    static String pod(final String name, final String labels, final String ip, final String node, final String ready,
                      final String extraMetadata, final String ports) {
        return """
            apiVersion: v1
            kind: Pod
            metadata: {name: %s, labels: %s%s}
            spec:
              nodeName: %s
              containers: [{name: app, ports: %s}]
            status:
              podIP: %s
              conditions: [{type: Ready, status: "%s"}]
            ---
            """.formatted(name, labels, extraMetadata, node, ports, ip, ready);
    }

    static String pod(final String name, final String ip, final String node, final String ready) {
        return pod(name, "{app: web}", ip, node, ready, "", "[{name: http, containerPort: 8080}]");
    }

    private CompiledServices compile(final String manifests) throws Exception {
        Files.writeString(dir.resolve("m.yaml"), manifests);
        final ManifestSet set = ManifestReader.read(List.of(dir));
        assertEquals(List.of(), set.errors());
        final CompiledServices compiled = new ServicePortCompiler(NODE)
            .compile(ManifestSet.of(set.services(), EndpointsController.slices(set.services(), set)));
        assertEquals(List.of(), compiled.errors());
        return compiled;
    }

    private static List<EndpointSpec> endpoints(final CompiledServices compiled, final String displayName) {
        return compiled.ports().stream().filter(p -> p.displayName().equals(displayName)).findFirst()
            .map(ServicePortSpec::endpoints)
            .orElseThrow(() -> new AssertionError("no " + displayName + " in " + compiled.ports()));
    }

    private static EndpointSpec endpoint(final String ip, final int port, final boolean ready, final boolean serving,
                                         final boolean terminating, final boolean local) {
        return new EndpointSpec(Ipv4.parse(ip), port, ready, serving, terminating, local);
    }

    private static final String WEB = """
        apiVersion: v1
        kind: Service
        metadata: {name: web}
        spec:
          clusterIP: 10.96.0.10
          selector: {app: web}
          ports: [{name: http, port: 80, targetPort: http}]
        ---
        """;

    @Test
    void shouldDeriveEndpointsFromReadyNotReadyAndTerminatingPods() throws Exception {
        final CompiledServices compiled = compile(WEB
            + pod("web-ready", "10.244.1.5", "node-a", "True")
            + pod("web-not-ready", "10.244.2.6", "node-b", "False")
            + pod("web-leaving", "{app: web}", "10.244.1.7", "node-a", "True", ", deletionTimestamp: \"2026-01-01T00:00:00Z\"",
                "[{name: http, containerPort: 8080}]")
            + pod("other-app", "{app: api}", "10.244.1.8", "node-a", "True", "", "[{name: http, containerPort: 8080}]"));
        assertEquals(List.of(
                endpoint("10.244.1.5", 8080, true, true, false, true),
                endpoint("10.244.2.6", 8080, false, false, false, false),
                endpoint("10.244.1.7", 8080, false, true, true, true)),
            endpoints(compiled, "default/web:http"));
    }

    @Test
    void shouldResolveNamedTargetPortPerPodAndSkipPodsWithoutIt() throws Exception {
        final CompiledServices compiled = compile("""
            apiVersion: v1
            kind: Service
            metadata: {name: web}
            spec:
              clusterIP: 10.96.0.10
              selector: {app: web}
              ports:
              - {name: http, port: 80, targetPort: http}
              - {name: metrics, port: 9100, targetPort: 9100}
              - {name: dns, port: 53, protocol: UDP, targetPort: http}
            ---
            """
            + pod("v1", "{app: web}", "10.244.1.5", "node-a", "True", "", "[{name: http, containerPort: 8080}]")
            + pod("v2", "{app: web}", "10.244.1.6", "node-a", "True", "", "[{name: http, containerPort: 9090}]")
            + pod("no-http", "{app: web}", "10.244.1.7", "node-a", "True", "", "[{name: web, containerPort: 80}]"));
        assertEquals(List.of(endpoint("10.244.1.5", 8080, true, true, false, true), endpoint("10.244.1.6", 9090, true, true, false, true)),
            endpoints(compiled, "default/web:http"), "each pod's own container port; the pod without one left out");
        assertEquals(3, endpoints(compiled, "default/web:metrics").size(), "a numeric targetPort applies to every pod");
        assertEquals(List.of(), endpoints(compiled, "default/web:dns"), "the container port's protocol must match too");
    }

    @Test
    void shouldLeaveOutPodsWithoutAddressFinishedOrInOtherNamespaces() throws Exception {
        final CompiledServices compiled = compile(WEB
            + "apiVersion: v1\nkind: Pod\nmetadata: {name: pending, labels: {app: web}}\n"
            + "spec: {containers: [{name: app, ports: [{name: http, containerPort: 8080}]}]}\nstatus: {phase: Pending}\n---\n"
            + "apiVersion: v1\nkind: Pod\nmetadata: {name: done, labels: {app: web}}\n"
            + "spec: {containers: [{name: app, ports: [{name: http, containerPort: 8080}]}]}\n"
            + "status: {phase: Failed, podIP: 10.244.1.9}\n---\n"
            + pod("elsewhere", "{app: web}", "10.244.1.10", "node-a", "True", ", namespace: other",
                "[{name: http, containerPort: 8080}]"));
        assertEquals(List.of(), endpoints(compiled, "default/web:http"));
    }

    @Test
    void shouldPublishNotReadyAddressesAsReady() throws Exception {
        final CompiledServices compiled = compile(WEB.replace("selector:", "publishNotReadyAddresses: true\n  selector:")
            + pod("web-not-ready", "10.244.2.6", "node-b", "False"));
        assertEquals(List.of(endpoint("10.244.2.6", 8080, true, false, false, false)), endpoints(compiled, "default/web:http"));
    }

    @Test
    void shouldUseWrittenSlicesOfAServiceWithSelectorAsADumpOfAClusterHasThem() throws Exception {
        final CompiledServices compiled = compile(WEB + """
            apiVersion: discovery.k8s.io/v1
            kind: EndpointSlice
            metadata: {name: web-1, labels: {kubernetes.io/service-name: web}}
            addressType: IPv4
            ports: [{name: http, port: 8080}]
            endpoints: [{addresses: [10.244.9.9]}]
            """);
        assertEquals(List.of(endpoint("10.244.9.9", 8080, true, true, false, false)), endpoints(compiled, "default/web:http"),
            "written slices are what the cluster's controller already derived");
    }

    @Test
    void shouldIgnoreHandWrittenEndpointsOfServicesWithSelector() throws Exception {
        final CompiledServices compiled = compile(WEB + """
            apiVersion: v1
            kind: Endpoints
            metadata: {name: web}
            subsets: [{addresses: [{ip: 10.244.9.8}], ports: [{name: http, port: 8080}]}]
            """);
        assertEquals(List.of(), endpoints(compiled, "default/web:http"), "the controller owns a selector's endpoints");
    }

    private static final String DB = """
        apiVersion: v1
        kind: Service
        metadata: {name: db}
        spec:
          clusterIP: 10.96.0.20
          ports: [{name: pg, port: 5432}]
        ---
        apiVersion: v1
        kind: Endpoints
        metadata: {name: db}
        subsets:
        - addresses: [{ip: 192.0.2.10, nodeName: node-a}]
          notReadyAddresses: [{ip: 192.0.2.11}]
          ports: [{name: pg, port: 5432}]
        ---
        """;

    @Test
    void shouldMirrorEndpointsOfServicesWithoutSelector() throws Exception {
        final CompiledServices compiled = compile(DB);
        assertEquals(List.of(endpoint("192.0.2.10", 5432, true, true, false, true), endpoint("192.0.2.11", 5432, false, false, false, false)),
            endpoints(compiled, "default/db:pg"));
    }

    @Test
    void shouldPreferEndpointSlicesOverEndpointsWhenBothAreWritten() throws Exception {
        final CompiledServices compiled = compile(DB + """
            apiVersion: discovery.k8s.io/v1
            kind: EndpointSlice
            metadata: {name: db-1, labels: {kubernetes.io/service-name: db}}
            addressType: IPv4
            ports: [{name: pg, port: 6432}]
            endpoints: [{addresses: [192.0.2.20]}]
            """);
        assertEquals(List.of(endpoint("192.0.2.20", 6432, true, true, false, false)), endpoints(compiled, "default/db:pg"));
    }
}
