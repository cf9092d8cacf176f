package dev.ferry.dataplane.packet;

import dev.ferry.nativeio.IpProtocol;
import org.agrona.concurrent.UnsafeBuffer;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

import java.nio.ByteOrder;
import java.util.List;
import java.util.function.Consumer;

import static org.junit.jupiter.api.Assertions.assertEquals;

/**
 * The malformed-packet corpus: each entry is a good packet broken in one way, and the reason
 * the parser must give. The processor-level test sends the same corpus through a worker.
 */
public class MalformedPacketTest {

    /** One corpus entry: a name, the bytes, and the expected drop reason (null = well formed). */
    public record Case(String name, byte[] bytes, DropReason expected) {
        @Override
        public String toString() {
            return name;
        }
    }

    public static List<Case> corpus() {
        return List.of(
            new Case("empty", new byte[0], DropReason.TRUNCATED_IP_HEADER),
            new Case("19 bytes", cut(udp(), 19), DropReason.TRUNCATED_IP_HEADER),
            new Case("version 5", edit(udp(), b -> b.putByte(0, (byte) 0x55)), DropReason.BAD_IP_VERSION),
            new Case("IHL 4", edit(udp(), b -> b.putByte(0, (byte) 0x44)), DropReason.BAD_IHL),
            new Case("IHL 15 past buffer", cut(edit(udp(), b -> b.putByte(0, (byte) 0x4F)), 40), DropReason.BAD_IHL),
            new Case("total length past buffer", edit(udp(), b -> b.putShort(2, (short) 1500, ByteOrder.BIG_ENDIAN)), DropReason.BAD_TOTAL_LENGTH),
            new Case("total length below header", edit(udp(), b -> b.putShort(2, (short) 12, ByteOrder.BIG_ENDIAN)), DropReason.BAD_TOTAL_LENGTH),
            new Case("TCP header truncated", tcpCut(30), DropReason.BAD_TCP_HEADER),
            new Case("TCP data offset 4", edit(tcp(), b -> b.putByte(32, (byte) 0x40)), DropReason.BAD_TCP_HEADER),
            new Case("TCP data offset past packet", edit(tcp(), b -> b.putByte(32, (byte) 0xF0)), DropReason.BAD_TCP_HEADER),
            new Case("UDP length zero", edit(udp(), b -> b.putShort(24, (short) 0)), DropReason.BAD_UDP_LENGTH),
            new Case("UDP length past packet", edit(udp(), b -> b.putShort(24, (short) 400, ByteOrder.BIG_ENDIAN)), DropReason.BAD_UDP_LENGTH),
            new Case("UDP header truncated", udpHeaderCut(), DropReason.BAD_UDP_LENGTH),
            new Case("SCTP header truncated", sctpCut(), DropReason.BAD_SCTP_HEADER),
            new Case("ICMP truncated", icmpCut(), DropReason.BAD_ICMP),
            new Case("ICMP error quoting garbage", icmpErrorQuotingGarbage(), DropReason.BAD_ICMP),
            new Case("first fragment", edit(udp(), b -> b.putShort(6, (short) 0x2000, ByteOrder.BIG_ENDIAN)), null),
            new Case("non-first fragment", edit(udp(), b -> b.putShort(6, (short) 0x0010, ByteOrder.BIG_ENDIAN)), null),
            new Case("IP options", withOptions(), null),
            new Case("trailing link padding", padded(), null));
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("corpus")
    void shouldClassifyMalformedPackets(final Case c) {
        final Ipv4Packet packet = new Ipv4Packet();
        assertEquals(c.expected(), packet.wrap(new UnsafeBuffer(c.bytes()), 0, c.bytes().length), c.name());
    }

    static byte[] udp() {
        final UnsafeBuffer b = new UnsafeBuffer(new byte[20 + 8 + 12]);
        PacketWriter.udp(b, 0, 0x0A000002, 40000, 0x0A60000A, 53, 12, (byte) 1, true);
        return b.byteArray();
    }

    static byte[] tcp() {
        final UnsafeBuffer b = new UnsafeBuffer(new byte[40]);
        PacketWriter.tcp(b, 0, 0x0A000002, 40000, 0x0A60000A, 80, 0x02, 1, 0, 0);
        return b.byteArray();
    }

    private static byte[] tcpCut(final int length) {
        final byte[] bytes = cut(tcp(), length);
        new UnsafeBuffer(bytes).putShort(2, (short) length, ByteOrder.BIG_ENDIAN);
        return bytes;
    }

    private static byte[] udpHeaderCut() {
        final byte[] bytes = cut(udp(), 24);
        new UnsafeBuffer(bytes).putShort(2, (short) 24, ByteOrder.BIG_ENDIAN);
        return bytes;
    }

    private static byte[] sctpCut() {
        final UnsafeBuffer b = new UnsafeBuffer(new byte[64]);
        PacketWriter.sctpInit(b, 0, 1, 2, 3, 4, 5);
        final byte[] bytes = cut(b.byteArray(), 28);
        new UnsafeBuffer(bytes).putShort(2, (short) 28, ByteOrder.BIG_ENDIAN);
        return bytes;
    }

    private static byte[] icmpCut() {
        final byte[] bytes = edit(cut(udp(), 24), b -> {
            b.putByte(9, (byte) IpProtocol.ICMP);
            b.putShort(2, (short) 24, ByteOrder.BIG_ENDIAN);
        });
        return bytes;
    }

    private static byte[] icmpErrorQuotingGarbage() {
        final UnsafeBuffer b = new UnsafeBuffer(new byte[20 + 8 + 24]);
        PacketWriter.ipv4Header(b, 0, IpProtocol.ICMP, 1, 2, 52, 0, 64);
        b.putByte(20, (byte) Ipv4Packet.ICMP_DEST_UNREACHABLE);
        b.putByte(28, (byte) 0x41); // quoted IHL 1: nonsense
        return b.byteArray();
    }

    private static byte[] withOptions() {
        final byte[] plain = udp();
        final byte[] bytes = new byte[plain.length + 4];
        System.arraycopy(plain, 0, bytes, 0, 20);
        System.arraycopy(plain, 20, bytes, 24, plain.length - 20);
        bytes[0] = 0x46;
        final UnsafeBuffer b = new UnsafeBuffer(bytes);
        b.putShort(2, (short) bytes.length, ByteOrder.BIG_ENDIAN);
        return bytes;
    }

    private static byte[] padded() {
        final byte[] plain = udp();
        final byte[] bytes = new byte[plain.length + 6];
        System.arraycopy(plain, 0, bytes, 0, plain.length);
        return bytes;
    }

    static byte[] cut(final byte[] bytes, final int length) {
        final byte[] out = new byte[length];
        System.arraycopy(bytes, 0, out, 0, length);
        return out;
    }

    static byte[] edit(final byte[] bytes, final Consumer<UnsafeBuffer> change) {
        final byte[] copy = bytes.clone();
        change.accept(new UnsafeBuffer(copy));
        return copy;
    }
}
