package dev.ferry.control.source;

import dev.ferry.control.allocate.AllocationStore;
import dev.ferry.control.manifest.ManifestError;
import dev.ferry.control.manifest.ManifestReader;
import dev.ferry.dataplane.service.ServicePortSpec;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;

import static dev.ferry.control.source.Manifests.NODE;
import static dev.ferry.control.source.Manifests.hasPort;
import static dev.ferry.control.source.Manifests.port;
import static dev.ferry.control.source.Manifests.readyAddresses;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * A pipeline kept across reloads reuses what it merged, allocated and compiled for what did
 * not change; these tests hold it to giving exactly what a fresh pipeline computes from the same
 * files and the same remembered allocations, after each step of a table of change sequences
 * (each one written to go through the paths that reuse, and those that must not).
 */
class IncrementalReloadTest {
    @TempDir
    Path dir;

    /** Services of every shape the pipeline treats differently, in one file as a large cluster's dump would be. */
    private static final String BASE = String.join("---\n",
        service("explicit", "clusterIP: 10.96.0.10\n  ports: [{name: http, port: 80}]"),
        slice("explicit", "a", "10.244.1.1", true) + "  - {addresses: [10.244.1.2], conditions: {ready: true}}\n",
        service("allocated", "ports: [{name: http, port: 80}]"),
        slice("allocated", "a", "10.244.1.3", true),
        service("nodeport", "type: NodePort\n  ports: [{name: dns, port: 53, protocol: UDP}, {name: dns-tcp, port: 53, protocol: TCP}]"),
        slice("nodeport", "a", "10.244.1.4", true).replace("{name: http, port: 8080}", "{name: dns, port: 53, protocol: UDP}"),
        service("lb", "type: LoadBalancer\n  externalTrafficPolicy: Local\n  ports: [{name: http, port: 80}]"),
        service("selected", "selector: {app: web}\n  ports: [{name: http, port: 80, targetPort: 8080}]"),
        """
            apiVersion: v1
            kind: Pod
            metadata: {name: web-0, labels: {app: web}}
            spec: {nodeName: node-a}
            status:
              podIP: 10.244.1.9
              conditions: [{type: Ready, status: "True"}]
            """,
        service("mirrored", "ports: [{name: http, port: 80}]"),
        """
            apiVersion: v1
            kind: Endpoints
            metadata: {name: mirrored}
            subsets: [{addresses: [{ip: 10.244.1.10}], ports: [{name: http, port: 8080}]}]
            """,
        service("headless", "clusterIP: None\n  ports: [{port: 80}]"),
        service("external", "type: ExternalName\n  externalName: example.com"));

    private static String service(final String name, final String spec) {
        return "apiVersion: v1\nkind: Service\nmetadata: {name: " + name + "}\nspec:\n  " + spec + "\n";
    }

    private static String slice(final String service, final String suffix, final String address, final boolean ready) {
        return "apiVersion: discovery.k8s.io/v1\nkind: EndpointSlice\nmetadata:\n  name: " + service + "-" + suffix
            + "\n  labels: {kubernetes.io/service-name: " + service + "}\naddressType: IPv4\nports: [{name: http, port: 8080}]\n"
            + "endpoints:\n  - {addresses: [" + address + "], conditions: {ready: " + ready + "}}\n";
    }

    /** One step: files written (null deletes one), in order. */
    private record Step(Map<String, String> files) {
        static Step write(final String... nameThenText) {
            final Map<String, String> files = new LinkedHashMap<>();
            for (int i = 0; i < nameThenText.length; i += 2) {
                files.put(nameThenText[i], nameThenText[i + 1]);
            }
            return new Step(files);
        }
    }

    private static Step delete(final String name) {
        final Map<String, String> files = new LinkedHashMap<>();
        files.put(name, null);
        return new Step(files);
    }

