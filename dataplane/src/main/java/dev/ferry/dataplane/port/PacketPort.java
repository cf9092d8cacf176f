package dev.ferry.dataplane.port;

import org.agrona.DirectBuffer;

/**
 * Where packets enter and leave the dataplane: a TUN device, an AF_PACKET socket, or memory
 * in tests. Packets are IP datagrams without a link-layer header; a port that sees frames
 * strips and adds the link layer itself.
 *
 * <p>One thread receives and one thread sends; implementations need not be safe beyond that.
 */
public interface PacketPort extends AutoCloseable {

    /** Hands up to {@code maxPackets} waiting packets to {@code handler}; returns how many. Never blocks. */
    int receive(PacketHandler handler, int maxPackets);

    /** Queues one packet for sending; false when the port cannot take it now (counted by the caller). */
    boolean send(DirectBuffer buffer, int offset, int length);

    /** Pushes queued packets out (ports that batch their sends). */
    default void flush() {
    }

    /** A short name for logs, e.g. "tun:ferry0". */
    String name();

    @Override
    void close();
}
