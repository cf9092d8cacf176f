package dev.ferry.control.manifest;

import dev.ferry.control.model.EndpointSlice;
import dev.ferry.control.model.Service;
import dev.ferry.control.model.ServicePort;
import dev.ferry.control.model.ServiceType;
import dev.ferry.control.model.SessionAffinity;
import dev.ferry.control.model.SliceEndpoint;
import dev.ferry.control.model.SlicePort;
import dev.ferry.control.model.TargetPort;
import dev.ferry.control.model.TrafficPolicy;
import dev.ferry.dataplane.addr.Ipv4;
import dev.ferry.dataplane.addr.Ipv4Cidr;
import dev.ferry.dataplane.service.Protocol;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

class ManifestReaderTest {
    static final String WEB_SERVICE = """
        apiVersion: v1
        kind: Service
        metadata:
          name: web
        spec:
          clusterIP: 172.30.0.41
          ports:
          - port: 80
        """;

    @TempDir
    Path dir;

    private Path write(final String name, final String text) throws IOException {
        final Path file = dir.resolve(name);
        Files.writeString(file, text);
        return file;
    }

    private ManifestSet readDir() {
        return ManifestReader.read(List.of(dir));
    }

    private static Service service(final ManifestSet set, final String name) {
        return set.services().stream().filter(s -> s.ref().name().equals(name)).findFirst().orElseThrow(
            () -> new AssertionError("no service " + name + " in " + set.services() + " errors " + set.errors()));
    }

    private static String onlyError(final ManifestSet set) {
        assertEquals(1, set.errors().size(), "errors: " + set.errors());
        return set.errors().get(0).toString();
    }

    @Test
    void shouldApplyApiDefaultsToService() throws Exception {
        write("web.yaml", WEB_SERVICE);
        final ManifestSet set = readDir();
        assertEquals(List.of(), set.errors());
        final Service web = service(set, "web");
        assertEquals("default", web.ref().namespace());
        assertEquals(ServiceType.ClusterIP, web.type());
        assertEquals(List.of(Ipv4.parse("172.30.0.41")), web.clusterIps());
        assertEquals(List.of(new ServicePort("", Protocol.TCP, 80, TargetPort.of(80), 0)), web.ports());
        assertEquals(TrafficPolicy.Cluster, web.externalTrafficPolicy());
        assertEquals(TrafficPolicy.Cluster, web.internalTrafficPolicy());
        assertEquals(SessionAffinity.None, web.sessionAffinity());
        assertEquals(10800, web.affinityTimeoutSeconds());
        assertFalse(web.headless());
        assertTrue(web.hasDataPath());
    }

    @Test
    void shouldReadEveryServiceField() throws Exception {
        write("lb.yaml", """
            apiVersion: v1
            kind: Service
            metadata: {name: shop, namespace: prod, labels: {app: shop}}
            spec:
              type: LoadBalancer
              selector: {app: shop}
              clusterIP: 172.30.0.7
              clusterIPs: [172.30.0.7, "fd00::7"]
              ipFamilies: [IPv4, IPv6]
              ports:
              - {name: https, protocol: TCP, port: 443, targetPort: web-tls, nodePort: 30443}
              - {name: dns, protocol: UDP, port: 53, targetPort: 5353}
              externalIPs: [203.0.113.9]
              loadBalancerSourceRanges: [198.51.100.0/24]
              externalTrafficPolicy: Local
              internalTrafficPolicy: Local
              healthCheckNodePort: 31555
              sessionAffinity: ClientIP
              sessionAffinityConfig: {clientIP: {timeoutSeconds: 60}}
            status:
              loadBalancer:
                ingress: [{ip: 192.0.2.10}, {hostname: lb.example.com}]
            """);
        final ManifestSet set = readDir();
        assertEquals(List.of(), set.errors());
        final Service shop = service(set, "shop");
        assertEquals("prod", shop.ref().namespace());
        assertEquals(ServiceType.LoadBalancer, shop.type());
        assertEquals(List.of(Ipv4.parse("172.30.0.7")), shop.clusterIps(), "the IPv6 family is left out");
        assertEquals(new ServicePort("https", Protocol.TCP, 443, TargetPort.named("web-tls"), 30443), shop.ports().get(0));
        assertEquals(new ServicePort("dns", Protocol.UDP, 53, TargetPort.of(5353), 0), shop.ports().get(1));
        assertEquals(List.of(Ipv4.parse("203.0.113.9")), shop.externalIps());
        assertEquals(List.of(Ipv4Cidr.parse("198.51.100.0/24")), shop.loadBalancerSourceRanges());
        assertEquals(List.of(Ipv4.parse("192.0.2.10")), shop.loadBalancerIps());
        assertEquals(TrafficPolicy.Local, shop.externalTrafficPolicy());
        assertEquals(TrafficPolicy.Local, shop.internalTrafficPolicy());
        assertEquals(31555, shop.healthCheckNodePort());
        assertEquals(SessionAffinity.ClientIP, shop.sessionAffinity());
        assertEquals(60, shop.affinityTimeoutSeconds());
    }