    static Stream<Object[]> sequences() {
        final String newService = service("new", "clusterIP: 10.96.5.5\n  ports: [{name: http, port: 80}]") + "---\n"
            + slice("new", "a", "10.244.2.1", true);
        return Stream.of(
            new Object[] {"a new service file, then another, then the first removed", List.of(
                Step.write("change-0.yaml", newService),
                Step.write("change-1.yaml", newService.replace("name: new", "name: new1").replace("10.96.5.5", "10.96.5.6")
                    .replace("service-name: new", "service-name: new1")),
                delete("change-0.yaml"))},
            new Object[] {"an endpoint going unready and ready in a file of its own", List.of(
                Step.write("flap.yaml", service("flap", "ports: [{name: http, port: 80}]") + "---\n" + slice("flap", "a", "10.244.3.1", true)),
                Step.write("flap.yaml", service("flap", "ports: [{name: http, port: 80}]") + "---\n" + slice("flap", "a", "10.244.3.1", false)),
                Step.write("flap.yaml", service("flap", "ports: [{name: http, port: 80}]") + "---\n" + slice("flap", "a", "10.244.3.1", true)))},
            new Object[] {"a slice alone in its own file for a service of the big file, changed, then removed", List.of(
                Step.write("slice.yaml", slice("allocated", "b", "10.244.4.1", true)),
                Step.write("slice.yaml", slice("allocated", "b", "10.244.4.2", false)),
                delete("slice.yaml"))},
            new Object[] {"a service edited in place: port, type, then back", List.of(
                Step.write("edit.yaml", service("edit", "ports: [{name: http, port: 80}]")),
                Step.write("edit.yaml", service("edit", "ports: [{name: http, port: 81}]")),
                Step.write("edit.yaml", service("edit", "type: NodePort\n  ports: [{name: http, port: 81}]")),
                Step.write("edit.yaml", service("edit", "ports: [{name: http, port: 80}]")))},
            new Object[] {"a new service taking an unchanged service's allocated ClusterIP explicitly", List.of(
                Step.write("thief.yaml", service("thief", "clusterIP: ALLOCATED\n  ports: [{name: http, port: 80}]")),
                delete("thief.yaml"))},
            new Object[] {"a file read first claiming an explicit ClusterIP of the big file", List.of(
                Step.write("0-first.yaml", service("first", "clusterIP: 10.96.0.10\n  ports: [{name: http, port: 80}]")),
                delete("0-first.yaml"))},
            new Object[] {"a new NodePort service on an allocated node port, then a clash of frontends", List.of(
                Step.write("np.yaml", service("np", "type: NodePort\n  ports: [{name: http, port: 80, nodePort: ALLOCATED_NODE_PORT}]")),
                Step.write("np.yaml", service("np", "externalIPs: [10.96.0.10]\n  ports: [{name: http, port: 80}]")),
                Step.write("np.yaml", service("np", "ports: [{name: http, port: 80}]")))},
            new Object[] {"a file read first claiming a frontend of the big file: the earlier claim wins", List.of(
                Step.write("0-ext.yaml", service("ext", "externalIPs: [10.96.0.10]\n  ports: [{name: http, port: 80}]")),
                delete("0-ext.yaml"))},
            new Object[] {"a service moving to another file, and defined twice on the way", List.of(
                Step.write("moved.yaml", service("moving", "ports: [{name: http, port: 80}]")),
                Step.write("zz-moved.yaml", service("moving", "ports: [{name: http, port: 8080}]")),
                delete("moved.yaml"))},
            new Object[] {"a headless service's endpoints in a file of their own, going unready, then an ExternalName retargeted", List.of(
                Step.write("hl.yaml", slice("headless", "b", "10.244.5.1", true)),
                Step.write("hl.yaml", slice("headless", "b", "10.244.5.1", false)),
                Step.write("ext.yaml", service("external2", "type: ExternalName\n  externalName: example.org")),
                Step.write("ext.yaml", service("external2", "type: ExternalName\n  externalName: example.net")),
                delete("hl.yaml"))},
            new Object[] {"a pod of a selected service changing readiness in its own file", List.of(
                Step.write("pod.yaml", """
                    apiVersion: v1
                    kind: Pod
                    metadata: {name: web-1, labels: {app: web}}
                    spec: {nodeName: node-b}
                    status:
                      podIP: 10.244.2.9
                      conditions: [{type: Ready, status: "True"}]
                    """),
                Step.write("pod.yaml", """
                    apiVersion: v1
                    kind: Pod
                    metadata: {name: web-1, labels: {app: web}}
                    spec: {nodeName: node-b}
                    status:
                      podIP: 10.244.2.9
                      conditions: [{type: Ready, status: "False"}]
                    """))});
    }

    private Path manifests() throws IOException {
        return Files.createDirectories(dir.resolve("manifests"));
    }

    private void apply(final Step step, final SourceSnapshot last) throws IOException {
        for (final Map.Entry<String, String> file : step.files().entrySet()) {
            final Path path = manifests().resolve(file.getKey());
            if (file.getValue() == null) {
                Files.delete(path);
            } else {
                Files.writeString(path, resolve(file.getValue(), last));
            }
        }
    }

