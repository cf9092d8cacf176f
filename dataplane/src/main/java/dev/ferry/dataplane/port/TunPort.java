package dev.ferry.dataplane.port;

import dev.ferry.dataplane.counters.WorkerCounters;
import dev.ferry.nativeio.tun.TunDevice;
import org.agrona.DirectBuffer;
import org.agrona.MutableDirectBuffer;
import org.agrona.concurrent.UnsafeBuffer;

import java.nio.ByteBuffer;

/**
 * A {@link PacketPort} over one TUN queue ({@code IFF_TUN | IFF_NO_PI}): each read is one IP
 * packet, each write one packet, or with UDP coalescing on one group of a flow's datagrams
 * joined into a super-packet ({@link UdpCoalescer}).
 *
 * <p>Opened with {@code IFF_VNET_HDR} and offloads on ({@link TunDevice#enableOffloads()}),
 * each packet carries a {@code virtio_net_hdr} as port metadata:
 * <pre>
 *  [ virtio_net_hdr 10 ][ IPv4 packet, up to 64 KB: a GSO super-packet ... ]
 *  |&lt;- metadataLength -&gt;|
 * </pre>
 * The kernel then hands over TCP (and UDP, where it has USO) super-packets with a partial
 * checksum instead of cutting and checksumming every segment for us; the processor rewrites the
 * headers, the NAT keeps the partial checksum partial, and the packet goes back whole with its
 * header unchanged ({@link VirtioHeader} says what is accepted). Without the header the kernel
 * hands over complete checksums and no super-packets, and nothing needs finishing either.
 */
public final class TunPort implements PacketPort {
    /** Largest packet a TUN read can return (the IPv4 total length limit). */
    public static final int MAX_PACKET = 65535;

    private final TunDevice device;
    private final int vnetLength;
    private final UnsafeBuffer rx;
    private final UnsafeBuffer txCopy;
    /** Joins a batch's consecutive UDP datagrams of one flow into one USO super-packet; null when off. */
    private final UdpCoalescer udp;
    private long writeErrors;

    /** A port that writes every packet as it is sent. */
    public TunPort(final TunDevice device) {
        this(device, false);
    }

    /**
     * @param coalesceUdp join consecutive UDP datagrams of one flow into one super-packet per
     *                    write ({@link UdpCoalescer}); needs the virtio header and a kernel that
     *                    took {@link TunDevice#TUN_F_USO4} (Linux 6.2 and later)
     */
    public TunPort(final TunDevice device, final boolean coalesceUdp) {
        this.device = device;
        this.vnetLength = device.vnetHeader() ? VirtioHeader.LENGTH : 0;
        this.rx = new UnsafeBuffer(ByteBuffer.allocateDirect(vnetLength + MAX_PACKET));
        this.txCopy = new UnsafeBuffer(ByteBuffer.allocateDirect(vnetLength + MAX_PACKET));
        if (coalesceUdp && vnetLength == 0) {
            throw new IllegalArgumentException(device.name() + ": coalescing UDP needs the virtio header (IFF_VNET_HDR)");
        }
        this.udp = coalesceUdp ? new UdpCoalescer(this::write, 0) : null;
    }

    @Override
    public int receive(final PacketHandler handler, final int maxPackets) {
        int count = 0;
        while (count < maxPackets) {
            final int length = device.read(rx.addressOffset(), rx.capacity());
            if (length <= 0) {
                break; // -EAGAIN: nothing waiting (the fd is non-blocking)
            }
            if (vnetLength > 0) {
                VirtioHeader.handUp(handler, rx, 0, 0, length);
            } else {
                handler.onPacket(rx, 0, length, false); // without the header the kernel hands over complete checksums
            }
            count++;
        }
        return count;
    }

    @Override
    public boolean send(final DirectBuffer buffer, final int offset, final int length) {
        if (udp != null && udp.offer(buffer, offset, length)) {
            return true; // written with its group, at the latest by flush()
        }
        final long address;
        if (buffer.byteArray() != null) {
            // heap memory has no stable address: copy into native memory first
            txCopy.putBytes(0, buffer, offset, length);
            address = txCopy.addressOffset();
        } else {
            address = buffer.addressOffset() + offset;
        }
        return write(address, length);
    }

    private boolean write(final long address, final int length) {
        final int written = device.write(address, length);
        if (written != length) {
            writeErrors++;
            return false;
        }
        return true;
    }

    /** Writes out the pending UDP group. */
    @Override
    public void flush() {
        if (udp != null) {
            udp.flush();
        }
    }

    @Override
    public void countInto(final WorkerCounters counters) {
        if (udp != null) {
            udp.countInto(counters);
        }
    }

    @Override
    public int metadataLength() {
        return vnetLength;
    }

    @Override
    public boolean sendReply(final MutableDirectBuffer buffer, final int offset, final int length) {
        if (vnetLength > 0) {
            VirtioHeader.writeComplete(buffer, offset); // a reject we built whole: no offload to finish
        }
        return send(buffer, offset, length);
    }

    /** Blocks in poll(2) up to {@code timeoutMs} for a packet to read; for an idle queue thread. */
    @Override
    public boolean awaitReadable(final int timeoutMs) {
        return device.awaitReadable(timeoutMs);
    }

    public long writeErrors() {
        return writeErrors;
    }

    @Override
    public String name() {
        return "tun:" + device.name() + (vnetLength > 0 ? " (vnet" + (udp != null ? ", UDP coalescing)" : ")") : "");
    }

    @Override
    public void close() {
        device.close();
    }
}
