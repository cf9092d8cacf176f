package dev.ferry.control.lab;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.dataformat.yaml.YAMLFactory;
import com.fasterxml.jackson.dataformat.yaml.YAMLParser;
import dev.ferry.dataplane.addr.Ipv4;
import dev.ferry.dataplane.addr.Ipv4Cidr;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

class LabManifestsTest {
    private static final ObjectMapper YAML = new ObjectMapper(new YAMLFactory());

    private static List<JsonNode> documents(final String yaml) throws Exception {
        final List<JsonNode> docs = new ArrayList<>();
        try (YAMLParser parser = new YAMLFactory().createParser(yaml)) {
            YAML.readValues(parser, JsonNode.class).forEachRemaining(docs::add);
        }
        return docs;
    }

    @Test
    void shouldPinEveryClusterIpInsideTheServiceCidrAndEveryNodePortInTheRange() throws Exception {
        final Ipv4Cidr serviceCidr = Ipv4Cidr.parse(LabTopology.SERVICE_CIDR);
        final Set<String> clusterIps = new HashSet<>();
        final Set<Integer> nodePorts = new HashSet<>();
        int services = 0;
        for (final JsonNode doc : documents(LabManifests.services())) {
            if (!"Service".equals(doc.path("kind").asText())) {
                continue;
            }
            services++;
            final JsonNode spec = doc.path("spec");
            if ("ExternalName".equals(spec.path("type").asText())) {
                continue;
            }
            final String ip = spec.path("clusterIP").asText();
            assertTrue(serviceCidr.contains(Ipv4.parse(ip)), doc.path("metadata").path("name") + " " + ip);
            assertTrue(clusterIps.add(ip), "ClusterIP " + ip + " used twice");
            for (final JsonNode port : spec.path("ports")) {
                if (port.has("nodePort")) {
                    final int nodePort = port.path("nodePort").asInt();
                    assertTrue(nodePort >= 30000 && nodePort <= 32767, "nodePort " + nodePort);
                    assertTrue(nodePorts.add(nodePort), "nodePort " + nodePort + " used twice");
                }
            }
        }
        assertEquals(9, services, "web, solo, sticky, web-nodeport, web-local, web-lb, outside, ext-name, empty");
        assertTrue(Ipv4Cidr.parse(LabTopology.LB_POOL).contains(Ipv4.parse(LabManifests.LB_IP)));
    }

    @Test
    void shouldWriteEachPodWithItsAddressNodeLabelsAndReadyCondition() throws Exception {
        final LabTopology.Pod pod = new LabTopology(2).requirePod("web-3");
        final JsonNode doc = documents(LabManifests.pod(pod, true, Instant.parse("2026-01-01T00:00:00Z"))).get(0);
        assertEquals("Pod", doc.path("kind").asText());
        assertEquals("node-2", doc.path("spec").path("nodeName").asText());
        assertEquals("10.244.2.11", doc.path("status").path("podIP").asText());
        assertEquals("web", doc.path("metadata").path("labels").path("app").asText());
        assertEquals("True", doc.path("status").path("conditions").get(0).path("status").asText());
        assertEquals("False", documents(LabManifests.pod(pod, false, Instant.now())).get(0)
            .path("status").path("conditions").get(0).path("status").asText());
    }

    @Test
    void shouldReplacePodFilesAtomicallyLeavingNoDotFileBehind(@TempDir final Path dir) throws Exception {
        final LabTopology topology = new LabTopology(2);
        LabManifests.writeNode(topology, topology.node(1), dir, "packet", Map.of("web-1", true));
        final Path manifests = dir.resolve("manifests");
        assertTrue(LabManifests.readReady(manifests.resolve("pod-web-1.yaml")));
        assertFalse(LabManifests.readReady(manifests.resolve("pod-web-2.yaml")));
        LabManifests.writeAtomically(manifests.resolve("pod-web-2.yaml"), LabManifests.pod(topology.requirePod("web-2"), true, Instant.now()));
        assertTrue(LabManifests.readReady(manifests.resolve("pod-web-2.yaml")));
        try (var files = Files.list(manifests)) {
            assertTrue(files.noneMatch(f -> f.getFileName().toString().startsWith(".")), "no temporary dot file left");
        }
        final JsonNode node = YAML.readTree(dir.resolve("node.yaml").toFile());
        assertEquals("packet", node.path("portType").asText());
        assertEquals("10.244.1.0/24", node.path("podCIDR").asText());
    }
}
