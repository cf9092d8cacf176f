package dev.ferry.dataplane.port;

import org.agrona.MutableDirectBuffer;

/** Receives one packet (an IPv4 or IPv6 datagram, no link-layer header) from a {@link PacketPort}. */
@FunctionalInterface
public interface PacketHandler {
    void onPacket(MutableDirectBuffer buffer, int offset, int length);
}