    @Test
    void shouldReadMultiDocumentYaml() throws Exception {
        write("all.yaml", "---\n" + WEB_SERVICE + "---\n" + WEB_SERVICE.replace("name: web", "name: api")
            .replace("172.30.0.41", "172.30.0.42") + "---\n");
        final ManifestSet set = readDir();
        assertEquals(List.of(), set.errors());
        assertEquals(List.of("web", "api"), set.services().stream().map(s -> s.ref().name()).toList());
    }

    @Test
    void shouldReadJsonAndListsIgnoringOtherKinds() throws Exception {
        write("list.json", """
            {"apiVersion": "v1", "kind": "List", "items": [
              {"apiVersion": "v1", "kind": "Service", "metadata": {"name": "a", "namespace": "ns"},
               "spec": {"clusterIP": "172.30.0.1", "ports": [{"port": 80}]}},
              {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "ignored"}},
              {"apiVersion": "discovery.k8s.io/v1", "kind": "EndpointSlice",
               "metadata": {"name": "a-1", "namespace": "ns", "labels": {"kubernetes.io/service-name": "a"}},
               "addressType": "IPv4", "ports": [{"port": 8080}],
               "endpoints": [{"addresses": ["10.244.1.5"]}]}
            ]}
            """);
        write("typed.yml", """
            apiVersion: v1
            kind: ServiceList
            items:
            - metadata: {name: b}
              spec: {clusterIP: 172.30.0.2, ports: [{port: 53, protocol: UDP}]}
            """);
        final ManifestSet set = readDir();
        assertEquals(List.of(), set.errors());
        assertEquals(List.of("ns/a", "default/b"), set.services().stream().map(s -> s.ref().key()).toList());
        assertEquals(1, set.endpointSlices().size());
        final EndpointSlice slice = set.endpointSlices().get(0);
        assertEquals("a", slice.serviceName());
        assertEquals(List.of(new SlicePort("", Protocol.TCP, 8080)), slice.ports());
    }

    @Test
    void shouldApplyEndpointConditionDefaults() throws Exception {
        write("slice.yaml", """
            apiVersion: discovery.k8s.io/v1
            kind: EndpointSlice
            metadata:
              name: web-x1
              labels: {kubernetes.io/service-name: web}
            addressType: IPv4
            ports: [{name: http, port: 8080, protocol: TCP}]
            endpoints:
            - addresses: [10.244.1.5]
              nodeName: node-a
            - addresses: [10.244.1.6]
              conditions: {ready: false}
            - addresses: [10.244.1.7]
              conditions: {ready: false, serving: true, terminating: true}
            """);
        final ManifestSet set = readDir();
        assertEquals(List.of(), set.errors());
        assertEquals(List.of(
            new SliceEndpoint(Ipv4.parse("10.244.1.5"), true, true, false, "node-a"),
            new SliceEndpoint(Ipv4.parse("10.244.1.6"), false, false, false, null),
            new SliceEndpoint(Ipv4.parse("10.244.1.7"), false, true, true, null)),
            set.endpointSlices().get(0).endpoints());
    }

    @Test
    void shouldSkipNonIpv4SlicesWithoutError() throws Exception {
        write("v6.yaml", """
            apiVersion: discovery.k8s.io/v1
            kind: EndpointSlice
            metadata: {name: web-v6, labels: {kubernetes.io/service-name: web}}
            addressType: IPv6
            endpoints: [{addresses: ["fd00::5"]}]
            """);
        final ManifestSet set = readDir();
        assertEquals(List.of(), set.errors());
        assertEquals(List.of(), set.endpointSlices());
    }

    @Test
    void shouldMarkHeadlessAndExternalNameServicesAsHavingNoDataPath() throws Exception {
        write("names.yaml", """
            apiVersion: v1
            kind: Service
            metadata: {name: db}
            spec:
              clusterIP: None
              ports: [{port: 5432}]
            ---
            apiVersion: v1
            kind: Service
            metadata: {name: ext}
            spec:
              type: ExternalName
              externalName: example.com
            """);
        final ManifestSet set = readDir();
        assertEquals(List.of(), set.errors());
        assertTrue(service(set, "db").headless());
        assertFalse(service(set, "db").hasDataPath());
        assertFalse(service(set, "ext").hasDataPath());
    }

