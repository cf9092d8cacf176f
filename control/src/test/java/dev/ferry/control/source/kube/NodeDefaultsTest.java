package dev.ferry.control.source.kube;

import dev.ferry.control.config.NodeConfig;
import dev.ferry.control.config.NodeConfigException;
import dev.ferry.control.config.NodeConfigOptions;
import dev.ferry.dataplane.addr.Ipv4;
import dev.ferry.dataplane.addr.Ipv4Cidr;
import io.fabric8.kubernetes.client.KubernetesClient;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;

import java.nio.file.Path;
import java.util.List;
import java.util.Set;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The node config keys the agent takes from this node's Node object when the file and flags leave them out. */
class NodeDefaultsTest {
    @TempDir
    Path dir;

    private MockApi api;
    private KubernetesClient client;

    @Command(name = "agent")
    static final class Agent {
        @Mixin
        NodeConfigOptions node;
    }

    private static NodeConfigOptions flags(final String... args) {
        final Agent agent = new Agent();
        new CommandLine(agent).parseArgs(args);
        return agent.node;
    }

    @BeforeEach
    void start() throws Exception {
        api = MockApi.start();
        client = KubeApi.fromKubeconfig(MockApi.kubeconfig(dir, api.server.url("/")));
    }

    @AfterEach
    void stop() {
        client.close();
        api.close();
    }

    @Test
    void shouldTakeTheAddressAndPodRangeFromTheNode() throws Exception {
        api.writer.resource(ApiFixtures.thisNode()).create();
        final NodeDefaults defaults = new NodeDefaults(client, 0);
        final NodeConfig config = flags("--node-name", "node-1", "--service-cidr", "10.96.0.0/12")
            .resolve("the Node object", defaults);
        assertEquals(List.of(Ipv4.parse("198.18.0.11")), config.nodeIps());
        assertEquals(Ipv4Cidr.parse("10.244.1.0/24"), config.podCidr());
        assertEquals(Set.of("nodeIPs", "podCIDR"), defaults.fromNode());
    }

    @Test
    void shouldLetFlagsWinOverTheNode() throws Exception {
        final NodeDefaults defaults = new NodeDefaults(client, 0);
        final NodeConfig config = flags("--node-name", "node-1", "--node-ip", "198.18.0.99", "--pod-cidr", "10.244.9.0/24")
            .resolve("the Node object", defaults);
        assertEquals(List.of(Ipv4.parse("198.18.0.99")), config.nodeIps());
        assertEquals(Set.of(), defaults.fromNode(), "nothing asked of the API: the Node need not even exist");
    }

    @Test
    void shouldSayWhichNodeIsMissing() {
        final IllegalStateException e = assertThrows(IllegalStateException.class,
            () -> flags("--node-name", "node-7").resolve("the Node object", new NodeDefaults(client, 0)));
        assertTrue(e.getMessage().contains("Node node-7 is not registered"), e.getMessage());
        assertTrue(e.getMessage().contains("--node-name"), e.getMessage());
    }

    @Test
    void shouldNameTheNodeAsTheOriginOfABadValue() {
        api.writer.resource(ApiFixtures.node().editStatus().editLastAddress().withAddress("10.96.0.5").endAddress().endStatus()
            .build()).create();
        final NodeConfigException e = assertThrows(NodeConfigException.class,
            () -> flags("--node-name", "node-1", "--service-cidr", "10.96.0.0/12").resolve("the Node object", new NodeDefaults(client, 0)));
        assertTrue(e.problems().stream().anyMatch(p -> p.startsWith("the Node object: nodeIPs[0]: 10.96.0.5 lies inside")),
            e.problems().toString());
    }
}
