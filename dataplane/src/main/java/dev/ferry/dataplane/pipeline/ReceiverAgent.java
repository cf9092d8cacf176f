package dev.ferry.dataplane.pipeline;

import dev.ferry.dataplane.counters.CounterType;
import dev.ferry.dataplane.counters.WorkerCounters;
import dev.ferry.dataplane.packet.DropReason;
import dev.ferry.dataplane.port.PacketHandler;
import dev.ferry.dataplane.port.PacketPort;
import org.agrona.MutableDirectBuffer;
import org.agrona.concurrent.Agent;
import org.agrona.concurrent.ringbuffer.RingBuffer;

import java.nio.ByteOrder;

/**
 * Reads packets from the port and hands each to one worker's ring. The worker is chosen by a
 * hash of (source, destination, protocol) only: every packet of one direction of a flow, and
 * every fragment of one datagram, lands on the same worker, so a flow's packets stay in order.
 */
public final class ReceiverAgent implements Agent, PacketHandler {
    /** Message type of a packet on the rings. */
    public static final int MSG_PACKET = 1;
    private static final int BATCH = 64;

    private final PacketPort port;
    private final RingBuffer[] workerRings;
    private final WorkerCounters counters;
    private final int metadataLength;

    public ReceiverAgent(final PacketPort port, final RingBuffer[] workerRings, final WorkerCounters counters) {
        this.port = port;
        this.metadataLength = port.metadataLength();
        this.workerRings = workerRings.clone();
        this.counters = counters;
    }

    @Override
    public int doWork() {
        return port.receive(this, BATCH);
    }

    @Override
    public void onPacket(final MutableDirectBuffer buffer, final int offset, final int length) {
        counters.increment(CounterType.RX_PACKETS);
        final RingBuffer ring = workerRings[workerFor(buffer, offset + metadataLength, length - metadataLength, workerRings.length)];
        if (length > ring.maxMsgLength()) {
            counters.drop(DropReason.OVERSIZED);
        } else if (!ring.write(MSG_PACKET, buffer, offset, length)) {
            counters.drop(DropReason.RING_FULL);
        }
    }

    /** The worker index for a packet: a hash of the IPv4 addresses and protocol (0 for anything shorter). */
    static int workerFor(final MutableDirectBuffer buffer, final int offset, final int length, final int workers) {
        if (workers == 1 || length < 20) {
            return 0;
        }
        int h = buffer.getInt(offset + 12, ByteOrder.BIG_ENDIAN) * 0x9E3779B1;
        h ^= buffer.getInt(offset + 16, ByteOrder.BIG_ENDIAN) * 0x85EBCA77;
        h ^= buffer.getByte(offset + 9);
        h ^= h >>> 15;
        return (h & 0x7FFFFFFF) % workers;
    }

    @Override
    public String roleName() {
        return "ferry-receiver";
    }
}