    @Test
    void shouldRejectBadPortNamingFileObjectAndFieldWhileGoodObjectsApply() throws Exception {
        final Path file = write("services.yaml", WEB_SERVICE.replace("port: 80", "port: 70000") + "---\n"
            + WEB_SERVICE.replace("name: web", "name: good").replace("172.30.0.41", "172.30.0.42"));
        final ManifestSet set = readDir();
        assertEquals(file + ": Service default/web: spec.ports[0].port: 70000 is not a port (1-65535)", onlyError(set));
        assertEquals(List.of("good"), set.services().stream().map(s -> s.ref().name()).toList());
    }

    @Test
    void shouldRejectEachKindOfBadServiceField() throws Exception {
        final String[][] cases = {
            {"type: Weird", "spec.type: 'Weird' is not one of ClusterIP, NodePort, LoadBalancer, ExternalName"},
            {"externalIPs: [nope]", "spec.externalIPs[0]: 'nope' is not an IP address"},
            {"loadBalancerSourceRanges: [1.2.3.0/40]", "spec.loadBalancerSourceRanges[0]: '1.2.3.0/40' is not a CIDR"},
            {"externalTrafficPolicy: Global", "spec.externalTrafficPolicy: 'Global' is not one of Cluster, Local"},
            {"internalTrafficPolicy: local", "spec.internalTrafficPolicy: 'local' is not one of Cluster, Local"},
            {"sessionAffinity: Cookie", "spec.sessionAffinity: 'Cookie' is not one of None, ClientIP"},
            {"sessionAffinityConfig: {clientIP: {timeoutSeconds: 0}}",
                "spec.sessionAffinityConfig.clientIP.timeoutSeconds: 0 is not a timeout in seconds (1-86400)"},
            {"healthCheckNodePort: -1", "spec.healthCheckNodePort: -1 is not a port (1-65535)"},
        };
        for (int i = 0; i < cases.length; i++) {
            Files.deleteIfExists(dir.resolve("case.yaml"));
            final Path file = write("case.yaml", WEB_SERVICE + "  " + cases[i][0] + "\n");
            final ManifestSet set = readDir();
            final String error = onlyError(set);
            assertTrue(error.startsWith(file + ": Service default/web: " + cases[i][1]), "case " + i + ": " + error);
            assertEquals(List.of(), set.services());
        }
    }

    @Test
    void shouldRejectBadClusterIps() throws Exception {
        final Path file = write("case.yaml", WEB_SERVICE.replace("172.30.0.41", "172.30.0.999"));
        assertEquals(file + ": Service default/web: spec.clusterIP: '172.30.0.999' is not an IP address", onlyError(readDir()));
        write("case.yaml", WEB_SERVICE + "  clusterIPs: [172.30.0.42]\n");
        assertEquals(file + ": Service default/web: spec.clusterIPs[0]: '172.30.0.42' must equal spec.clusterIP '172.30.0.41'",
            onlyError(readDir()));
    }

    @Test
    void shouldRejectBadPortEntries() throws Exception {
        final String[][] cases = {
            {"- {port: 80, protocol: ICMP}", "spec.ports[0].protocol: 'ICMP' is not a protocol (TCP, UDP or SCTP)"},
            {"- {port: \"80\"}", "spec.ports[0].port: '80' is not an integer"},
            {"- {port: 80, targetPort: \"8080\"}", "spec.ports[0].targetPort: '8080' is a quoted number"},
            {"- {port: 80, targetPort: Not_A_Name}", "spec.ports[0].targetPort: 'Not_A_Name' is not a port number or a port name"},
            {"- {port: 80, nodePort: 30080}", "spec.ports[0].nodePort: may only be set when spec.type is NodePort or LoadBalancer"},
            {"- {name: a, port: 80}\n- {port: 81}", "spec.ports[1].name: is required when a Service has more than one port"},
            {"- {name: a, port: 80}\n- {name: a, port: 81}", "spec.ports[1].name: 'a' is already the name of spec.ports[0]"},
            {"- {name: a, port: 80}\n- {name: b, port: 80}", "spec.ports[1].port: 80/TCP appears twice in spec.ports"},
            {"[]", "spec.ports: at least one port is required"},
        };
        for (int i = 0; i < cases.length; i++) {
            Files.deleteIfExists(dir.resolve("case.yaml"));
            final String ports = cases[i][0].equals("[]") ? "  ports: []\n" : "  ports:\n" + cases[i][0].indent(2);
            final Path file = write("case.yaml", WEB_SERVICE.substring(0, WEB_SERVICE.indexOf("  ports:")) + ports);
            final String error = onlyError(readDir());
            assertTrue(error.startsWith(file + ": Service default/web: " + cases[i][1]), "case " + i + ": " + error);
        }
    }

