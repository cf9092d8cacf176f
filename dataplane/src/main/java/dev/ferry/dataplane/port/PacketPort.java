package dev.ferry.dataplane.port;

import org.agrona.DirectBuffer;

/**
 * Where packets enter and leave the dataplane: a TUN device, an AF_PACKET socket, or memory
 * in tests. Each packet is an IP datagram, preceded by {@link #metadataLength()} bytes of
 * the port's own framing (none for TUN).
 *
 * <p>One thread receives and one thread sends; implementations need not be safe beyond that.
 */
public interface PacketPort extends AutoCloseable {

    /** Hands up to {@code maxPackets} waiting packets to {@code handler}; returns how many. Never blocks. */
    int receive(PacketHandler handler, int maxPackets);

    /** Queues one packet for sending; false when the port cannot take it now (counted by the caller). */
    boolean send(DirectBuffer buffer, int offset, int length);

    /**
     * Bytes of port metadata before each IP packet, in what {@link #receive} hands up and what
     * {@link #send} takes (a link-layer header, a virtio_net_hdr). The pipeline carries them
     * along untouched.
     */
    default int metadataLength() {
        return 0;
    }

    /** True when the packet's TCP/UDP checksum is partial, to be completed by the kernel (from its metadata). */
    default boolean checksumPartial(final DirectBuffer buffer, final int metadataOffset) {
        return false;
    }

    /** Writes the metadata of a reply (a reject) to the packet whose metadata is at {@code in}. */
    default void writeReplyMetadata(final DirectBuffer in, final int inOffset, final org.agrona.MutableDirectBuffer out, final int outOffset) {
    }

    /** Pushes queued packets out (ports that batch their sends). */
    default void flush() {
    }

    /** A short name for logs, e.g. "tun:ferry0". */
    String name();

    @Override
    void close();
}
