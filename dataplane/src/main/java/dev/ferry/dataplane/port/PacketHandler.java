package dev.ferry.dataplane.port;

import org.agrona.MutableDirectBuffer;

/** Receives one packet from a {@link PacketPort}: the port's metadata ({@link PacketPort#metadataLength()} bytes), then the IP datagram. */
@FunctionalInterface
public interface PacketHandler {
    void onPacket(MutableDirectBuffer buffer, int offset, int length);
}
