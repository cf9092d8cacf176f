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
import dev.ferry.dataplane.port.PacketHandler;
import dev.ferry.dataplane.port.PacketPort;
import dev.ferry.dataplane.port.VirtioHeader;
import dev.ferry.dataplane.service.ServiceRouter;
import dev.ferry.dataplane.service.ServiceTable;
import dev.ferry.nativeio.virtio.VirtioNetHdr;
import org.agrona.DirectBuffer;
import org.agrona.MutableDirectBuffer;
import org.agrona.concurrent.CachedEpochClock;
import org.agrona.concurrent.UnsafeBuffer;
import org.junit.jupiter.api.Test;

import java.lang.management.ManagementFactory;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;

import static dev.ferry.dataplane.service.Fixtures.node;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * A queue's whole duty cycle allocates nothing: receive a batch, check each packet's
 * virtio_net_hdr, process it in place (an established flow, both directions, partial
 * checksums), send, flush, and the conntrack GC slice. Over a port that replays packets from
 * preallocated memory, measured with the JVM's per-thread allocation counter.
 */
class QueueAgentAllocationTest {
    private static final int CYCLES = 5_000;

    @Test
    void shouldNotAllocatePerDutyCycle() {
        final com.sun.management.ThreadMXBean threads = (com.sun.management.ThreadMXBean) ManagementFactory.getThreadMXBean();
        assertTrue(threads.isThreadAllocatedMemorySupported(), "this JVM has no per-thread allocation counter: the test cannot measure");
        threads.setThreadAllocatedMemoryEnabled(true);
        try (ConntrackTable conntrack = ConntrackTable.inMemory(1 << 12, ConntrackTimeouts.kubeProxyDefaults());
             DataplaneCounters counters = DataplaneCounters.inMemory(1)) {
            final ReplayPort port = new ReplayPort();
            final ServiceTable table = ServiceTable.compile(node(false), PipelineFlowTableTest.services());
            final PacketProcessor processor = new PacketProcessor(conntrack, new ServiceTableHolder(table),
                new ServiceRouter(new ClientIpAffinitySelector(new ClientIpAffinityTable(1 << 10))),
                SnatRange.defaults(Ipv4.parse("198.18.0.11")), counters.queue(0), port.metadataLength());
            final CachedEpochClock clock = new CachedEpochClock();
            clock.update(1_000);
            final QueueAgent queue = new QueueAgent(0, port, processor, counters.queue(0), clock, 64);
            final long threadId = Thread.currentThread().threadId();

            port.load(0, "10.244.3.7", 50_000, "10.96.0.10", 80, 0x02);
            queue.doWork(); // the SYN makes the flow; learn its backend from what was sent
            final int backend = port.sent.getInt(VirtioHeader.LENGTH + 16, ByteOrder.BIG_ENDIAN);
            final int backendPort = port.sent.getShort(VirtioHeader.LENGTH + 22, ByteOrder.BIG_ENDIAN) & 0xFFFF;
            port.load(0, "10.244.3.7", 50_000, "10.96.0.10", 80, 0x10);
            port.load(1, Ipv4.format(backend), backendPort, "10.244.3.7", 50_000, 0x10);

            for (int round = 0; round < 3; round++) {
                final long before = threads.getThreadAllocatedBytes(threadId);
                for (int i = 0; i < CYCLES; i++) {
                    queue.doWork();
                }
                final long allocated = threads.getThreadAllocatedBytes(threadId) - before;
                if (round == 2) {
                    assertEquals(0, allocated / 4096, "bytes allocated over " + CYCLES + " duty cycles of "
                        + QueueAgent.BATCH + " packets: " + allocated);
                }
            }
            assertTrue(counters.queue(0).get(CounterType.TRANSLATED) >= 3L * CYCLES * QueueAgent.BATCH, "the established path ran");
            assertEquals(0, counters.queue(0).get(DropReason.BAD_VNET_HEADER));
            assertEquals(0, counters.queue(0).get(DropReason.TX_FAILED));
            assertEquals((3L * CYCLES + 1) * QueueAgent.BATCH, counters.queue(0).get(CounterType.TX_PACKETS));
        }
    }

    /** Hands up {@link QueueAgent#BATCH} packets per call, alternating two templates copied into native memory; sends are kept, not copied. */
    private static final class ReplayPort implements PacketPort {
        final UnsafeBuffer[] templates = {new UnsafeBuffer(ByteBuffer.allocateDirect(256)), new UnsafeBuffer(ByteBuffer.allocateDirect(256))};
        final int[] lengths = new int[2];
        final UnsafeBuffer rx = new UnsafeBuffer(ByteBuffer.allocateDirect(256));
        final UnsafeBuffer sent = new UnsafeBuffer(ByteBuffer.allocateDirect(256));
        int templateCount;

        /** A TCP packet behind a virtio_net_hdr with a partial checksum (what TUN with offloads hands over). */
        void load(final int slot, final String src, final int sport, final String dst, final int dport, final int flags) {
            final UnsafeBuffer t = templates[slot];
            lengths[slot] = VirtioHeader.LENGTH
                + PacketWriter.tcp(t, VirtioHeader.LENGTH, Ipv4.parse(src), sport, Ipv4.parse(dst), dport, flags, 1, 1, 100);
            t.setMemory(0, VirtioHeader.LENGTH, (byte) 0);
            t.putByte(VirtioNetHdr.FLAGS, (byte) VirtioNetHdr.F_NEEDS_CSUM);
            t.putShort(VirtioNetHdr.CSUM_START, (short) 20, ByteOrder.LITTLE_ENDIAN);
            t.putShort(VirtioNetHdr.CSUM_OFFSET, (short) 16, ByteOrder.LITTLE_ENDIAN);
            templateCount = Math.max(templateCount, slot + 1);
        }

        @Override
        public int receive(final PacketHandler handler, final int maxPackets) {
            for (int i = 0; i < maxPackets; i++) {
                final int slot = i % templateCount;
                rx.putBytes(0, templates[slot], 0, lengths[slot]);
                VirtioHeader.handUp(handler, rx, 0, 0, lengths[slot]); // as TunPort with offloads does
            }
            return maxPackets;
        }

        @Override
        public boolean send(final DirectBuffer buffer, final int offset, final int length) {
            sent.putBytes(0, buffer, offset, Math.min(length, sent.capacity()));
            return true;
        }

        @Override
        public boolean awaitReadable(final int timeoutMs) {
            return true;
        }

        @Override
        public int metadataLength() {
            return VirtioHeader.LENGTH;
        }

        @Override
        public boolean sendReply(final MutableDirectBuffer buffer, final int offset, final int length) {
            VirtioHeader.writeComplete(buffer, offset);
            return send(buffer, offset, length);
        }

        @Override
        public String name() {
            return "replay";
        }

        @Override
        public void close() {
        }
    }
}
