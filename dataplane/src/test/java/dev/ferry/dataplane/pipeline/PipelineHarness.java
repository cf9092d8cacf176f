package dev.ferry.dataplane.pipeline;

import dev.ferry.conntrack.ConntrackTable;
import dev.ferry.conntrack.ConntrackTimeouts;
import dev.ferry.dataplane.counters.DataplaneCounters;
import dev.ferry.dataplane.nat.SnatRange;
import dev.ferry.dataplane.port.InMemoryPort;
import dev.ferry.dataplane.service.NodeSpec;
import dev.ferry.dataplane.service.ServicePortSpec;
import dev.ferry.dataplane.service.ServiceTable;
import org.agrona.concurrent.CachedEpochClock;

import java.util.List;

/**
 * A whole pipeline over in-memory ports (one per queue), stepped on the test thread with a
 * clock the test moves. {@link #inject} plays the kernel spreading flows over the queues.
 */
final class PipelineHarness implements AutoCloseable {
    final List<InMemoryPort> ports;
    final CachedEpochClock clock = new CachedEpochClock();
    final ConntrackTable conntrack;
    final DataplaneCounters counters;
    final ServiceTableHolder tables;
    final Pipeline pipeline;

    PipelineHarness(final NodeSpec node, final List<ServicePortSpec> services, final int queues, final int conntrackCapacity) {
        this(node, services, queues, conntrackCapacity, false);
    }

    /** @param virtioHeader packets in and out start with a virtio_net_hdr, as on TUN with IFF_VNET_HDR */
    PipelineHarness(final NodeSpec node, final List<ServicePortSpec> services, final int queues, final int conntrackCapacity,
                    final boolean virtioHeader) {
        this(node, services, queues, conntrackCapacity, virtioHeader, SnatRange.defaults(node.nodeIps().getFirst()));
    }

    PipelineHarness(final NodeSpec node, final List<ServicePortSpec> services, final int queues, final int conntrackCapacity,
                    final SnatRange snat) {
        this(node, services, queues, conntrackCapacity, false, snat);
    }

    PipelineHarness(final NodeSpec node, final List<ServicePortSpec> services, final int queues, final int conntrackCapacity,
                    final boolean virtioHeader, final SnatRange snat) {
        ports = java.util.stream.IntStream.range(0, queues).mapToObj(q -> new InMemoryPort(virtioHeader)).toList();
        clock.update(1_700_000_000_000L);
        conntrack = ConntrackTable.inMemory(conntrackCapacity, ConntrackTimeouts.kubeProxyDefaults());
        counters = DataplaneCounters.inMemory(queues);
        tables = new ServiceTableHolder(ServiceTable.compile(node, services));
        pipeline = new Pipeline(new Pipeline.Context()
            .ports(List.copyOf(ports))
            .conntrack(conntrack)
            .tables(tables)
            .snat(snat)
            .counters(counters)
            .clock(clock));
    }

    /** Hands a packet to one queue, chosen by a hash of its addresses as a multi-queue device would. */
    void inject(final byte[] packet) {
        final int ip = ports.getFirst().metadataLength();
        final int h = packet.length >= ip + 20 ? java.util.Arrays.hashCode(java.util.Arrays.copyOfRange(packet, ip + 12, ip + 20)) : 0;
        ports.get(Math.floorMod(h, ports.size())).inject(packet);
    }

    /** Everything every queue sent since the last call. */
    List<byte[]> drainSent() {
        final List<byte[]> out = new java.util.ArrayList<>();
        for (final InMemoryPort port : ports) {
            out.addAll(port.drainSent());
        }
        return out;
    }

    /** Injects one packet, steps the pipeline until idle, returns what it sent (empty when dropped). */
    List<byte[]> send(final byte[] packet) {
        inject(packet);
        pipeline.drain();
        return drainSent();
    }

    @Override
    public void close() {
        pipeline.close();
        conntrack.close();
        counters.close();
    }
}
