package dev.ferry.dataplane.port;

import dev.ferry.nativeio.tun.TunDevice;
import org.agrona.DirectBuffer;
import org.agrona.concurrent.UnsafeBuffer;

import java.nio.ByteBuffer;

/**
 * A {@link PacketPort} over one TUN queue ({@code IFF_TUN | IFF_NO_PI}): each read is one IP
 * packet, each write one packet. The kernel hands over complete checksums and no GSO
 * super-frames on TUN without {@code IFF_VNET_HDR}, so nothing needs finishing here.
 */
public final class TunPort implements PacketPort {
    /** Largest packet a TUN read can return (the IPv4 total length limit). */
    public static final int MAX_PACKET = 65535;

    private final TunDevice device;
    private final UnsafeBuffer rx = new UnsafeBuffer(ByteBuffer.allocateDirect(MAX_PACKET));
    private final UnsafeBuffer txCopy = new UnsafeBuffer(ByteBuffer.allocateDirect(MAX_PACKET));
    private long writeErrors;

    public TunPort(final TunDevice device) {
        this.device = device;
    }

    @Override
    public int receive(final PacketHandler handler, final int maxPackets) {
        int count = 0;
        while (count < maxPackets) {
            final int length = device.read(rx.addressOffset(), MAX_PACKET);
            if (length <= 0) {
                break; // -EAGAIN: nothing waiting (the fd is non-blocking)
            }
            handler.onPacket(rx, 0, length);
            count++;
        }
        return count;
    }

    @Override
    public boolean send(final DirectBuffer buffer, final int offset, final int length) {
        final long address;
        if (buffer.byteArray() != null) {
            // heap memory has no stable address: copy into native memory first
            txCopy.putBytes(0, buffer, offset, length);
            address = txCopy.addressOffset();
        } else {
            address = buffer.addressOffset() + offset;
        }
        final int written = device.write(address, length);
        if (written != length) {
            writeErrors++;
            return false;
        }
        return true;
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
        return "tun:" + device.name();
    }

    @Override
    public void close() {
        device.close();
    }
}
