package dev.ferry.control.source;

import dev.ferry.control.allocate.AllocationStore;
import dev.ferry.control.manifest.ManifestError;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

import static dev.ferry.control.source.Manifests.DB_SERVICE;
import static dev.ferry.control.source.Manifests.NODE;
import static dev.ferry.control.source.Manifests.WEB_SERVICE;
import static dev.ferry.control.source.Manifests.docs;
import static dev.ferry.control.source.Manifests.hasPort;
import static dev.ferry.control.source.Manifests.pod;
import static dev.ferry.control.source.Manifests.port;
import static dev.ferry.control.source.Manifests.readyAddresses;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertTrue;

class ManifestPipelineTest {
    @TempDir
    Path dir;

    private Path manifests() throws IOException {
        return Files.createDirectories(dir.resolve("manifests"));
    }

    private void write(final String name, final String text) throws IOException {
        Files.writeString(manifests().resolve(name), text);
    }

    private ManifestPipeline pipeline() throws IOException {
        return new ManifestPipeline(List.of(manifests()), NODE, null);
    }

    private static List<String> errors(final SourceSnapshot snapshot) {
        return snapshot.errors().stream().map(ManifestError::toString).toList();
    }

    @Test
    void shouldServeFromTheDocumentCacheWhatItServesFromParsing() throws Exception {
        final StringBuilder big = new StringBuilder();
        for (int i = 0; i < 1_500; i++) { // past the cache's minimum size
            big.append("---\napiVersion: v1\nkind: Service\nmetadata: {name: svc-").append(i).append(", namespace: default}\n")
                .append("spec: {clusterIP: 10.97.").append(i >> 8).append('.').append(i & 0xff)
                .append(", ports: [{name: http, protocol: TCP, port: 80, targetPort: 8080}]}\n")
                .append("---\napiVersion: discovery.k8s.io/v1\nkind: EndpointSlice\nmetadata: {name: svc-").append(i)
                .append("-a, namespace: default, labels: {kubernetes.io/service-name: svc-").append(i).append("}}\naddressType: IPv4\n")
                .append("ports: [{name: http, protocol: TCP, port: 8080}]\nendpoints: [{addresses: [10.248.").append(i >> 8).append('.')
                .append(i & 0xff).append("], conditions: {ready: true}}]\n");
        }
        write("big.yaml", big.toString());
        final Path cacheDir = dir.resolve("cache");
        final SourceSnapshot parsed = pipeline().reloadAndStore(1);
        pipeline().documentCache(new dev.ferry.control.tree.DocumentCache(cacheDir, 0)).reloadAndStore(1); // parses, and keeps
        final long deadline = System.nanoTime() + 20_000_000_000L;
        while (!hasJsonFile(cacheDir)) {
            assertTrue(System.nanoTime() < deadline, "the cache file was written within 20 s");
            Thread.sleep(20);
        }
        final SourceSnapshot fromCache = pipeline().documentCache(new dev.ferry.control.tree.DocumentCache(cacheDir, 0)).reloadAndStore(1);
        assertEquals(1_500, fromCache.servicePorts().size());
        assertEquals(parsed.servicePorts(), fromCache.servicePorts());
        assertEquals(parsed.errors(), fromCache.errors());
    }

    private static boolean hasJsonFile(final Path dir) throws IOException {
        if (!Files.isDirectory(dir)) {
            return false;
        }
        try (var files = Files.list(dir)) {
            return files.anyMatch(f -> f.toString().endsWith(".json"));
        }
    }

