package dev.ferry.dataplane.pipeline;

import dev.ferry.dataplane.counters.CounterType;
import dev.ferry.dataplane.counters.WorkerCounters;
import dev.ferry.dataplane.packet.DropReason;
import dev.ferry.dataplane.port.PacketHandler;
import dev.ferry.dataplane.port.PacketPort;
import org.agrona.MutableDirectBuffer;
import org.agrona.concurrent.Agent;
import org.agrona.concurrent.CachedEpochClock;
import org.agrona.concurrent.EpochClock;

/**
 * One queue, run to completion: reads a batch from its port, runs each packet through its
 * {@link PacketProcessor} in place in the port's memory (past the port's metadata, which
 * travels along untouched), sends it back, and flushes the port once per batch. There is no
 * handoff between threads on the packet path: this agent's thread is the port's only user. The
 * agent never reads or writes the metadata: the port checks it and says whether the checksum is
 * partial ({@link PacketHandler#onPacket}), or refuses the frame ({@link PacketHandler#onRefused}),
 * and fills in a reply's ({@link PacketPort#sendReply}).
 *
 * <p>The clock is read once per duty cycle. A queue with {@code gcSlice > 0} also sweeps that
 * many conntrack entries per duty cycle, so expired flows are reclaimed without a pause; its
 * idle strategy wakes it at least every {@link Pipeline.Context#idlePollTimeoutMs()} for that.
 */
public final class QueueAgent implements Agent, PacketHandler {
    /** Packets read per duty cycle, and so sent per flush. */
    public static final int BATCH = 64;

    private final int index;
    private final PacketPort port;
    private final PacketProcessor processor;
    private final WorkerCounters counters;
    private final EpochClock clock;
    private final CachedEpochClock now = new CachedEpochClock();
    private final int gcSlice;
    private final int metadataLength;
    private final org.agrona.ErrorHandler errorHandler;
    private boolean errorReported;

    public QueueAgent(final int index, final PacketPort port, final PacketProcessor processor, final WorkerCounters counters,
                      final EpochClock clock, final int gcSlice) {
        this(index, port, processor, counters, clock, gcSlice, Throwable::printStackTrace);
    }

    /** @param errorHandler told about the first packet of this queue whose processing threw */
    public QueueAgent(final int index, final PacketPort port, final PacketProcessor processor, final WorkerCounters counters,
                      final EpochClock clock, final int gcSlice, final org.agrona.ErrorHandler errorHandler) {
        this.errorHandler = errorHandler;
        this.index = index;
        this.port = port;
        this.metadataLength = port.metadataLength();
        this.processor = processor;
        this.counters = counters;
        this.clock = clock;
        this.gcSlice = gcSlice;
        port.countInto(counters);
    }

    @Override
    public int doWork() {
        now.update(clock.time());
        int work = port.receive(this, BATCH);
        if (work > 0) {
            port.flush();
        }
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
    public void onPacket(final MutableDirectBuffer buffer, final int offset, final int length, final boolean checksumPartial) {
        counters.increment(CounterType.RX_PACKETS);
        final PacketProcessor.Action action;
        try {
            action = processor.process(buffer, offset + metadataLength, length - metadataLength, now.time(), checksumPartial);
        } catch (final RuntimeException e) {
            // a bug must cost one packet, not the rest of the batch or the queue's thread
            counters.drop(DropReason.PROCESSING_ERROR);
            if (!errorReported) {
                errorReported = true;
                errorHandler.onError(new IllegalStateException("queue " + index + ": processing a packet of " + length
                    + " bytes threw; it was dropped (later ones are only counted as processing_error)", e));
            }
            return;
        }
        switch (action) {
            case FORWARD -> counted(port.send(buffer, offset, length));
            // the processor wrote the answer after metadataLength bytes of headroom, for the port to fill in
            case REPLY -> counted(port.sendReply(processor.replyBuffer(), 0, metadataLength + processor.replyLength()));
            case DROP -> {
                // counted by the processor
            }
        }
    }

    @Override
    public void onRefused(final DropReason reason) {
        counters.increment(CounterType.RX_PACKETS);
        counters.drop(reason); // a malformed virtio header or GSO frame: never passed on
    }

    private void counted(final boolean sent) {
        if (sent) {
            counters.increment(CounterType.TX_PACKETS);
        } else {
            counters.drop(DropReason.TX_FAILED);
        }
    }

    public PacketPort port() {
        return port;
    }

    public PacketProcessor processor() {
        return processor;
    }

    @Override
    public String roleName() {
        return "ferry-queue-" + index;
    }
}
