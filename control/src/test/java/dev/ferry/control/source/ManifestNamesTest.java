package dev.ferry.control.source;

import dev.ferry.control.dns.ServiceNames;
import dev.ferry.dataplane.addr.Ipv4;
import dev.ferry.dataplane.service.Protocol;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

import static dev.ferry.control.source.Manifests.NODE;
import static dev.ferry.control.source.Manifests.WEB_SERVICE;
import static dev.ferry.control.source.Manifests.docs;
import static dev.ferry.control.source.Manifests.pod;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;

/**
 * Manifest mode's snapshot carries the DNS names beside the service ports, from the same
 * objects: ClusterIP services the compiler served, headless services with endpoints derived
 * from their pods (hostnames from spec.hostname and spec.subdomain), ExternalName targets.
 */
class ManifestNamesTest {
    private static final String HEADLESS = """
        apiVersion: v1
        kind: Service
        metadata: {name: db}
        spec:
          clusterIP: None
          selector: {app: db}
          ports: [{name: pg, port: 5432}]
        """;
    private static final String EXTERNAL = """
        apiVersion: v1
        kind: Service
        metadata: {name: ext}
        spec:
          type: ExternalName
          externalName: example.org.
        """;

    @TempDir
    Path dir;

    private static String dbPod(final String name, final String ip, final boolean ready, final String hostname) {
        return """
            apiVersion: v1
            kind: Pod
            metadata: {name: %s, labels: {app: db}}
            spec:
              nodeName: node-a
              hostname: %s
              subdomain: db
              containers: [{name: pg}]
            status:
              podIP: %s
              conditions: [{type: Ready, status: "%s"}]
            """.formatted(name, hostname, ip, ready ? "True" : "False");
    }

    @Test
    void shouldNameServedHeadlessAndExternalNameServicesFromTheSameObjectsAsThePorts() throws Exception {
        final Path manifests = Files.createDirectories(dir.resolve("manifests"));
        Files.writeString(manifests.resolve("all.yaml"), docs(WEB_SERVICE, pod("web-0", "10.244.1.5", true), HEADLESS,
            dbPod("db-0", "10.244.1.7", true, "db-0"), dbPod("db-1", "10.244.1.8", false, "db-1"), EXTERNAL));
        final ManifestPipeline pipeline = new ManifestPipeline(List.of(manifests), NODE, null);
        final SourceSnapshot snapshot = pipeline.reload(1000);
        assertEquals(List.of(), snapshot.errors());
        final List<ServiceNames.Entry> entries = snapshot.names().entries();
        assertEquals(List.of("web", "db", "ext"), entries.stream().map(ServiceNames.Entry::name).toList(), "in file order");

        final ServiceNames.Entry db = entries.get(1);
        assertEquals(ServiceNames.Kind.HEADLESS, db.kind());
        assertEquals(List.of(new ServiceNames.Endpoint(Ipv4.parse("10.244.1.7"), "db-0", List.of(new ServiceNames.Port("pg", Protocol.TCP, 5432)))),
            db.endpoints(), "the ready pod only, with its hostname");

        assertEquals(ServiceNames.Kind.EXTERNAL_NAME, entries.get(2).kind());
        assertEquals("example.org", entries.get(2).externalName());

        final ServiceNames.Entry web = entries.get(0);
        assertEquals(ServiceNames.Kind.CLUSTER_IP, web.kind());
        assertEquals(snapshot.servicePorts().getFirst().clusterIps(), web.clusterIps(), "the ClusterIP the allocator gave the dataplane");
        assertEquals(List.of(new ServiceNames.Port("http", Protocol.TCP, 80)), web.ports());

        // only the ExternalName changes: a new snapshot, though the dataplane's input is the same
        Files.writeString(manifests.resolve("all.yaml"), docs(WEB_SERVICE, pod("web-0", "10.244.1.5", true), HEADLESS,
            dbPod("db-0", "10.244.1.7", true, "db-0"), dbPod("db-1", "10.244.1.8", false, "db-1"), EXTERNAL.replace("example.org.", "example.net")));
        final SourceSnapshot next = pipeline.reload(2000);
        assertEquals(snapshot.servicePorts(), next.servicePorts());
        assertNotEquals(snapshot.generation(), next.generation());
        assertEquals("example.net", next.names().entries().get(2).externalName());
    }

    @Test
    void shouldMakeNoNamesWhenNothingReadsThem() throws Exception {
        final Path manifests = Files.createDirectories(dir.resolve("manifests"));
        Files.writeString(manifests.resolve("all.yaml"), docs(WEB_SERVICE, pod("web-0", "10.244.1.5", true), HEADLESS,
            dbPod("db-0", "10.244.1.7", true, "db-0"), EXTERNAL));
        final SourceSnapshot named = new ManifestPipeline(List.of(manifests), NODE, null).reload(1000);
        final SourceSnapshot unnamed = new ManifestPipeline(List.of(manifests), NODE, null).nameServices(false).reload(1000);
        assertEquals(3, named.names().entries().size());
        assertEquals(ServiceNames.EMPTY, unnamed.names(), "an agent without a DNS server names nothing");
        assertEquals(named.servicePorts(), unnamed.servicePorts(), "the dataplane's input is the same");
    }

    @Test
    void shouldRejectAnExternalNameThatIsNoDnsName() throws Exception {
        final Path manifests = Files.createDirectories(dir.resolve("manifests"));
        Files.writeString(manifests.resolve("ext.yaml"), EXTERNAL.replace("example.org.", "Not_A_Name"));
        final SourceSnapshot snapshot = new ManifestPipeline(List.of(manifests), NODE, null).reload(1000);
        assertEquals(1, snapshot.errors().size());
        assertEquals("spec.externalName", snapshot.errors().getFirst().field(), snapshot.errors().toString());
    }
}