    @Test
    void shouldServeAllocatedServiceWithEndpointsFromPods() throws Exception {
        write("web.yaml", docs(WEB_SERVICE, pod("web-0", "10.244.1.5", true), pod("web-1", "10.244.2.6", false)));
        final SourceSnapshot snapshot = pipeline().reloadAndStore(1000);
        assertEquals(List.of(), snapshot.errors());
        assertEquals(1, snapshot.generation());
        assertEquals(1000, snapshot.changedAtMs());
        final var web = port(snapshot, "default/web:http");
        assertEquals(1, web.clusterIps().size());
        assertTrue(web.nodePort() >= 30000 && web.nodePort() <= 32767);
        assertEquals(List.of("10.244.1.5"), readyAddresses(snapshot, "default/web:http"));
        assertEquals(2, web.endpoints().size());
        assertTrue(web.endpoints().get(0).local());
    }

    @Test
    void shouldKeepServingTheLastGoodStateWhenTheManifestDirectoryGoesAway() throws Exception {
        write("web.yaml", docs(WEB_SERVICE, pod("web-0", "10.244.1.5", true)));
        write("db.yaml", DB_SERVICE);
        final ManifestPipeline pipeline = pipeline();
        final SourceSnapshot before = pipeline.reloadAndStore(1);
        final Path directory = manifests();
        Files.delete(directory.resolve("web.yaml"));
        Files.delete(directory.resolve("db.yaml"));
        Files.delete(directory);

        final SourceSnapshot gone = pipeline.reloadAndStore(2);
        assertEquals(before.servicePorts(), gone.servicePorts(), "everything keeps serving");
        assertTrue(errors(gone).stream().anyMatch(e -> e.contains("no such file or directory; the last good state of its 2 file(s) keeps serving")),
            errors(gone).toString());

        // back, with one service less: that is a change like any other
        write("web.yaml", docs(WEB_SERVICE, pod("web-0", "10.244.1.5", true)));
        final SourceSnapshot back = pipeline.reloadAndStore(3);
        assertTrue(hasPort(back, "default/web:http"));
        assertFalse(hasPort(back, "default/db:5432"));
        assertEquals(List.of(), back.errors());
    }

    @Test
    void shouldKeepServingAndSayItOnceWhenTheAllocationsCannotBeStored() throws Exception {
        write("web.yaml", WEB_SERVICE);
        // the state directory's place is taken by a file: every store fails, as on a read-only or full disk
        final Path blocker = Files.writeString(dir.resolve("state"), "not a directory");
        final ManifestPipeline pipeline = new ManifestPipeline(List.of(manifests()), NODE, new AllocationStore(blocker.resolve("allocations")));
        final SourceSnapshot first = pipeline.reloadAndStore(1);
        assertTrue(hasPort(first, "default/web:http"), "served although its allocation could not be stored");
        assertEquals(1, first.newErrors().stream().filter(e -> e.toString().contains("cannot store the allocations")).count(),
            errors(first).toString());

        write("db.yaml", DB_SERVICE);
        final SourceSnapshot second = pipeline.reloadAndStore(2);
        assertTrue(hasPort(second, "default/db:5432") && hasPort(second, "default/web:http"));
        assertEquals(port(first, "default/web:http").clusterIps(), port(second, "default/web:http").clusterIps(),
            "allocations hold in memory");
        assertTrue(second.newErrors().stream().noneMatch(e -> e.toString().contains("cannot store the allocations")),
            "logged once, not at every reload: " + second.newErrors());
        assertEquals(1, first.stateWriteErrors(), "counted");
        assertEquals(2, second.stateWriteErrors(), "counted at every failed write (ferry_state_write_errors_total)");
    }

    @Test
    void shouldKeepAllocationsAcrossReloadsAndNewPipelines() throws Exception {
        write("web.yaml", WEB_SERVICE);
        write("db.yaml", DB_SERVICE);
        final ManifestPipeline pipeline = pipeline();
        final SourceSnapshot first = pipeline.reloadAndStore(1);
        write("a-first.yaml", WEB_SERVICE.replace("name: web", "name: api")); // a new service, read before the others
        final SourceSnapshot second = pipeline.reloadAndStore(2);
        final SourceSnapshot fresh = pipeline().reloadAndStore(3);
        for (final String name : List.of("default/web:http", "default/db:5432")) {
            assertEquals(port(first, name).clusterIps(), port(second, name).clusterIps(), name);
            assertEquals(port(first, name).clusterIps(), port(fresh, name).clusterIps(), name);
        }
        assertEquals(port(first, "default/web:http").nodePort(), port(second, "default/web:http").nodePort());
        assertEquals(port(first, "default/web:http").nodePort(), port(fresh, "default/web:http").nodePort());
        assertNotEquals(port(second, "default/api:http").clusterIps(), port(second, "default/web:http").clusterIps());
    }

