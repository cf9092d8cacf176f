package dev.ferry.control.source;

import dev.ferry.control.config.NodeConfig;
import dev.ferry.control.config.NodeConfigLoader;
import dev.ferry.dataplane.addr.Ipv4;
import dev.ferry.dataplane.addr.Ipv4Cidr;
import dev.ferry.dataplane.service.EndpointSpec;
import dev.ferry.dataplane.service.ServicePortSpec;
import dev.ferry.dataplane.service.ServiceTable;
import org.junit.jupiter.api.Test;

import java.nio.file.Path;
import java.util.List;

import static dev.ferry.control.source.Manifests.port;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** docs/examples/agent: what the agent serves from the example manifests. */
class AgentExamplesTest {
    private static final Path EXAMPLES = Path.of("..", "docs", "examples", "agent");

    private static EndpointSpec endpoint(final String ip, final int port, final boolean ready, final boolean local) {
        return new EndpointSpec(Ipv4.parse(ip), port, ready, ready, false, local);
    }

    @Test
    void shouldServeTheExampleManifestsWithoutErrors() throws Exception {
        final NodeConfig config = NodeConfigLoader.load(EXAMPLES.resolve("node.yaml"));
        final SourceSnapshot snapshot = new ManifestPipeline(List.of(EXAMPLES.resolve("manifests")), config, null).reload(1);
        assertEquals(List.of(), snapshot.errors());
        assertEquals(List.of("default/web:http", "tools/echo:udp-echo", "data/postgres:pg", "default/billing:https",
            "shop/shop:http"), snapshot.servicePorts().stream().map(ServicePortSpec::displayName).toList(),
            "ExternalName and headless services have no data path");

        final ServicePortSpec web = port(snapshot, "default/web:http");
        assertEquals(List.of(Ipv4.parse("10.96.0.80")), web.clusterIps());
        assertEquals(List.of(endpoint("10.244.1.10", 8080, true, true), endpoint("10.244.2.10", 8080, true, false),
            endpoint("10.244.1.11", 8080, false, true)), web.endpoints());

        final ServicePortSpec echo = port(snapshot, "tools/echo:udp-echo");
        assertTrue(Ipv4Cidr.parse("10.96.0.0/12").contains(echo.clusterIps().get(0)));
        assertTrue(echo.nodePort() >= 30000 && echo.nodePort() <= 32767);
        assertEquals(List.of(endpoint("10.244.1.20", 7007, true, true)), echo.endpoints());

        assertEquals(List.of(endpoint("198.18.0.50", 5432, true, false), endpoint("198.18.0.51", 5432, false, false)),
            port(snapshot, "data/postgres:pg").endpoints());
        assertEquals(List.of(), port(snapshot, "default/billing:https").endpoints());

        final ServicePortSpec shop = port(snapshot, "shop/shop:http");
        assertTrue(shop.externalPolicyLocal());
        assertEquals(List.of(Ipv4.parse("198.18.100.10")), shop.loadBalancerIps());
        assertTrue(shop.nodePort() != 0 && shop.healthCheckNodePort() != 0 && shop.nodePort() != shop.healthCheckNodePort());
        assertEquals(List.of(endpoint("10.244.1.30", 8080, true, true), endpoint("10.244.2.30", 8080, true, false)),
            shop.endpoints());

        ServiceTable.compile(config.toNodeSpec(), snapshot.servicePorts());
    }
}