    /** Fills in values the base state was given: ALLOCATED is "allocated"'s ClusterIP, ALLOCATED_NODE_PORT "nodeport"'s. */
    private static String resolve(final String text, final SourceSnapshot last) {
        return text.replace("ALLOCATED_NODE_PORT", Integer.toString(port(last, "default/nodeport:dns").nodePort()))
            .replace("ALLOCATED", dev.ferry.dataplane.addr.Ipv4.format(port(last, "default/allocated:http").clusterIps().get(0)));
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("sequences")
    void shouldGiveWhatAFreshPipelineGivesAfterEveryChange(final String name, final List<Step> steps) throws Exception {
        Files.writeString(manifests().resolve("big.yaml"), BASE);
        final Path state = dir.resolve("allocations.json");
        final ManifestPipeline kept = new ManifestPipeline(List.of(manifests()), NODE, new AllocationStore(state));
        SourceSnapshot last = kept.reloadAndStore(0);
        assertEquals(List.of(), last.errors(), "the base state is clean");
        int step = 0;
        for (final Step change : steps) {
            step++;
            apply(change, last);
            // A fresh pipeline over the same files, starting from the allocations the kept one has now.
            final SourceSnapshot fresh = new ManifestPipeline(List.of(manifests()), NODE, new AllocationStore(state), false).reloadAndStore(step);
            last = kept.reloadAndStore(step);
            assertEquals(specs(fresh), specs(last), name + ", step " + step + ": service ports");
            assertEquals(messages(fresh.errors()), messages(last.errors()), name + ", step " + step + ": errors");
            assertEquals(fresh.names(), last.names(), name + ", step " + step + ": DNS names");
            // and reading the files as a whole (ManifestReader's own merge) finds no problem it did not report
            final List<String> read = messages(ManifestReader.read(List.of(manifests())).errors());
            assertTrue(messages(last.errors()).containsAll(read), name + ", step " + step + ": " + read + " in " + last.errors());
        }
    }

    private static List<String> specs(final SourceSnapshot snapshot) {
        return snapshot.servicePorts().stream().map(ServicePortSpec::toString).toList();
    }

    private static List<String> messages(final List<ManifestError> errors) {
        // the fresh pipeline never saw an earlier version: a note about one is the kept pipeline's alone
        return errors.stream().map(ManifestError::toString).filter(e -> !e.contains("last good")).toList();
    }

    @Test
    void shouldServeTheNewEndpointsOfAChangedSliceOfAnUnchangedService() throws Exception {
        Files.writeString(manifests().resolve("big.yaml"), BASE);
        Files.writeString(manifests().resolve("slice.yaml"), slice("allocated", "b", "10.244.4.1", true));
        final ManifestPipeline pipeline = new ManifestPipeline(List.of(manifests()), NODE, null);
        final SourceSnapshot first = pipeline.reloadAndStore(1);
        assertEquals(List.of("10.244.1.3", "10.244.4.1"), readyAddresses(first, "default/allocated:http"));

        Files.writeString(manifests().resolve("slice.yaml"), slice("allocated", "b", "10.244.4.1", false));
        final SourceSnapshot second = pipeline.reloadAndStore(2);
        assertEquals(List.of("10.244.1.3"), readyAddresses(second, "default/allocated:http"));
        assertEquals(0, second.serviceChanges());
        assertEquals(1, second.endpointChanges());
        assertEquals(port(first, "default/allocated:http").clusterIps(), port(second, "default/allocated:http").clusterIps());
    }

    @Test
    void shouldRecompileAServiceEditedInPlaceAndDropADeletedOne() throws Exception {
        Files.writeString(manifests().resolve("big.yaml"), BASE);
        Files.writeString(manifests().resolve("edit.yaml"), service("edit", "ports: [{name: http, port: 80}]"));
        final ManifestPipeline pipeline = new ManifestPipeline(List.of(manifests()), NODE, null);
        final SourceSnapshot first = pipeline.reloadAndStore(1);
        assertTrue(hasPort(first, "default/edit:http"));

        Files.writeString(manifests().resolve("edit.yaml"), service("edit", "type: NodePort\n  ports: [{name: http, port: 81}]"));
        final SourceSnapshot edited = pipeline.reloadAndStore(2);
        assertEquals(81, port(edited, "default/edit:http").port());
        assertTrue(port(edited, "default/edit:http").nodePort() != 0);
        assertEquals(port(first, "default/edit:http").clusterIps(), port(edited, "default/edit:http").clusterIps(), "keeps its ClusterIP");
        assertEquals(1, edited.serviceChanges());

        Files.delete(manifests().resolve("edit.yaml"));
        final SourceSnapshot deleted = pipeline.reloadAndStore(3);
        assertFalse(hasPort(deleted, "default/edit:http"));
        assertEquals(first.servicePorts().size() - 1, deleted.servicePorts().size());
    }
}