    @Test
    void shouldWriteTheAllocationsOnlyOnceTheSnapshotIsHandedOn() throws Exception {
        write("web.yaml", WEB_SERVICE);
        final AllocationStore store = new AllocationStore(dir.resolve("state").resolve("allocations.json"));
        final ManifestPipeline pipeline = new ManifestPipeline(List.of(manifests()), NODE, store);
        final SourceSnapshot served = pipeline.reload(1);
        assertTrue(hasPort(served, "default/web:http"));
        assertFalse(Files.exists(store.file()), "the write waits until the snapshot is on its way to the dataplane");
        assertSame(served, pipeline.storePending(), "a write that works says nothing new");
        assertEquals(port(served, "default/web:http").clusterIps().get(0), store.load().clusterIps().get("default/web"));
        final long written = Files.getLastModifiedTime(store.file()).toMillis();
        write("web.yaml", docs(WEB_SERVICE, pod("web-0", "10.244.1.5", true))); // an endpoint: no allocation changes
        pipeline.reload(2);
        assertSame(pipeline.previous(), pipeline.storePending(), "unchanged allocations are not written again");
        assertEquals(written, Files.getLastModifiedTime(store.file()).toMillis());
    }

    @Test
    void shouldRestoreAllocationsFromStateFileInANewPipeline() throws Exception {
        write("web.yaml", WEB_SERVICE);
        final AllocationStore store = new AllocationStore(dir.resolve("state").resolve("allocations.json"));
        final SourceSnapshot first = new ManifestPipeline(List.of(manifests()), NODE, store).reloadAndStore(1);
        assertTrue(Files.readString(store.file()).contains("\"default/web\""));
        assertEquals(port(first, "default/web:http").clusterIps().get(0), store.load().clusterIps().get("default/web"));
        final SourceSnapshot restarted = new ManifestPipeline(List.of(manifests()), NODE, store).reloadAndStore(2);
        assertEquals(first.servicePorts(), restarted.servicePorts());
    }

    @Test
    void shouldReadOnceWithTheAgentsAllocationsWithoutWritingThem() throws Exception {
        write("web.yaml", WEB_SERVICE);
        final AllocationStore store = new AllocationStore(dir.resolve("allocations.json"));
        assertEquals(List.of(), ManifestSource.readOnce(NODE, List.of(manifests()), store.file()).errors());
        assertFalse(Files.exists(store.file()), "a one-shot read leaves the state file alone");
        final SourceSnapshot agent = new ManifestPipeline(List.of(manifests()), NODE, store).reloadAndStore(1);
        final String state = Files.readString(store.file());
        assertEquals(agent.servicePorts(), ManifestSource.readOnce(NODE, List.of(manifests()), store.file()).servicePorts());
        write("api.yaml", WEB_SERVICE.replace("name: web", "name: api"));
        ManifestSource.readOnce(NODE, List.of(manifests()), store.file());
        assertEquals(state, Files.readString(store.file()));
    }

    @Test
    void shouldReportUnreadableStateFileAndAllocateAfresh() throws Exception {
        write("web.yaml", WEB_SERVICE);
        final Path state = dir.resolve("allocations.json");
        Files.writeString(state, "{not json");
        final SourceSnapshot snapshot = new ManifestPipeline(List.of(manifests()), NODE, new AllocationStore(state)).reloadAndStore(1);
        assertTrue(hasPort(snapshot, "default/web:http"));
        assertTrue(errors(snapshot).get(0).startsWith(state + ": cannot read the stored allocations"), errors(snapshot).toString());
    }

