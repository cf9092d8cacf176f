package dev.ferry.control.config;

import dev.ferry.dataplane.addr.Ipv4;
import dev.ferry.dataplane.addr.Ipv4Cidr;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class NodeConfigOptionsTest {
    @TempDir
    Path dir;

    /** A command that mixes the options in, as the agent does. */
    @Command(name = "agent")
    static final class Agent {
        @Mixin
        NodeConfigOptions node;
    }

    private static NodeConfigOptions parse(final String... args) {
        final Agent agent = new Agent();
        new CommandLine(agent).parseArgs(args);
        return agent.node;
    }

    private Path file(final String text) throws Exception {
        final Path file = dir.resolve("node.yaml");
        Files.writeString(file, text);
        return file;
    }

    private static String problems(final NodeConfigOptions options) {
        return assertThrows(NodeConfigException.class, options::resolve).getMessage();
    }

    @Test
    void shouldLetFlagsWinOverTheFile() throws Exception {
        final Path file = file("""
            nodeName: node-a
            nodeIPs: [198.18.0.11]
            clusterCIDRs: [10.244.0.0/16]
            serviceCIDRs: [10.96.0.0/12]
            masqueradeAll: true
            portType: tun
            """);
        final NodeConfig config = parse("--node-config", file.toString(), "--node-name", "node-b", "--node-ip", "198.18.0.12",
            "--node-ip", "198.18.0.13", "--masquerade-all=false", "--port-type", "packet", "--node-port-range", "31000-31999",
            "--node-port-address", "198.18.0.0/24").resolve();
        assertEquals("node-b", config.nodeName());
        assertEquals(List.of(Ipv4.parse("198.18.0.12"), Ipv4.parse("198.18.0.13")), config.nodeIps(), "a repeated flag replaces the list");
        assertEquals(List.of(Ipv4Cidr.parse("10.244.0.0/16")), config.clusterCidrs(), "keys without a flag keep the file's value");
        assertEquals(List.of(Ipv4Cidr.parse("10.96.0.0/12")), config.serviceCidrs());
        assertFalse(config.masqueradeAll());
        assertEquals(PortType.PACKET, config.portType());
        assertEquals(31000, config.nodePortMin());
        assertEquals(List.of(Ipv4Cidr.parse("198.18.0.0/24")), config.nodePortAddresses());
    }

    @Test
    void shouldBuildTheWholeConfigFromFlagsAlone() throws Exception {
        final NodeConfig config = parse("--node-name", "node-a", "--node-ip", "198.18.0.11", "--cluster-cidr",
            "10.244.0.0/16,10.245.0.0/16", "--pod-cidr", "10.244.1.0/24", "--service-cidr", "10.96.0.0/12", "--masquerade-all")
            .resolve();
        assertEquals(List.of(Ipv4Cidr.parse("10.244.0.0/16"), Ipv4Cidr.parse("10.245.0.0/16")), config.clusterCidrs(),
            "commas separate list values");
        assertEquals(Ipv4Cidr.parse("10.244.1.0/24"), config.podCidr());
        assertTrue(config.masqueradeAll());
        assertEquals(NodeConfig.DEFAULT_NODE_PORT_RANGE, config.nodePortRange());
    }

    @Test
    void shouldEmptyAListWithAnEmptyFlag() throws Exception {
        final Path file = file("nodeName: a\nnodeIPs: [198.18.0.11]\nnodePortAddresses: [198.18.0.0/24]\n");
        assertEquals(List.of(), parse("--node-config", file.toString(), "--node-port-address=").resolve().nodePortAddresses());
    }

    @Test
    void shouldNameTheFlagOrTheFileInEachProblem() throws Exception {
        final Path file = file("nodeName: a\nnodeIPs: [198.18.0.11]\npodCIDR: banana\n");
        final String message = problems(parse("--node-config", file.toString(), "--service-cidr", "10.96.0.0",
            "--port-type", "xdp"));
        assertTrue(message.contains("--service-cidr: serviceCIDRs[0]: '10.96.0.0' is not a CIDR"), message);
        assertTrue(message.contains("--port-type: portType: 'xdp' is not a port type (tun or packet)"), message);
        assertTrue(message.contains(file + ": podCIDR: 'banana' is not a CIDR"), message);
    }

    @Test
    void shouldNameTheFlagsOfMissingKeysWithoutAFile() {
        final String message = problems(parse("--service-cidr", "10.96.0.0/12"));
        assertTrue(message.contains("--node-name: nodeName: is required"), message);
        assertTrue(message.contains("--node-ip: nodeIPs: at least one address of this node is required"), message);
    }

    @Test
    void shouldRefuseOverlapsCreatedByFlags() throws Exception {
        final Path file = file("nodeName: a\nnodeIPs: [198.18.0.11]\npodCIDR: 10.96.1.0/24\n");
        final String message = problems(parse("--node-config", file.toString(), "--service-cidr", "10.96.0.0/12"));
        assertTrue(message.contains("--service-cidr: serviceCIDRs[0]: 10.96.0.0/12 overlaps podCIDR 10.96.1.0/24"), message);
    }

    @Test
    void shouldRefuseANodeIpInsideTheServiceOrClusterRanges() {
        final String message = problems(parse("--node-name", "a", "--node-ip", "198.18.0.11,10.96.0.1,10.244.0.9",
            "--service-cidr", "10.96.0.0/12", "--cluster-cidr", "10.244.0.0/16"));
        assertTrue(message.contains("--node-ip: nodeIPs[1]: 10.96.0.1 lies inside serviceCIDRs[0] 10.96.0.0/12"), message);
        assertTrue(message.contains("--node-ip: nodeIPs[2]: 10.244.0.9 lies inside clusterCIDRs[0] 10.244.0.0/16"), message);
        assertFalse(message.contains("nodeIPs[0]"), message);
    }

    @Test
    void shouldReportAnUnreadableFileAsTheLoaderDoes() throws Exception {
        final Path file = file("- a\n- b\n");
        assertTrue(problems(parse("--node-config", file.toString(), "--node-name", "a")).contains("must be a mapping"));
        assertTrue(problems(parse("--node-config", dir.resolve("absent.yaml").toString())).contains("absent.yaml: no such file"));
    }

    @Test
    void shouldOfferEveryNodeConfigKeyAsAFlag() {
        assertEquals(java.util.Set.copyOf(NodeConfigLoader.KEYS), NodeConfigOptions.FLAGS.keySet());
        final CommandLine cli = new CommandLine(new Agent());
        for (final String flag : NodeConfigOptions.FLAGS.values()) {
            assertTrue(cli.getCommandSpec().findOption(flag) != null, flag);
        }
    }
}
