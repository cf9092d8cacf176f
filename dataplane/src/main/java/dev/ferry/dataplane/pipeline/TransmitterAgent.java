package dev.ferry.dataplane.pipeline;

import dev.ferry.dataplane.counters.CounterType;
import dev.ferry.dataplane.counters.WorkerCounters;
import dev.ferry.dataplane.packet.DropReason;
import dev.ferry.dataplane.port.PacketPort;
import org.agrona.MutableDirectBuffer;
import org.agrona.concurrent.Agent;
import org.agrona.concurrent.MessageHandler;
import org.agrona.concurrent.ringbuffer.RingBuffer;

/** Drains the transmit ring (written by every worker) into the port, one flush per batch. */
public final class TransmitterAgent implements Agent, MessageHandler {
    private static final int BATCH = 64;

    private final RingBuffer tx;
    private final PacketPort port;
    private final WorkerCounters counters;

    public TransmitterAgent(final RingBuffer tx, final PacketPort port, final WorkerCounters counters) {
        this.tx = tx;
        this.port = port;
        this.counters = counters;
    }

    @Override
    public int doWork() {
        final int sent = tx.read(this, BATCH);
        if (sent > 0) {
            port.flush();
        }
        return sent;
    }

    @Override
    public void onMessage(final int msgTypeId, final MutableDirectBuffer buffer, final int index, final int length) {
        if (port.send(buffer, index, length)) {
            counters.increment(CounterType.TX_PACKETS);
        } else {
            counters.drop(DropReason.TX_FAILED);
        }
    }

    @Override
    public String roleName() {
        return "ferry-transmitter";
    }
}