    @Test
    void shouldCountServiceAndEndpointChanges() throws Exception {
        write("web.yaml", docs(WEB_SERVICE, pod("web-0", "10.244.1.5", true)));
        write("db.yaml", DB_SERVICE);
        final ManifestPipeline pipeline = pipeline();
        final SourceSnapshot first = pipeline.reloadAndStore(1);
        assertEquals(2, first.serviceChanges());
        assertEquals(1, first.endpointChanges(), "db has no endpoints");

        write("web.yaml", docs(WEB_SERVICE, pod("web-0", "10.244.1.5", true), pod("web-1", "10.244.1.6", true)));
        final SourceSnapshot added = pipeline.reloadAndStore(2);
        assertEquals(List.of(0, 1, 2L), List.of(added.serviceChanges(), added.endpointChanges(), added.generation()));

        write("web.yaml", docs(WEB_SERVICE, pod("web-0", "10.244.1.5", true), pod("web-1", "10.244.1.6", false)));
        final SourceSnapshot notReady = pipeline.reloadAndStore(3);
        assertEquals(List.of(0, 1), List.of(notReady.serviceChanges(), notReady.endpointChanges()));
        assertEquals(List.of("10.244.1.5"), readyAddresses(notReady, "default/web:http"));

        Files.delete(manifests().resolve("db.yaml"));
        final SourceSnapshot deleted = pipeline.reloadAndStore(4);
        assertEquals(List.of(1, 0), List.of(deleted.serviceChanges(), deleted.endpointChanges()));
        assertFalse(hasPort(deleted, "default/db:5432"));

        write("web.yaml", "# a comment\n" + docs(WEB_SERVICE, pod("web-0", "10.244.1.5", true), pod("web-1", "10.244.1.6", false)));
        final SourceSnapshot same = pipeline.reloadAndStore(5);
        assertFalse(same.differsFrom(deleted));
        assertEquals(List.of(0, 0, 4L), List.of(same.serviceChanges(), same.endpointChanges(), same.generation()));
    }

    @Test
    void shouldKeepLastGoodObjectsOfAFileThatStopsParsingUntilItIsDeleted() throws Exception {
        write("web.yaml", docs(WEB_SERVICE, pod("web-0", "10.244.1.5", true)));
        write("db.yaml", DB_SERVICE);
        final ManifestPipeline pipeline = pipeline();
        final SourceSnapshot good = pipeline.reloadAndStore(1);

        write("web.yaml", "apiVersion: v1\nkind: Service\nmetadata: {name: web\nspec: [\n");
        write("db.yaml", DB_SERVICE.replace("5432", "5433"));
        final SourceSnapshot broken = pipeline.reloadAndStore(2);
        assertEquals(port(good, "default/web:http"), port(broken, "default/web:http"), "web and its pod keep serving");
        assertTrue(hasPort(broken, "default/db:5433"), "other files still apply");
        final String error = errors(broken).get(0);
        assertTrue(error.startsWith(manifests().resolve("web.yaml") + ": line "), error);
        assertTrue(error.contains("not valid YAML"), error);
        assertTrue(error.endsWith("; the objects it held when it last parsed keep serving"), error);
        assertEquals(broken.errors(), broken.newErrors());

        final SourceSnapshot again = pipeline.reloadAndStore(3);
        assertEquals(broken.errors(), again.errors());
        assertEquals(List.of(), again.newErrors(), "an error is new once");

        Files.delete(manifests().resolve("web.yaml"));
        final SourceSnapshot deleted = pipeline.reloadAndStore(4);
        assertFalse(hasPort(deleted, "default/web:http"));
        assertEquals(List.of(), deleted.errors());
    }

