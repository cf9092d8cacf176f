package dev.ferry.dataplane.port;

import dev.ferry.dataplane.counters.WorkerCounters;
import dev.ferry.nativeio.packet.FrameHandler;
import dev.ferry.nativeio.packet.PacketSocket;
import org.agrona.DirectBuffer;
import org.agrona.MutableDirectBuffer;
import org.agrona.concurrent.UnsafeBuffer;

import java.lang.foreign.MemorySegment;
import java.nio.ByteOrder;

/**
 * A {@link PacketPort} over an AF_PACKET socket with TPACKET_V2 rings on ferry0p, the far end
 * of the ferry0 veth pair. Frames keep their link-layer framing as port metadata, so nothing
 * is copied to strip or add it:
 *
 * <pre>
 *  [ virtio_net_hdr 10 (when vnet headers are on) ][ Ethernet 14 ][ IPv4 packet ... ]
 *  |&lt;------------------- metadataLength() ------------------&gt;|
 * </pre>
 *
 * On receive the two MAC addresses are swapped in place, so the same metadata is right for
 * sending the packet back to ferry0. The virtio_net_hdr travels with the packet: checksum
 * offload (NEEDS_CSUM, a partial L4 checksum the kernel completes) and GSO super-frames
 * pass through intact, and the NAT keeps a partial checksum partial. Frames that are not
 * IPv4 are not handed up (ferry0 carries only what the routes send it). With UDP coalescing on,
 * a batch's consecutive datagrams of one flow go into one TX slot as one super-frame
 * ({@link UdpCoalescer}).
 */
public final class PacketSocketPort implements PacketPort {
    private static final int ETHERNET_HEADER = 14;
    private static final int ETHERTYPE_OFFSET = 12;
    private static final int ETHERTYPE_IPV4 = 0x0800;

    private final PacketSocket socket;
    private final Runnable alsoOnClose;
    private final int vnetLength;
    private final UnsafeBuffer frame = new UnsafeBuffer(0, 0);
    private final FrameHandler onFrame = this::onFrame;
    /** Joins a batch's consecutive UDP datagrams of one flow into one super-frame; null when off. */
    private final UdpCoalescer udp;
    private PacketHandler handler;
    private long nonIpFrames;
    private long txFull;

    public PacketSocketPort(final PacketSocket socket) {
        this(socket, () -> {
        }, false);
    }

    /**
     * @param alsoOnClose released after the socket, e.g. the descriptor holding ferry0p's namespace
     * @param coalesceUdp join consecutive UDP datagrams of one flow into one super-frame per TX
     *                    slot ({@link UdpCoalescer}); needs the virtio header and a kernel that
     *                    knows virtio's UDP_L4 GSO type (Linux 6.2 and later)
     */
    public PacketSocketPort(final PacketSocket socket, final Runnable alsoOnClose, final boolean coalesceUdp) {
        this.socket = socket;
        this.alsoOnClose = alsoOnClose;
        this.vnetLength = socket.vnetHeader() ? VirtioHeader.LENGTH : 0;
        if (coalesceUdp && vnetLength == 0) {
            throw new IllegalArgumentException(socket.interfaceName() + ": coalescing UDP needs the virtio header (PACKET_VNET_HDR)");
        }
        this.udp = coalesceUdp ? new UdpCoalescer(this::queue, ETHERNET_HEADER) : null;
    }

    @Override
    public int metadataLength() {
        return vnetLength + ETHERNET_HEADER;
    }

    /** Turns the Ethernet header of the frame being handled around for the reply: back to ferry0. */
    @Override
    public boolean sendReply(final MutableDirectBuffer buffer, final int offset, final int length) {
        if (vnetLength > 0) {
            VirtioHeader.writeComplete(buffer, offset); // a reject we built whole: no offload to finish
        }
        // the received frame's MACs are already swapped (onFrame), so its header is the reply's
        buffer.putBytes(offset + vnetLength, frame, vnetLength, ETHERNET_HEADER);
        return send(buffer, offset, length);
    }

    @Override
    public int receive(final PacketHandler handler, final int maxPackets) {
        this.handler = handler;
        return socket.receiveBatch(onFrame, maxPackets);
    }

    private void onFrame(final MemorySegment memory, final long offset, final int length, final int status) {
        frame.wrap(memory.address() + offset, length);
        final int ethernet = vnetLength;
        if (length < vnetLength + ETHERNET_HEADER
            || (frame.getShort(ethernet + ETHERTYPE_OFFSET, ByteOrder.BIG_ENDIAN) & 0xFFFF) != ETHERTYPE_IPV4) {
            nonIpFrames++;
            return;
        }
        // swap destination and source MAC: the packet goes back the way it came
        final long dstHigh = frame.getInt(ethernet);
        final short dstLow = frame.getShort(ethernet + 4);
        frame.putInt(ethernet, frame.getInt(ethernet + 6));
        frame.putShort(ethernet + 4, frame.getShort(ethernet + 10));
        frame.putInt(ethernet + 6, (int) dstHigh);
        frame.putShort(ethernet + 10, dstLow);
        if (vnetLength > 0) {
            VirtioHeader.handUp(handler, frame, 0, ETHERNET_HEADER, length);
        } else {
            handler.onPacket(frame, 0, length, false);
        }
    }

    @Override
    public boolean send(final DirectBuffer buffer, final int offset, final int length) {
        if (buffer.byteArray() != null) {
            throw new IllegalArgumentException("PacketSocketPort sends from native memory only");
        }
        if (udp != null && udp.offer(buffer, offset, length)) {
            return true; // queued with its group, at the latest by flush()
        }
        return queue(buffer.addressOffset() + offset, length);
    }

    /** Copies a frame into the TX ring, pushing the ring out once when it is full. */
    private boolean queue(final long address, final int length) {
        if (socket.queueTx(address, length)) {
            return true;
        }
        socket.flushTx(); // slots come back as the kernel sends them
        if (socket.queueTx(address, length)) {
            return true;
        }
        txFull++;
        return false;
    }

    /** Blocks in poll(2) up to {@code timeoutMs} until the RX ring holds a frame; for an idle queue thread. */
    @Override
    public boolean awaitReadable(final int timeoutMs) {
        return socket.awaitReadable(timeoutMs);
    }

    @Override
    public void flush() {
        if (udp != null) {
            udp.flush(); // into the ring, before the ring goes out
        }
        socket.flushTx();
    }

    @Override
    public void countInto(final WorkerCounters counters) {
        if (udp != null) {
            udp.countInto(counters);
        }
    }

    /** Frames that were not IPv4 (not handed up). */
    public long nonIpFrames() {
        return nonIpFrames;
    }

    public long txFull() {
        return txFull;
    }

    @Override
    public String name() {
        return "packet:" + socket.interfaceName() + (vnetLength > 0 ? " (vnet" + (udp != null ? ", UDP coalescing)" : ")") : "");
    }

    @Override
    public void close() {
        socket.close();
        alsoOnClose.run();
    }
}
