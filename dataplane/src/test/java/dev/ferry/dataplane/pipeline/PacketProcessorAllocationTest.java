package dev.ferry.dataplane.pipeline;

import dev.ferry.conntrack.ConntrackTable;
import dev.ferry.conntrack.ConntrackTimeouts;
import dev.ferry.dataplane.addr.Ipv4;
import dev.ferry.dataplane.counters.DataplaneCounters;
import dev.ferry.dataplane.lb.ClientIpAffinitySelector;
import dev.ferry.dataplane.lb.ClientIpAffinityTable;
import dev.ferry.dataplane.lb.RandomSelector;
import dev.ferry.dataplane.nat.SnatRange;
import dev.ferry.dataplane.packet.PacketWriter;
import dev.ferry.dataplane.service.ServiceRouter;
import dev.ferry.dataplane.service.ServiceTable;
import org.agrona.concurrent.UnsafeBuffer;
import org.junit.jupiter.api.Test;

import java.lang.management.ManagementFactory;
import java.nio.ByteBuffer;
import java.util.SplittableRandom;

import static dev.ferry.dataplane.service.Fixtures.node;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The worker's per-packet code allocates nothing, on the established-flow path (both
 * directions), on the new-flow path (route, conntrack insert, NAT) and on the masqueraded
 * new-flow path that takes over a finished flow's SNAT tuple: measured with the JVM's
 * per-thread allocation counter over many packets. A speed is never asserted here; the JMH
 * benchmarks in perf measure that.
 */
class PacketProcessorAllocationTest {
    private static final int PACKETS = 200_000;

    @Test
    void shouldNotAllocatePerPacket() {
        final java.lang.management.ThreadMXBean bean = ManagementFactory.getThreadMXBean();
        assertTrue(bean instanceof com.sun.management.ThreadMXBean && ((com.sun.management.ThreadMXBean) bean).isThreadAllocatedMemorySupported(),
            "this JVM has no per-thread allocation counter: the test cannot measure");
        final com.sun.management.ThreadMXBean threads = (com.sun.management.ThreadMXBean) bean;
        threads.setThreadAllocatedMemoryEnabled(true);

        try (ConntrackTable conntrack = ConntrackTable.inMemory(1 << 16, ConntrackTimeouts.kubeProxyDefaults());
             DataplaneCounters counters = DataplaneCounters.inMemory(1)) {
            final ServiceTable table = ServiceTable.compile(node(false), PipelineFlowTableTest.services());
            final PacketProcessor processor = new PacketProcessor(conntrack, new ServiceTableHolder(table),
                new ServiceRouter(new ClientIpAffinitySelector(new ClientIpAffinityTable(1 << 10), new RandomSelector(new SplittableRandom(1)))),
                SnatRange.defaults(Ipv4.parse("198.18.0.11")), counters.queue(0));
            final UnsafeBuffer template = new UnsafeBuffer(ByteBuffer.allocateDirect(128));
            final UnsafeBuffer packet = new UnsafeBuffer(ByteBuffer.allocateDirect(128));
            final int client = Ipv4.parse("10.244.3.7");
            final int clusterIp = Ipv4.parse("10.96.0.10");
            final long threadId = Thread.currentThread().threadId();

            for (int round = 0; round < 3; round++) {
                // new flows: each packet a different source port, its entry deleted afterwards
                long before = threads.getThreadAllocatedBytes(threadId);
                for (int i = 0; i < PACKETS; i++) {
                    final int length = PacketWriter.tcp(template, 0, client, 1024 + (i % 60_000), clusterIp, 80, 0x02, i, 0, 0);
                    packet.putBytes(0, template, 0, length);
                    assertEquals(PacketProcessor.Action.FORWARD, processor.process(packet, 0, length, 1_000L + i));
                    conntrack.delete(conntrack.find(processor.lastDecisionKeyForTest()));
                }
                final long newFlows = threads.getThreadAllocatedBytes(threadId) - before;

                // one established flow, both directions
                final int length = PacketWriter.tcp(template, 0, client, 50_000, clusterIp, 80, 0x02, 1, 0, 0);
                packet.putBytes(0, template, 0, length);
                processor.process(packet, 0, length, 1_000L);
                final int backend = processor.packet().dstAddr();
                final int backendPort = processor.packet().dstPort();
                final UnsafeBuffer replyTemplate = new UnsafeBuffer(ByteBuffer.allocateDirect(128));
                final int replyLength = PacketWriter.tcp(replyTemplate, 0, backend, backendPort, client, 50_000, 0x12, 1, 2, 0);
                before = threads.getThreadAllocatedBytes(threadId);
                for (int i = 0; i < PACKETS; i++) {
                    if ((i & 1) == 0) {
                        packet.putBytes(0, template, 0, length);
                        processor.process(packet, 0, length, 2_000L);
                    } else {
                        packet.putBytes(0, replyTemplate, 0, replyLength);
                        processor.process(packet, 0, replyLength, 2_000L);
                    }
                }
                final long established = threads.getThreadAllocatedBytes(threadId) - before;
                conntrack.delete(conntrack.find(processor.lastDecisionKeyForTest()));
                if (round == 2) {
                    // the counter's own call may allocate a few bytes; one allocation per packet would be megabytes
                    assertEquals(0, newFlows / 4096, "bytes allocated over " + PACKETS + " new flows: " + newFlows);
                    assertEquals(0, established / 4096, "bytes allocated over " + PACKETS + " established packets: " + established);
                }
            }
        }
    }

