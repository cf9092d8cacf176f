package dev.ferry.dataplane.pipeline;

import dev.ferry.conntrack.ConntrackTable;
import dev.ferry.conntrack.ConntrackTimeouts;
import dev.ferry.dataplane.addr.Ipv4;
import dev.ferry.dataplane.counters.CounterType;
import dev.ferry.dataplane.counters.DataplaneCounters;
import dev.ferry.dataplane.lb.ClientIpAffinitySelector;
import dev.ferry.dataplane.lb.ClientIpAffinityTable;
import dev.ferry.dataplane.nat.SnatRange;
import dev.ferry.dataplane.packet.DropReason;
import dev.ferry.dataplane.packet.PacketWriter;
import dev.ferry.dataplane.port.InMemoryPort;
import dev.ferry.dataplane.service.ServiceRouter;
import org.agrona.concurrent.CachedEpochClock;
import org.agrona.concurrent.UnsafeBuffer;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** A packet whose processing throws costs that packet only: counted, reported once, and the queue goes on. */
class QueueAgentFaultTest {
    private static byte[] syn(final int clientPort) {
        final UnsafeBuffer b = new UnsafeBuffer(new byte[128]);
        final int length = PacketWriter.tcp(b, 0, Ipv4.parse("10.244.1.5"), clientPort, Ipv4.parse("10.96.0.10"), 80, 0x02, 1, 0, 64);
        final byte[] out = new byte[length];
        b.getBytes(0, out);
        return out;
    }

    @Test
    void shouldCountAThrowingPacketAndGoOnWithTheBatch() {
        final List<Throwable> reported = new ArrayList<>();
        try (ConntrackTable conntrack = ConntrackTable.inMemory(64, ConntrackTimeouts.kubeProxyDefaults());
             DataplaneCounters counters = DataplaneCounters.inMemory(1)) {
            final InMemoryPort port = new InMemoryPort();
            // no service table at all: routing a new flow throws, as a bug in the router would
            final PacketProcessor processor = new PacketProcessor(conntrack, new ServiceTableHolder(null),
                new ServiceRouter(new ClientIpAffinitySelector(new ClientIpAffinityTable(16))),
                SnatRange.defaults(Ipv4.parse("198.18.0.11")), counters.queue(0), port.metadataLength());
            final CachedEpochClock clock = new CachedEpochClock();
            clock.update(1_000);
            final QueueAgent queue = new QueueAgent(0, port, processor, counters.queue(0), clock, 0, reported::add);

            port.inject(syn(40_000));
            port.inject(new byte[] {0x45, 0, 0}); // truncated: dropped before any routing
            port.inject(syn(40_001));
            assertEquals(3, queue.doWork(), "the whole batch was read");

            assertEquals(3, counters.queue(0).get(CounterType.RX_PACKETS));
            assertEquals(2, counters.queue(0).get(DropReason.PROCESSING_ERROR));
            assertEquals(1, counters.queue(0).get(DropReason.TRUNCATED_IP_HEADER), "the packet after the failing one was processed");
            assertEquals(1, reported.size(), "the first failure is reported, later ones only counted");
            assertTrue(reported.getFirst().getCause() instanceof NullPointerException, String.valueOf(reported.getFirst()));
            assertTrue(port.drainSent().isEmpty(), "nothing half-processed is sent");
        }
    }
}
