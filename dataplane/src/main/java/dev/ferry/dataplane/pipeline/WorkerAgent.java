package dev.ferry.dataplane.pipeline;

import dev.ferry.dataplane.counters.CounterType;
import dev.ferry.dataplane.counters.WorkerCounters;
import dev.ferry.dataplane.packet.DropReason;
import dev.ferry.dataplane.port.PacketPort;
import org.agrona.MutableDirectBuffer;
import org.agrona.concurrent.Agent;
import org.agrona.concurrent.CachedEpochClock;
import org.agrona.concurrent.EpochClock;
import org.agrona.concurrent.MessageHandler;
import org.agrona.concurrent.ringbuffer.RingBuffer;

/**
 * One worker: drains its ring, runs each packet through its {@link PacketProcessor} in place
 * in the ring's memory (past the port's metadata, which travels along untouched), and writes
 * the result to the transmit ring. The clock is read once
 * per duty cycle. A worker with {@code gcSlice > 0} also sweeps that many conntrack entries
 * per duty cycle, so expired flows are reclaimed without a pause.
 */
public final class WorkerAgent implements Agent, MessageHandler {
    private static final int BATCH = 64;

    private final int index;
    private final RingBuffer in;
    private final RingBuffer tx;
    private final PacketProcessor processor;
    private final WorkerCounters counters;
    private final EpochClock clock;
    private final CachedEpochClock now = new CachedEpochClock();
    private final int gcSlice;
    private final PacketPort port;
    private final int metadataLength;

    public WorkerAgent(final int index, final RingBuffer in, final RingBuffer tx, final PacketProcessor processor,
                       final WorkerCounters counters, final EpochClock clock, final int gcSlice, final PacketPort port) {
        this.port = port;
        this.metadataLength = port.metadataLength();
        this.index = index;
        this.in = in;
        this.tx = tx;
        this.processor = processor;
        this.counters = counters;
        this.clock = clock;
        this.gcSlice = gcSlice;
    }

    @Override
    public int doWork() {
        now.update(clock.time());
        int work = in.read(this, BATCH);
        if (gcSlice > 0) {
            final int reclaimed = processor.conntrack().gc(now.time(), gcSlice);
            if (reclaimed > 0) {
                counters.add(CounterType.CONNTRACK_GC_RECLAIMED, reclaimed);
                work += reclaimed;
            }
        }
        return work;
    }

    @Override
    public void onMessage(final int msgTypeId, final MutableDirectBuffer buffer, final int index, final int length) {
        final boolean partial = metadataLength > 0 && port.checksumPartial(buffer, index);
        switch (processor.process(buffer, index + metadataLength, length - metadataLength, now.time(), partial)) {
            case FORWARD -> send(buffer, index, length);
            case REPLY -> {
                // the processor wrote the answer after metadataLength bytes of headroom
                port.writeReplyMetadata(buffer, index, processor.replyBuffer(), 0);
                send(processor.replyBuffer(), 0, metadataLength + processor.replyLength());
            }
            case DROP -> {
                // counted by the processor
            }
        }
    }

    private void send(final MutableDirectBuffer buffer, final int offset, final int length) {
        if (!tx.write(ReceiverAgent.MSG_PACKET, buffer, offset, length)) {
            counters.drop(DropReason.RING_FULL);
        }
    }

    @Override
    public String roleName() {
        return "ferry-worker-" + index;
    }
}
