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

/** A whole pipeline over an in-memory port, stepped on the test thread with a clock the test moves. */
final class PipelineHarness implements AutoCloseable {
    final InMemoryPort port = new InMemoryPort();
    final CachedEpochClock clock = new CachedEpochClock();
    final ConntrackTable conntrack;
    final DataplaneCounters counters;
    final ServiceTableHolder tables;
    final Pipeline pipeline;

    PipelineHarness(final NodeSpec node, final List<ServicePortSpec> services, final int workers, final int conntrackCapacity) {
        this(node, services, workers, conntrackCapacity, SnatRange.defaults(node.nodeIps().getFirst()));
    }

    PipelineHarness(final NodeSpec node, final List<ServicePortSpec> services, final int workers, final int conntrackCapacity,
                    final SnatRange snat) {
        clock.update(1_700_000_000_000L);
        conntrack = ConntrackTable.inMemory(conntrackCapacity, ConntrackTimeouts.kubeProxyDefaults());
        counters = DataplaneCounters.inMemory(workers);
        tables = new ServiceTableHolder(ServiceTable.compile(node, services));
        pipeline = new Pipeline(new Pipeline.Context()
            .workers(workers)
            .port(port)
            .conntrack(conntrack)
            .tables(tables)
            .snat(snat)
            .counters(counters)
            .clock(clock));
    }

    /** Injects one packet, steps the pipeline until idle, returns what it sent (empty when dropped). */
    List<byte[]> send(final byte[] packet) {
        port.inject(packet);
        pipeline.drain();
        return port.drainSent();
    }

    @Override
    public void close() {
        pipeline.close();
        conntrack.close();
        counters.close();
    }
}
