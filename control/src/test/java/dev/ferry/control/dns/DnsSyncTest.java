package dev.ferry.control.dns;

import dev.ferry.conntrack.ConntrackTable;
import dev.ferry.conntrack.ConntrackTimeouts;
import dev.ferry.control.sync.ServiceSync;
import dev.ferry.dataplane.addr.Ipv4;
import dev.ferry.dataplane.addr.Ipv4Cidr;
import dev.ferry.dataplane.pipeline.ServiceTableHolder;
import dev.ferry.dataplane.service.EndpointSpec;
import dev.ferry.dataplane.service.NodeSpec;
import dev.ferry.dataplane.service.Protocol;
import dev.ferry.dataplane.service.ServicePortSpec;
import dev.ferry.dataplane.service.ServiceTable;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;

/**
 * The names reach the DNS server through the sync that swaps in the table: a new Service
 * resolves after the one sync that serves its ClusterIP, not before, and a removed one stops
 * resolving with the sync that removes it. Queried with dig over UDP and TCP.
 */
class DnsSyncTest {
    private static final NodeSpec NODE = new NodeSpec("node-a", List.of(Ipv4.parse("198.18.0.11")),
        List.of(Ipv4Cidr.parse("10.244.0.0/16")), Ipv4Cidr.parse("10.244.1.0/24"), List.of(Ipv4Cidr.parse("10.96.0.0/12")),
        30000, 32767, List.of(), false);

    private final ConntrackTable conntrack = ConntrackTable.inMemory(64, ConntrackTimeouts.kubeProxyDefaults());
    private final ServiceTableHolder holder = new ServiceTableHolder(ServiceTable.empty(NODE));
    private final DnsServer server = DnsServer.start(new DnsServer.Context()
        .addresses(List.of(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0))));
    private final ServiceSync sync = new ServiceSync(NODE, holder, conntrack, ServiceSync.HostState.NONE, (d, q, ok) -> { })
        .names(server::serve);

    @AfterEach
    void close() {
        server.close();
        conntrack.close();
    }

    private static ServicePortSpec api(final String clusterIp) {
        return new ServicePortSpec("default", "api", "http", Protocol.TCP, 80, 0, List.of(Ipv4.parse(clusterIp)), List.of(), List.of(),
            List.of(), false, false, false, 10800, 0, List.of(new EndpointSpec(Ipv4.parse("10.244.1.9"), 8080, true, true, false, true)));
    }

    private static ServiceNames apiNames(final String clusterIp) {
        return new ServiceNames(List.of(new ServiceNames.Entry("default", "api", ServiceNames.Kind.CLUSTER_IP, List.of(Ipv4.parse(clusterIp)),
            List.of(new ServiceNames.Port("http", Protocol.TCP, 80)), List.of(), null)));
    }

    @Test
    void shouldResolveANewServiceWithinTheSyncThatServesIt() {
        Dig.requireDig();
        final InetSocketAddress address = server.udpAddresses().getFirst();
        sync.sync();
        assertEquals("NXDOMAIN", Dig.query(address, false, "api.default.svc.cluster.local", "A").status());

        sync.setDesired(List.of(api("10.96.0.20")), apiNames("10.96.0.20"), System.currentTimeMillis());
        assertEquals("NXDOMAIN", Dig.query(address, false, "api.default.svc.cluster.local", "A").status(),
            "not before the sync: the table does not serve the address yet");
        sync.sync();
        assertEquals(List.of("10.96.0.20"), Dig.query(address, false, "api.default.svc.cluster.local", "A").data());
        assertEquals(List.of("10.96.0.20"), Dig.query(address, true, "api.default.svc.cluster.local", "A").data());
        assertEquals(1, holder.get().size(), "the same sync swapped in the table");

        sync.setDesired(List.of(), ServiceNames.EMPTY, System.currentTimeMillis());
        sync.sync();
        assertEquals("NXDOMAIN", Dig.query(address, true, "api.default.svc.cluster.local", "A").status());
    }
}
