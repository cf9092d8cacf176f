package dev.ferry.control.manifest;

import dev.ferry.control.model.ContainerPort;
import dev.ferry.control.model.Endpoints;
import dev.ferry.control.model.Pod;
import dev.ferry.control.model.Service;
import dev.ferry.control.model.SliceEndpoint;
import dev.ferry.control.model.SlicePort;
import dev.ferry.dataplane.addr.Ipv4;
import dev.ferry.dataplane.service.Protocol;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Pods, Endpoints, selectors and the API server's name rules. */
class ManifestKindsTest {
    static final String POD = """
        apiVersion: v1
        kind: Pod
        metadata:
          name: web-0
          namespace: shop
          labels: {app: web, tier: front}
        spec:
          nodeName: node-a
          containers:
          - name: app
            image: nginx
            ports:
            - {name: http, containerPort: 8080}
            - {name: dns, containerPort: 5353, protocol: UDP}
          initContainers:
          - name: proxy
            restartPolicy: Always
            ports: [{name: admin, containerPort: 9901}]
          - name: setup
            ports: [{name: ignored, containerPort: 1}]
        status:
          phase: Running
          podIP: 10.244.1.5
          podIPs: [{ip: "fd00::5"}, {ip: 10.244.1.5}]
          conditions:
          - {type: PodScheduled, status: "True"}
          - {type: Ready, status: "True"}
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

    private static String onlyError(final ManifestSet set) {
        assertEquals(1, set.errors().size(), "errors: " + set.errors());
        return set.errors().get(0).toString();
    }

    @Test
    void shouldReadPodFieldsTheEndpointsControllerUses() throws Exception {
        write("pod.yaml", POD);
        final ManifestSet set = readDir();
        assertEquals(List.of(), set.errors());
        final Pod pod = set.pods().get(0);
        assertEquals("shop/web-0", pod.ref().key());
        assertEquals(Map.of("app", "web", "tier", "front"), pod.labels());
        assertEquals("node-a", pod.nodeName());
        assertEquals(Ipv4.parse("10.244.1.5"), pod.ip(), "the first IPv4 of podIPs");
        assertEquals(List.of(new ContainerPort("http", 8080, Protocol.TCP), new ContainerPort("dns", 5353, Protocol.UDP),
            new ContainerPort("admin", 9901, Protocol.TCP)), pod.ports(), "containers and sidecars, not plain init containers");
        assertTrue(pod.ready());
        assertFalse(pod.terminating());
        assertFalse(pod.terminal());
        assertTrue(pod.matches(Map.of("app", "web")));
        assertFalse(pod.matches(Map.of("app", "web", "tier", "back")));
    }

    @Test
    void shouldReadPodReadinessTerminationAndMissingAddress() throws Exception {
        write("pods.yaml", """
            apiVersion: v1
            kind: Pod
            metadata: {name: starting}
            spec: {containers: [{name: app}]}
            status: {phase: Pending}
            ---
            apiVersion: v1
            kind: Pod
            metadata: {name: leaving, deletionTimestamp: "2026-01-01T00:00:00Z"}
            spec: {containers: [{name: app}]}
            status:
              podIP: 10.244.1.7
              conditions: [{type: Ready, status: "False"}]
            ---
            apiVersion: v1
            kind: Pod
            metadata: {name: done}
            spec: {containers: [{name: app}]}
            status: {phase: Succeeded, podIP: 10.244.1.8}
            """);
        final ManifestSet set = readDir();
        assertEquals(List.of(), set.errors());
        final Pod starting = set.pods().get(0);
        assertFalse(starting.hasIp());
        assertFalse(starting.ready(), "no Ready condition means not ready");
        assertNull(starting.nodeName());
        final Pod leaving = set.pods().get(1);
        assertTrue(leaving.terminating());
        assertFalse(leaving.ready());
        assertTrue(set.pods().get(2).terminal());
    }

    @Test
    void shouldRejectBadPodFieldsNamingFileObjectAndField() throws Exception {
        final String[][] cases = {
            {"podIP: 10.244.1.5\n", "podIP: 10.244.1.500\n", "status.podIP: '10.244.1.500' is not an IP address"},
            {"containerPort: 8080}", "containerPort: 80800}", "spec.containers[0].ports[0].containerPort: 80800 is not a port"},
            {"{name: http,", "{name: http_port,", "spec.containers[0].ports[0].name: 'http_port' is not a valid container port name"},
            {"protocol: UDP}", "protocol: ICMP}", "spec.containers[0].ports[1].protocol: 'ICMP' is not a protocol"},
            {"tier: front}", "tier: \"front end\"}", "metadata.labels[tier]: 'front end' is not a valid label value"},
            {"{type: Ready, status: \"True\"}", "{type: Ready, status: Maybe}", "status.conditions[1].status: 'Maybe' is not a condition status"},
            {"phase: Running", "phase: Dancing", "status.phase: 'Dancing' is not a pod phase"},
            {"name: web-0", "name: Web_0", "metadata.name: 'Web_0' is not a valid Pod name: it must be an RFC 1123 subdomain"},
        };
        for (int i = 0; i < cases.length; i++) {
            assertTrue(POD.contains(cases[i][0]), "case " + i);
            final Path file = write("pod.yaml", POD.replace(cases[i][0], cases[i][1]));
            final ManifestSet set = readDir();
            final String error = onlyError(set);
            final String object = cases[i][0].equals("name: web-0") ? "Pod shop/Web_0" : "Pod shop/web-0";
            assertTrue(error.startsWith(file + ": " + object + ": " + cases[i][2]), "case " + i + ": " + error);
            assertEquals(List.of(), set.pods());
        }
    }

    @Test
    void shouldReadEndpointsAsReadyAndNotReadyAddresses() throws Exception {
        write("ep.yaml", """
            apiVersion: v1
            kind: Endpoints
            metadata: {name: db, namespace: data}
            subsets:
            - addresses: [{ip: 192.0.2.10, nodeName: node-a}, {ip: "2001:db8::1"}]
              notReadyAddresses: [{ip: 192.0.2.11}]
              ports: [{name: pg, port: 5432}, {name: metrics, port: 9187, protocol: TCP}]
            - addresses: [{ip: 192.0.2.12}]
              ports: [{port: 5433}]
            """);
        final ManifestSet set = readDir();
        assertEquals(List.of(), set.errors());
        final Endpoints endpoints = set.endpoints().get(0);
        assertEquals("data/db", endpoints.ref().key());
        assertEquals(2, endpoints.subsets().size());
        assertEquals(List.of(new SliceEndpoint(Ipv4.parse("192.0.2.10"), true, true, false, "node-a"),
            new SliceEndpoint(Ipv4.parse("192.0.2.11"), false, false, false, null)), endpoints.subsets().get(0).endpoints());
        assertEquals(List.of(new SlicePort("pg", Protocol.TCP, 5432), new SlicePort("metrics", Protocol.TCP, 9187)),
            endpoints.subsets().get(0).ports());
        assertEquals(List.of(new SlicePort("", Protocol.TCP, 5433)), endpoints.subsets().get(1).ports());
    }

    @Test
    void shouldRejectBadEndpointsFields() throws Exception {
        final String endpoints = """
            apiVersion: v1
            kind: Endpoints
            metadata: {name: db}
            subsets:
            - addresses: [{ip: 192.0.2.10}]
              ports: [{name: pg, port: 5432}, {name: metrics, port: 9187}]
            """;
        final String[][] cases = {
            {"{ip: 192.0.2.10}", "{ip: db.example.com}", "subsets[0].addresses[0].ip: 'db.example.com' is not an IP address"},
            {"port: 5432}", "port: 0}", "subsets[0].ports[0].port: 0 is not a port"},
            {"{name: pg, ", "{", "subsets[0].ports[0].name: is required when a subset has more than one port"},
            {"name: metrics", "name: pg", "subsets[0].ports[1].name: 'pg' appears twice"},
        };
        for (int i = 0; i < cases.length; i++) {
            final Path file = write("ep.yaml", endpoints.replace(cases[i][0], cases[i][1]));
            final String error = onlyError(readDir());
            assertTrue(error.startsWith(file + ": Endpoints default/db: " + cases[i][2]), "case " + i + ": " + error);
        }
    }

    @Test
    void shouldReadSelectorAndManifestModeServiceFields() throws Exception {
        write("svc.yaml", """
            apiVersion: v1
            kind: Service
            metadata: {name: web}
            spec:
              type: LoadBalancer
              selector: {app: web, app.kubernetes.io/part-of: shop}
              publishNotReadyAddresses: true
              allocateLoadBalancerNodePorts: false
              ports: [{port: 80}]
            ---
            apiVersion: v1
            kind: Service
            metadata: {name: v6}
            spec:
              ipFamilies: [IPv6]
              ports: [{port: 80}]
            ---
            apiVersion: v1
            kind: Service
            metadata: {name: given}
            spec:
              clusterIP: ""
              clusterIPs: ["", "fd00::1"]
              ports: [{port: 80}]
            """);
        final ManifestSet set = readDir();
        assertEquals(List.of(), set.errors());
        final Service web = set.services().get(0);
        assertEquals(Map.of("app", "web", "app.kubernetes.io/part-of", "shop"), web.selector());
        assertTrue(web.hasSelector());
        assertTrue(web.publishNotReadyAddresses());
        assertFalse(web.allocatesNodePorts());
        assertTrue(web.clusterIpUnset(), "no address given: manifest mode allocates one");
        assertFalse(set.services().get(1).clusterIpUnset(), "an IPv6-only service gets no IPv4 ClusterIP");
        assertFalse(set.services().get(2).clusterIpUnset(), "the IPv6 family was given: not allocated");
    }

    @Test
    void shouldRejectServiceNamesThatAreNotRfc1035Labels() throws Exception {
        final String service = "apiVersion: v1\nkind: Service\nmetadata: {name: NAME}\nspec: {ports: [{port: 80}]}\n";
        for (final String name : List.of("1web", "Web", "web_1", "web-", "a".repeat(64), "web.example")) {
            final Path file = write("svc.yaml", service.replace("NAME", "\"" + name + "\""));
            final String error = onlyError(readDir());
            assertTrue(error.startsWith(file + ": Service default/" + name + ": metadata.name: '" + name
                + "' is not a valid Service name: it must be an RFC 1035 label"), name + ": " + error);
        }
        for (final String name : List.of("w", "web-1", "a".repeat(63))) {
            write("svc.yaml", service.replace("NAME", name));
            assertEquals(List.of(), readDir().errors(), name);
        }
    }

    @Test
    void shouldRejectNamespacesThatAreNotRfc1123Labels() throws Exception {
        final Path file = write("svc.yaml", "apiVersion: v1\nkind: Service\nmetadata: {name: web, namespace: Shop.Prod}\n"
            + "spec: {ports: [{port: 80}]}\n");
        assertTrue(onlyError(readDir()).startsWith(file + ": Service Shop.Prod/web: metadata.namespace: 'Shop.Prod' is not a "
            + "valid namespace: it must be an RFC 1123 label"));
        write("svc.yaml", "apiVersion: v1\nkind: Service\nmetadata: {name: web, namespace: 1shop}\nspec: {ports: [{port: 80}]}\n");
        assertEquals(List.of(), readDir().errors(), "namespaces may start with a digit");
    }

    @Test
    void shouldRejectBadSelectorsAndPortNames() throws Exception {
        final String service = "apiVersion: v1\nkind: Service\nmetadata: {name: web}\nspec:\n  ports: [{name: http, port: 80}]\n";
        final String[][] cases = {
            {"  selector: {app: 2}\n", "spec.selector[app]: 2 is not a string"},
            {"  selector: [app]\n", "spec.selector: a list is not a mapping"},
            {"  selector: {\"bad key!\": web}\n", "spec.selector[bad key!]: 'bad key!' is not a valid label key"},
            {"  selector: {app: -web}\n", "spec.selector[app]: '-web' is not a valid label value"},
            {"  publishNotReadyAddresses: sometimes\n", "spec.publishNotReadyAddresses: 'sometimes' is not a boolean"},
            {"  allocateLoadBalancerNodePorts: false\n", "spec.allocateLoadBalancerNodePorts: may only be set when spec.type is LoadBalancer"},
        };
        for (int i = 0; i < cases.length; i++) {
            final Path file = write("svc.yaml", service + cases[i][0]);
            final String error = onlyError(readDir());
            assertTrue(error.startsWith(file + ": Service default/web: " + cases[i][1]), "case " + i + ": " + error);
        }
        final Path file = write("svc.yaml", service.replace("name: http", "name: HTTP"));
        assertTrue(onlyError(readDir()).startsWith(file + ": Service default/web: spec.ports[0].name: 'HTTP' is not a valid port name"));
    }

    @Test
    void shouldRejectHealthCheckNodePortUnlessLoadBalancerWithLocalPolicy() throws Exception {
        final Path file = write("svc.yaml", """
            apiVersion: v1
            kind: Service
            metadata: {name: web}
            spec: {type: NodePort, healthCheckNodePort: 32000, ports: [{port: 80}]}
            """);
        assertTrue(onlyError(readDir()).startsWith(file + ": Service default/web: spec.healthCheckNodePort: may only be set when "
            + "spec.type is LoadBalancer and spec.externalTrafficPolicy is Local"));
    }

    @Test
    void shouldReadTypedListsOfPodsAndEndpoints() throws Exception {
        write("lists.yaml", """
            apiVersion: v1
            kind: PodList
            items:
            - metadata: {name: a}
              spec: {containers: [{name: app}]}
              status: {podIP: 10.244.1.1}
            ---
            apiVersion: v1
            kind: EndpointsList
            items:
            - metadata: {name: db}
              subsets: [{addresses: [{ip: 192.0.2.1}], ports: [{port: 5432}]}]
            """);
        final ManifestSet set = readDir();
        assertEquals(List.of(), set.errors());
        assertEquals(1, set.pods().size());
        assertEquals(1, set.endpoints().size());
    }

    @Test
    void shouldKeepRejectedObjectIdentityPerFile() throws Exception {
        final Path file = write("pod.yaml", POD.replace("podIP: 10.244.1.5", "podIP: nope") + "---\n"
            + POD.replace("name: web-0", "name: web-1"));
        final ManifestFile read = ManifestReader.readFile(file);
        assertNull(read.unreadable());
        assertEquals(2, read.entries().size());
        final ManifestFile.Rejected rejected = assertInstanceOf(ManifestFile.Rejected.class, read.entries().get(0));
        assertEquals("Pod shop/web-0", rejected.ref().describe());
        assertInstanceOf(ManifestFile.Accepted.class, read.entries().get(1));
    }
}
