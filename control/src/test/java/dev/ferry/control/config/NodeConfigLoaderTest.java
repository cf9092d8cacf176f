package dev.ferry.control.config;

import dev.ferry.dataplane.addr.Ipv4;
import dev.ferry.dataplane.addr.Ipv4Cidr;
import dev.ferry.dataplane.nat.SnatRange;
import dev.ferry.dataplane.service.NodeSpec;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class NodeConfigLoaderTest {
    private static final String MINIMAL = """
        nodeName: node-a
        nodeIPs: [192.168.56.10]
        """;

    @TempDir
    Path dir;

    private Path write(final String text) throws IOException {
        final Path file = dir.resolve("node.yaml");
        Files.writeString(file, text);
        return file;
    }

    private String problemsOf(final String text) throws IOException {
        final Path file = write(text);
        final NodeConfigException e = assertThrows(NodeConfigException.class, () -> NodeConfigLoader.load(file));
        for (final String problem : e.problems()) {
            assertTrue(problem.startsWith(file + ": "), "names the file: " + problem);
        }
        return e.getMessage();
    }

    @Test
    void shouldReadEveryField() throws Exception {
        final NodeConfig config = NodeConfigLoader.load(write("""
            nodeName: node-a
            nodeIPs: [192.168.56.10, 10.0.0.1]
            clusterCIDRs: [10.244.0.0/16]
            podCIDR: 10.244.1.0/24
            serviceCIDRs: [172.30.0.0/16]
            nodePortRange: 31000-31999
            nodePortAddresses: [192.168.56.0/24]
            masqueradeAll: true
            portType: packet
            """));
        assertEquals("node-a", config.nodeName());
        assertEquals(List.of(Ipv4.parse("192.168.56.10"), Ipv4.parse("10.0.0.1")), config.nodeIps());
        assertEquals(List.of(Ipv4Cidr.parse("10.244.0.0/16")), config.clusterCidrs());
        assertEquals(Ipv4Cidr.parse("10.244.1.0/24"), config.podCidr());
        assertEquals(List.of(Ipv4Cidr.parse("172.30.0.0/16")), config.serviceCidrs());
        assertEquals(31000, config.nodePortMin());
        assertEquals(31999, config.nodePortMax());
        assertEquals(List.of(Ipv4Cidr.parse("192.168.56.0/24")), config.nodePortAddresses());
        assertTrue(config.masqueradeAll());
        assertEquals(PortType.PACKET, config.portType());

        final NodeSpec spec = config.toNodeSpec();
        assertEquals("node-a", spec.nodeName());
        assertEquals(List.of(Ipv4.parse("192.168.56.10")), spec.nodePortIps());
        assertEquals(31000, spec.nodePortMin());
        assertTrue(spec.masqueradeAll());
    }

    @Test
    void shouldApplyDefaultsWhenOptionalFieldsAreAbsent() throws Exception {
        final NodeConfig config = NodeConfigLoader.load(write(MINIMAL));
        assertEquals(NodeSpec.DEFAULT_NODE_PORT_MIN, config.nodePortMin());
        assertEquals(NodeSpec.DEFAULT_NODE_PORT_MAX, config.nodePortMax());
        assertEquals(List.of(), config.clusterCidrs());
        assertEquals(List.of(), config.serviceCidrs());
        assertEquals(List.of(), config.nodePortAddresses());
        assertNull(config.podCidr());
        assertFalse(config.masqueradeAll());
        assertEquals(PortType.TUN, config.portType());
        assertEquals(config.nodeIps(), config.toNodeSpec().nodePortIps());
    }

    @Test
    void shouldAcceptSinglePortRange() throws Exception {
        final NodeConfig config = NodeConfigLoader.load(write(MINIMAL + "nodePortRange: \"30080\"\n"));
        assertEquals(30080, config.nodePortMin());
        assertEquals(30080, config.nodePortMax());
    }

    @Test
    void shouldRejectUnknownKeyNamingIt() throws Exception {
        final String message = problemsOf(MINIMAL + "masqueradeAl: true\n");
        assertTrue(message.contains("masqueradeAl: unknown key"), message);
        assertTrue(message.contains("masqueradeAll"), "lists the known keys: " + message);
    }

    @Test
    void shouldServeIpv4AndLeaveOutTheIpv6EntriesOfADualStackNode() throws Exception {
        final NodeConfig config = NodeConfigLoader.load(write("""
            nodeName: node-a
            nodeIPs: [192.168.56.10, "fd00:10::11"]
            clusterCIDRs: [10.244.0.0/16, "fd00:244::/56"]
            podCIDR: "fd00:244:0:1::/64"
            serviceCIDRs: ["fd00:96::/112", 10.96.0.0/12]
            nodePortAddresses: ["fd00:10::/64", 192.168.56.0/24]
            """));
        assertEquals(List.of(Ipv4.parse("192.168.56.10")), config.nodeIps());
        assertEquals(List.of(Ipv4Cidr.parse("10.244.0.0/16")), config.clusterCidrs());
        assertEquals(List.of(Ipv4Cidr.parse("10.96.0.0/12")), config.serviceCidrs());
        assertEquals(List.of(Ipv4Cidr.parse("192.168.56.0/24")), config.nodePortAddresses());
        assertNull(config.podCidr(), "an IPv6 pod range alone leaves the node without an IPv4 one");
    }

    @Test
    void shouldMasqueradeToTheNodeIpsUpperPortsUnlessGivenAnAddressOfItsOwn() throws Exception {
        final NodeConfig plain = NodeConfigLoader.load(write(MINIMAL));
        assertFalse(plain.hasMasqueradeAddress());
        assertEquals(SnatRange.defaults(plain.nodeIps().getFirst()), plain.snatRange());
        final NodeConfig own = NodeConfigLoader.load(write(MINIMAL + "masqueradeAddress: 192.168.56.111\n"));
        assertTrue(own.hasMasqueradeAddress());
        assertEquals(new SnatRange(Ipv4.parse("192.168.56.111"), 1024, 65535), own.snatRange(), "every port from 1024 up");
    }

    @Test
    void shouldRefuseAMasqueradeAddressTheNodeOrAServiceAlreadyUses() throws Exception {
        final String node = problemsOf(MINIMAL + "masqueradeAddress: 192.168.56.10\n");
        assertTrue(node.contains("masqueradeAddress: 192.168.56.10 is one of nodeIPs"), node);
        final String service = problemsOf(MINIMAL + "serviceCIDRs: [10.96.0.0/12]\nmasqueradeAddress: 10.96.0.5\n");
        assertTrue(service.contains("masqueradeAddress: 10.96.0.5 lies inside serviceCIDRs 10.96.0.0/12"), service);
        final String malformed = problemsOf(MINIMAL + "masqueradeAddress: not-an-ip\n");
        assertTrue(malformed.contains("masqueradeAddress: 'not-an-ip' is not an IPv4 address"), malformed);
    }

    @Test
    void shouldRefuseANodeWithoutAnIpv4Address() throws Exception {
        final String message = problemsOf("nodeName: a\nnodeIPs: [\"fd00:10::11\"]\n");
        assertTrue(message.contains("nodeIPs: at least one IPv4 address"), message);
    }

    @Test
    void shouldStillRejectAMalformedAddressThatLooksLikeIpv6() throws Exception {
        final String message = problemsOf("nodeName: a\nnodeIPs: [192.168.56.10, \"fd00:::zz\"]\n");
        assertTrue(message.contains("is not an IPv4 address"), message);
    }

    @Test
    void shouldRejectBadNodeIp() throws Exception {
        final String message = problemsOf("nodeName: a\nnodeIPs: [192.168.56.300]\n");
        assertTrue(message.contains("nodeIPs[0]: '192.168.56.300' is not an IPv4 address"), message);
    }

    @Test
    void shouldRejectMissingNodeNameAndNodeIps() throws Exception {
        final String message = problemsOf("masqueradeAll: false\n");
        assertTrue(message.contains("nodeName: is required"), message);
        assertTrue(message.contains("nodeIPs: at least one address"), message);
    }

    @Test
    void shouldRejectBadCidrs() throws Exception {
        final String message = problemsOf(MINIMAL + """
            clusterCIDRs: [10.244.0.0/33]
            podCIDR: banana
            serviceCIDRs: [172.30.0.0]
            nodePortAddresses: ["1.2.3/24"]
            """);
        assertTrue(message.contains("clusterCIDRs[0]: '10.244.0.0/33' is not an IPv4 CIDR"), message);
        assertTrue(message.contains("podCIDR: 'banana' is not a CIDR"), message);
        assertTrue(message.contains("serviceCIDRs[0]: '172.30.0.0' is not a CIDR"), message);
        assertTrue(message.contains("nodePortAddresses[0]: '1.2.3/24' is not an IPv4 CIDR"), message);
    }

    @Test
    void shouldRejectServiceCidrOverlappingClusterCidrNamingBoth() throws Exception {
        final String message = problemsOf(MINIMAL + "clusterCIDRs: [10.0.0.0/8]\nserviceCIDRs: [10.96.0.0/12]\n");
        assertTrue(message.contains("serviceCIDRs[0]: 10.96.0.0/12 overlaps clusterCIDRs[0] 10.0.0.0/8"), message);
    }

    @Test
    void shouldRejectServiceCidrOverlappingPodCidrNamingBoth() throws Exception {
        final String message = problemsOf(MINIMAL + "podCIDR: 10.96.1.0/24\nserviceCIDRs: [10.96.0.0/12]\n");
        assertTrue(message.contains("serviceCIDRs[0]: 10.96.0.0/12 overlaps podCIDR 10.96.1.0/24"), message);
    }

    @Test
    void shouldRejectNodeIpInsideServiceOrClusterCidrNamingAddressAndRange() throws Exception {
        final Path file = write("nodeName: a\nnodeIPs: [192.168.56.10, 10.96.0.5]\nserviceCIDRs: [10.96.0.0/12]\n"
            + "clusterCIDRs: [192.168.0.0/16]\n");
        final NodeConfigException e = assertThrows(NodeConfigException.class, () -> NodeConfigLoader.load(file));
        assertEquals(List.of(
            file + ": nodeIPs[0]: 192.168.56.10 lies inside clusterCIDRs[0] 192.168.0.0/16; the node's own addresses must be "
                + "outside the service and cluster ranges",
            file + ": nodeIPs[1]: 10.96.0.5 lies inside serviceCIDRs[0] 10.96.0.0/12; the node's own addresses must be "
                + "outside the service and cluster ranges"), e.problems());
    }

    @Test
    void shouldRejectInvertedNodePortRange() throws Exception {
        final String message = problemsOf(MINIMAL + "nodePortRange: 32767-30000\n");
        assertTrue(message.contains("nodePortRange: '32767-30000' starts after it ends"), message);
    }

    @Test
    void shouldRejectNodePortRangeOutsidePortNumbers() throws Exception {
        assertTrue(problemsOf(MINIMAL + "nodePortRange: 30000-70000\n").contains("nodePortRange: '30000-70000' reaches outside"));
        assertTrue(problemsOf(MINIMAL + "nodePortRange: 0-100\n").contains("nodePortRange: '0-100' reaches outside"));
    }

    @Test
    void shouldRejectUnparseableNodePortRange() throws Exception {
        final String message = problemsOf(MINIMAL + "nodePortRange: lots\n");
        assertTrue(message.contains("nodePortRange: 'lots' is not a port range"), message);
    }

    @Test
    void shouldRejectBadPortTypeAndMasqueradeAll() throws Exception {
        final String message = problemsOf(MINIMAL + "portType: xdp\nmasqueradeAll: sometimes\n");
        assertTrue(message.contains("portType: 'xdp' is not a port type (tun or packet)"), message);
        assertTrue(message.contains("masqueradeAll: 'sometimes' is not a boolean"), message);
    }

    @Test
    void shouldReportEveryProblemAtOnce() throws Exception {
        final Path file = write("nodeName: a\nnodeIPs: [nope]\npodCIDR: x\nbogus: 1\n");
        final NodeConfigException e = assertThrows(NodeConfigException.class, () -> NodeConfigLoader.load(file));
        assertEquals(3, e.problems().size(), e.getMessage());
    }

    @Test
    void shouldRejectUnparseableYamlNamingFileAndLine() throws Exception {
        final String message = problemsOf("nodeName: a\nnodeIPs: [1.2.3.4\n  : :\n");
        assertTrue(message.contains("line "), message);
        assertTrue(message.contains("not valid YAML"), message);
    }

    @Test
    void shouldRejectEmptyFileAndNonMapping() throws Exception {
        assertTrue(problemsOf("").contains("expected one YAML document"));
        assertTrue(problemsOf("- a\n- b\n").contains("must be a mapping"));
    }

    @Test
    void shouldRejectMissingFile() {
        final NodeConfigException e = assertThrows(NodeConfigException.class, () -> NodeConfigLoader.load(dir.resolve("absent.yaml")));
        assertTrue(e.getMessage().contains("absent.yaml: no such file"), e.getMessage());
    }
}
