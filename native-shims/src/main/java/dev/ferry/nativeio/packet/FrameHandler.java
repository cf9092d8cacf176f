package dev.ferry.nativeio.packet;

import java.lang.foreign.MemorySegment;

/**
 * Receives one frame from a {@link PacketSocket}'s RX ring, in place: the bytes are valid only
 * during the call (the block goes back to the kernel afterwards). The absolute address of the
 * frame is {@code memory.address() + offset}, for wrapping in an off-heap buffer.
 */
@FunctionalInterface
public interface FrameHandler {
    /**
     * @param memory the ring mapping
     * @param offset where the frame starts in {@code memory}: the Ethernet header, or the
     *               10-byte {@code virtio_net_hdr} before it when the socket uses one
     * @param length bytes from {@code offset}, including that header
     * @param status the frame's {@code tp_status} bits ({@link PacketSocket#TP_STATUS_CSUMNOTREADY},
     *               {@link PacketSocket#TP_STATUS_CSUM_VALID}, {@link PacketSocket#TP_STATUS_VLAN_VALID})
     */
    void onFrame(MemorySegment memory, long offset, int length, int status);
}
