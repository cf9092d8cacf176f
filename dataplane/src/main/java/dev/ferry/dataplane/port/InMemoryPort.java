package dev.ferry.dataplane.port;

import org.agrona.DirectBuffer;
import org.agrona.MutableDirectBuffer;
import org.agrona.concurrent.UnsafeBuffer;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.locks.LockSupport;

/**
 * A port over two queues of byte arrays, for tests and trace: {@link #inject} plays the
 * kernel handing a packet in, {@link #drainSent} reads what the dataplane wrote back.
 * It allocates per packet; the dataplane's own path does not.
 */
public final class InMemoryPort implements PacketPort {
    private final ConcurrentLinkedQueue<byte[]> inbound = new ConcurrentLinkedQueue<>();
    private final ConcurrentLinkedQueue<byte[]> sent = new ConcurrentLinkedQueue<>();
    private final UnsafeBuffer receiveBuffer = new UnsafeBuffer(new byte[0]);
    private final boolean virtioHeader;
    private volatile Thread waiter;

    /** A port whose packets are bare IP datagrams. */
    public InMemoryPort() {
        this(false);
    }

    /**
     * @param virtioHeader true: each packet starts with a {@code virtio_net_hdr} as port
     *                     metadata, checked and used as the TUN port does with {@code IFF_VNET_HDR}
     */
    public InMemoryPort(final boolean virtioHeader) {
        this.virtioHeader = virtioHeader;
    }

    @Override
    public int metadataLength() {
        return virtioHeader ? VirtioHeader.LENGTH : 0;
    }

    @Override
    public boolean sendReply(final MutableDirectBuffer buffer, final int offset, final int length) {
        if (virtioHeader) {
            VirtioHeader.writeComplete(buffer, offset);
        }
        return send(buffer, offset, length);
    }

    /** Queues a packet as if the kernel had written it into the device (any thread). */
    public void inject(final byte[] packet) {
        inbound.add(packet.clone());
        final Thread w = waiter;
        if (w != null) {
            LockSupport.unpark(w);
        }
    }

    /** Parks the calling thread until a packet is injected or the timeout passes (what poll(2) does for a real port). */
    @Override
    public boolean awaitReadable(final int timeoutMs) {
        waiter = Thread.currentThread();
        try {
            if (inbound.isEmpty()) {
                LockSupport.parkNanos(this, timeoutMs * 1_000_000L);
            }
            return !inbound.isEmpty();
        } finally {
            waiter = null;
        }
    }

    /** Removes and returns every packet the dataplane sent, oldest first. */
    public List<byte[]> drainSent() {
        final List<byte[]> out = new ArrayList<>();
        byte[] packet;
        while ((packet = sent.poll()) != null) {
            out.add(packet);
        }
        return out;
    }

    @Override
    public int receive(final PacketHandler handler, final int maxPackets) {
        int count = 0;
        byte[] packet;
        while (count < maxPackets && (packet = inbound.poll()) != null) {
            receiveBuffer.wrap(packet);
            if (virtioHeader) {
                VirtioHeader.handUp(handler, receiveBuffer, 0, 0, packet.length);
            } else {
                handler.onPacket(receiveBuffer, 0, packet.length, false);
            }
            count++;
        }
        return count;
    }

    @Override
    public boolean send(final DirectBuffer buffer, final int offset, final int length) {
        final byte[] copy = new byte[length];
        buffer.getBytes(offset, copy);
        sent.add(copy);
        return true;
    }

    @Override
    public String name() {
        return "memory";
    }

    @Override
    public void close() {
        inbound.clear();
    }
}