    @Test
    void shouldNotApplyAFileThatNeverParsed() throws Exception {
        write("web.yaml", "kind: Service\nmetadata: {name: web\n");
        final SourceSnapshot snapshot = pipeline().reloadAndStore(1);
        assertEquals(List.of(), snapshot.servicePorts());
        assertTrue(errors(snapshot).get(0).endsWith("; nothing in this file was applied"), errors(snapshot).toString());
    }

    @Test
    void shouldKeepLastGoodVersionOfARejectedObjectUntilItIsDeleted() throws Exception {
        write("web.yaml", docs(WEB_SERVICE, pod("web-0", "10.244.1.5", true)));
        final ManifestPipeline pipeline = pipeline();
        final SourceSnapshot good = pipeline.reloadAndStore(1);

        write("web.yaml", docs(WEB_SERVICE.replace("port: 80", "port: 70000"), pod("web-0", "10.244.1.500", true)));
        final SourceSnapshot rejected = pipeline.reloadAndStore(2);
        assertEquals(good.servicePorts(), rejected.servicePorts());
        final Path file = manifests().resolve("web.yaml");
        assertEquals(List.of(
            file + ": Service default/web: spec.ports[0].port: 70000 is not a port (1-65535); its last good version keeps serving",
            file + ": Pod default/web-0: status.podIP: '10.244.1.500' is not an IP address; its last good version keeps serving"),
            errors(rejected));

        write("web.yaml", WEB_SERVICE.replace("port: 80", "port: 70000"));
        final SourceSnapshot podDeleted = pipeline.reloadAndStore(3);
        assertEquals(List.of(), port(podDeleted, "default/web:http").endpoints(), "the pod is gone from the files");
        assertEquals(1, podDeleted.endpointChanges());

        write("web.yaml", DB_SERVICE);
        final SourceSnapshot serviceDeleted = pipeline.reloadAndStore(4);
        assertFalse(hasPort(serviceDeleted, "default/web:http"));
        assertEquals(List.of(), serviceDeleted.errors());
    }

    @Test
    void shouldKeepLastGoodVersionWhenAnEditClaimsAnotherServicesClusterIp() throws Exception {
        write("a.yaml", DB_SERVICE.replace("ports:", "clusterIP: 10.96.0.10\n  ports:"));
        write("b.yaml", WEB_SERVICE);
        final ManifestPipeline pipeline = pipeline();
        final SourceSnapshot good = pipeline.reloadAndStore(1);
        write("b.yaml", WEB_SERVICE.replace("ports:", "clusterIP: 10.96.0.10\n  ports:"));
        final SourceSnapshot conflicting = pipeline.reloadAndStore(2);
        assertEquals(port(good, "default/web:http"), port(conflicting, "default/web:http"));
        assertTrue(errors(conflicting).get(0).endsWith("10.96.0.10 is already the ClusterIP of " + manifests().resolve("a.yaml")
            + ": Service default/db; its last good version keeps serving"), errors(conflicting).toString());
    }

    @Test
    void shouldNotServeAnObjectThatWasNeverValid() throws Exception {
        write("web.yaml", WEB_SERVICE.replace("name: web", "name: Web"));
        final SourceSnapshot snapshot = pipeline().reloadAndStore(1);
        assertEquals(List.of(), snapshot.servicePorts());
        assertEquals(List.of(manifests().resolve("web.yaml") + ": Service default/Web: metadata.name: 'Web' is not a valid Service "
            + "name: it must be an RFC 1035 label: at most 63 lower-case letters, digits and '-', starting with a letter and "
            + "ending with a letter or digit"), errors(snapshot));
    }

    @Test
    void shouldReportMissingDirectory() {
        final SourceSnapshot snapshot = new ManifestPipeline(List.of(dir.resolve("absent")), NODE, null).reloadAndStore(1);
        assertEquals(List.of(dir.resolve("absent") + ": no such file or directory"), errors(snapshot));
    }
}