    @Test
    void shouldRejectHeadlessNodePort() throws Exception {
        write("case.yaml", WEB_SERVICE.replace("172.30.0.41", "None") + "  type: NodePort\n");
        assertTrue(onlyError(readDir()).contains("Service default/web: spec.clusterIP: 'None' (headless) is only valid for type ClusterIP"));
    }

    @Test
    void shouldRejectBadEndpointSliceFields() throws Exception {
        final String slice = """
            apiVersion: discovery.k8s.io/v1
            kind: EndpointSlice
            metadata:
              name: web-1
              namespace: shop
              labels: {kubernetes.io/service-name: web}
            addressType: IPv4
            ports: [{name: http, port: 8080}]
            endpoints:
            - addresses: [10.244.1.5]
              conditions: {ready: true}
            """;
        final String[][] cases = {
            {"labels: {kubernetes.io/service-name: web}", "labels: {app: web}",
                "metadata.labels[kubernetes.io/service-name]: is required"},
            {"port: 8080", "port: 0", "ports[0].port: 0 is not a port (1-65535)"},
            {"[10.244.1.5]", "[10.244.1.500]", "endpoints[0].addresses[0]: '10.244.1.500' is not an IP address"},
            {"[10.244.1.5]", "[]", "endpoints[0].addresses: at least one address is required"},
            {"ready: true", "ready: \"yes\"", "endpoints[0].conditions.ready: 'yes' is not a boolean"},
        };
        for (int i = 0; i < cases.length; i++) {
            Files.deleteIfExists(dir.resolve("case.yaml"));
            final Path file = write("case.yaml", slice.replace(cases[i][0], cases[i][1]));
            final String error = onlyError(readDir());
            assertTrue(error.startsWith(file + ": EndpointSlice shop/web-1: " + cases[i][2]), "case " + i + ": " + error);
        }
    }

    @Test
    void shouldRejectObjectWithoutNameNamingDocument() throws Exception {
        final Path file = write("a.yaml", WEB_SERVICE + "---\n" + WEB_SERVICE.replace("  name: web\n", "  labels: {}\n"));
        assertEquals(file + ": Service (document 2): metadata.name: is required", onlyError(readDir()));
    }

    @Test
    void shouldRejectUnparseableFileNamingLineWhileOtherFilesApply() throws Exception {
        write("a.yaml", WEB_SERVICE);
        final Path broken = write("b.yaml", "apiVersion: v1\nkind: Service\nmetadata: {name: x\nspec: [\n");
        final Path brokenJson = write("c.json", "{\"kind\": \"Service\",,}");
        final ManifestSet set = readDir();
        assertEquals(2, set.errors().size(), set.errors().toString());
        assertTrue(set.errors().get(0).toString().startsWith(broken + ": line "), set.errors().get(0).toString());
        assertTrue(set.errors().get(0).toString().contains("not valid YAML"));
        assertTrue(set.errors().get(1).toString().startsWith(brokenJson + ": line 1"), set.errors().get(1).toString());
        assertEquals(List.of("web"), set.services().stream().map(s -> s.ref().name()).toList());
    }

    @Test
    void shouldReadDirectoryFilesSortedByNameAndSkipOtherExtensions() throws Exception {
        write("20-b.yml", WEB_SERVICE.replace("name: web", "name: b").replace("172.30.0.41", "172.30.0.2"));
        write("10-a.json", "{\"apiVersion\": \"v1\", \"kind\": \"Service\", \"metadata\": {\"name\": \"a\"},"
            + " \"spec\": {\"clusterIP\": \"172.30.0.1\", \"ports\": [{\"port\": 80}]}}");
        write("README.md", "not a manifest");
        final ManifestSet set = readDir();
        assertEquals(List.of(), set.errors());
        assertEquals(List.of("a", "b"), set.services().stream().map(s -> s.ref().name()).toList());
    }

    @Test
    void shouldKeepFirstDefinitionOfDuplicateObject() throws Exception {
        final Path first = write("a.yaml", WEB_SERVICE);
        final Path second = write("b.yaml", WEB_SERVICE.replace("172.30.0.41", "172.30.0.99"));
        final ManifestSet set = readDir();
        assertEquals(second + ": Service default/web: is defined again (first in " + first + "); this definition is ignored",
            onlyError(set));
        assertEquals(List.of(Ipv4.parse("172.30.0.41")), set.services().get(0).clusterIps());
    }

    @Test
    void shouldReportMissingPath() {
        final ManifestSet set = ManifestReader.read(List.of(dir.resolve("nowhere")));
        assertTrue(onlyError(set).endsWith("nowhere: no such file or directory"));
    }

    @Test
    void shouldReadExplicitFileAsWellAsDirectory() throws Exception {
        final Path file = write("web.yaml", WEB_SERVICE);
        assertEquals(1, ManifestReader.read(List.of(file)).services().size());
    }
}