    @Test
    void shouldNotAllocateWhenTakingOverFinishedFlowsSnatTuples() {
        final com.sun.management.ThreadMXBean threads = (com.sun.management.ThreadMXBean) ManagementFactory.getThreadMXBean();
        threads.setThreadAllocatedMemoryEnabled(true);
        final int snatPorts = 16;
        try (ConntrackTable conntrack = ConntrackTable.inMemory(1 << 10, ConntrackTimeouts.kubeProxyDefaults());
             DataplaneCounters counters = DataplaneCounters.inMemory(1)) {
            final ServiceTable table = ServiceTable.compile(node(false), PipelineFlowTableTest.services());
            final int nodeIp = Ipv4.parse(PipelineFlowTableTest.NODE_IP);
            final PacketProcessor processor = new PacketProcessor(conntrack, new ServiceTableHolder(table),
                new ServiceRouter(new ClientIpAffinitySelector(new ClientIpAffinityTable(1 << 10), new RandomSelector(new SplittableRandom(1)))),
                new SnatRange(nodeIp, 61000, 61000 + snatPorts - 1), counters.queue(0));
            final UnsafeBuffer packet = new UnsafeBuffer(ByteBuffer.allocateDirect(128));
            final int client = Ipv4.parse(PipelineFlowTableTest.OUTSIDE); // outside the cluster: masqueraded
            final long threadId = Thread.currentThread().threadId();

            for (int round = 0; round < 3; round++) {
                final long before = threads.getThreadAllocatedBytes(threadId);
                for (int i = 0; i < PACKETS; i++) {
                    // a SYN to the NodePort, then its reset: every flow after the first 16 takes over a CLOSE tuple
                    final int clientPort = 1024 + (i % 60_000);
                    int length = PacketWriter.tcp(packet, 0, client, clientPort, nodeIp, 30080, 0x02, i, 0, 0);
                    assertEquals(PacketProcessor.Action.FORWARD, processor.process(packet, 0, length, 1_000L));
                    length = PacketWriter.tcp(packet, 0, client, clientPort, nodeIp, 30080, 0x04, i + 1, 0, 0);
                    assertEquals(PacketProcessor.Action.FORWARD, processor.process(packet, 0, length, 1_000L));
                }
                final long allocated = threads.getThreadAllocatedBytes(threadId) - before;
                if (round == 2) {
                    assertTrue(counters.total(dev.ferry.dataplane.counters.CounterType.SNAT_TUPLES_REUSED) > 2L * PACKETS,
                        "the flows took over finished flows' tuples");
                    assertEquals(0, allocated / 4096, "bytes allocated over " + PACKETS + " takeovers: " + allocated);
                }
            }
        }
    }
}
