package dev.ferry.dataplane.port;

import dev.ferry.dataplane.counters.WorkerCounters;
import dev.ferry.dataplane.packet.DropReason;
import org.agrona.DirectBuffer;
import org.agrona.MutableDirectBuffer;

/**
 * One queue of the device where packets enter and leave the dataplane: a TUN queue, an
 * AF_PACKET socket of a fanout group, or memory in tests. Each packet is an IP datagram,
 * preceded by {@link #metadataLength()} bytes of the port's own framing (none for plain TUN).
 *
 * <p>One thread owns a port: it receives a batch, processes each packet in place and sends it
 * back from the same thread (run to completion), so every method here is called by that one
 * thread and implementations need not be thread-safe. The port alone reads and writes its
 * metadata: it checks what it receives (refusing malformed frames through
 * {@link PacketHandler#onRefused}) and writes what a reply needs ({@link #sendReply}).
 * Several queues of one device are several ports, each with its own thread.
 */
public interface PacketPort extends AutoCloseable {

    /**
     * Hands up to {@code maxPackets} waiting packets to {@code handler}, one at a time; returns
     * how many. Never blocks. The packet's memory is valid only during the call: the handler
     * rewrites it in place and {@link #send}s it (which copies or writes it out) before returning.
     */
    int receive(PacketHandler handler, int maxPackets);

    /** Queues one packet for sending; false when the port cannot take it now (counted by the caller). */
    boolean send(DirectBuffer buffer, int offset, int length);

    /**
     * Blocks in the kernel (poll(2) on the queue's descriptor) until a packet waits to be
     * received or {@code timeoutMs} pass; true when one waits. For the queue thread's idle
     * strategy, after a short spin found nothing. Ports without a descriptor wait as they can.
     */
    boolean awaitReadable(int timeoutMs);

    /**
     * Bytes of port metadata before each IP packet, in what {@link #receive} hands up and what
     * {@link #send} takes (a link-layer header, a virtio_net_hdr). The pipeline carries them
     * along untouched.
     */
    default int metadataLength() {
        return 0;
    }

    /**
     * Sends a packet the handler built in answer to the one it is being handed (a reject),
     * during {@link PacketHandler#onPacket}: {@code length} bytes at {@code offset}, the first
     * {@link #metadataLength()} of them headroom that the port fills in, since a reply's metadata
     * follows from the packet it answers (the Ethernet header turned around, a virtio_net_hdr
     * saying the packet is complete). False when the port cannot take it now.
     */
    boolean sendReply(MutableDirectBuffer buffer, int offset, int length);

    /** Pushes queued packets out (ports that batch or coalesce their sends); called once per received batch. */
    default void flush() {
    }

    /**
     * Where the port counts what it alone sees: datagrams it coalesced, and packets {@link #send}
     * took that a later write lost ({@link DropReason#TX_FAILED}). Called once, by the queue that
     * owns the port, before its first packet.
     */
    default void countInto(final WorkerCounters counters) {
    }

    /** A short name for logs, e.g. "tun:ferry0". */
    String name();

    @Override
    void close();
}
