package dev.ferry.dataplane.port;

import dev.ferry.dataplane.packet.DropReason;
import org.agrona.MutableDirectBuffer;

/**
 * Receives what a {@link PacketPort} reads. The port owns its metadata (a virtio_net_hdr, a
 * link-layer header): it checks it and says what it means, so a handler never reads it. A frame
 * whose metadata the port refuses comes as {@link #onRefused}, every other one as
 * {@link #onPacket}.
 */
public interface PacketHandler {
    /**
     * One frame: {@link PacketPort#metadataLength()} bytes of the port's metadata at {@code offset},
     * then the IP datagram; {@code length} counts both. The handler rewrites the datagram in place
     * and hands the frame back with {@link PacketPort#send}, or answers it with
     * {@link PacketPort#sendReply}, before returning.
     *
     * @param checksumPartial the datagram's TCP/UDP checksum is partial, to be completed by the
     *                        kernel after us (its metadata said so)
     */
    void onPacket(MutableDirectBuffer buffer, int offset, int length, boolean checksumPartial);

    /** A frame the port read and did not hand up: its metadata is malformed ({@code reason} says how). */
    void onRefused(DropReason reason);
}
