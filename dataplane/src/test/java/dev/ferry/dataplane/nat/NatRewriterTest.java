package dev.ferry.dataplane.nat;

import dev.ferry.dataplane.packet.Checksums;
import dev.ferry.dataplane.packet.Ipv4Packet;
import dev.ferry.dataplane.packet.PacketWriter;
import dev.ferry.nativeio.IpProtocol;
import org.agrona.concurrent.UnsafeBuffer;
import org.junit.jupiter.api.Test;

import java.nio.ByteOrder;
import java.util.Arrays;
import java.util.SplittableRandom;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;

/**
 * Property tests: random packets, random translations; every checksum after the rewrite
 * equals one recomputed from scratch, and translating back restores the packet exactly.
 */
class NatRewriterTest {
    private static final int ROUNDS = 5_000;

    private final SplittableRandom random = new SplittableRandom(42);
    private final UnsafeBuffer buffer = new UnsafeBuffer(new byte[2048]);
    private final Ipv4Packet packet = new Ipv4Packet();

    @Test
    void shouldKeepTcpChecksumsRightAndRoundTrip() {
        for (int round = 0; round < ROUNDS; round++) {
            final int length = PacketWriter.tcp(buffer, 0, random.nextInt(), port(), random.nextInt(), port(),
                0x18, random.nextInt(), random.nextInt(), random.nextInt(0, 300));
            fillPayload(40, length);
            buffer.putShort(36, (short) 0);
            buffer.putShort(36, (short) Checksums.transport(buffer, 0, IpProtocol.TCP, 20, length - 20), ByteOrder.BIG_ENDIAN);
            checkRoundTrip(length);
        }
    }

    @Test
    void shouldKeepUdpChecksumsRightAndRoundTrip() {
        for (int round = 0; round < ROUNDS; round++) {
            final int length = PacketWriter.udp(buffer, 0, random.nextInt(), port(), random.nextInt(), port(),
                random.nextInt(0, 300), (byte) random.nextInt(), true);
            checkRoundTrip(length);
        }
    }

    @Test
    void shouldLeaveZeroUdpChecksumZero() {
        for (int round = 0; round < 200; round++) {
            final int length = PacketWriter.udp(buffer, 0, random.nextInt(), port(), random.nextInt(), port(), 10, (byte) 1, false);
            assertNull(packet.wrap(buffer, 0, length));
            NatRewriter.translate(packet, random.nextInt(), port(), random.nextInt(), port());
            assertEquals(0, buffer.getShort(26));
            assertEquals(Checksums.ipv4Header(buffer, 0, 20), buffer.getShort(10, ByteOrder.BIG_ENDIAN) & 0xFFFF);
        }
    }

    @Test
    void shouldRecomputeSctpCrcAndRoundTrip() {
        for (int round = 0; round < ROUNDS / 10; round++) {
            final int length = PacketWriter.sctpInit(buffer, 0, random.nextInt(), port(), random.nextInt(), port(), random.nextInt());
            checkRoundTrip(length);
        }
    }

    @Test
    void shouldTranslatePacketsWithIpOptions() {
        final int length = PacketWriter.udp(buffer, 0, 0x0A000001, 1000, 0x0A600001, 53, 20, (byte) 7, true);
        final byte[] withOptions = new byte[length + 8];
        buffer.getBytes(0, withOptions, 0, 20);
        withOptions[0] = 0x47; // IHL 7 words
        withOptions[20] = 1; // NOP options
        withOptions[21] = 1;
        withOptions[22] = 1;
        withOptions[23] = 1;
        withOptions[24] = 1;
        withOptions[25] = 1;
        withOptions[26] = 1;
        withOptions[27] = 0; // end of options
        buffer.getBytes(20, withOptions, 28, length - 20);
        final UnsafeBuffer b = new UnsafeBuffer(withOptions);
        b.putShort(2, (short) withOptions.length, ByteOrder.BIG_ENDIAN);
        b.putShort(10, (short) 0);
        b.putShort(10, (short) Checksums.ipv4Header(b, 0, 28), ByteOrder.BIG_ENDIAN);
        assertNull(packet.wrap(b, 0, withOptions.length));
        assertEquals(28, packet.l4Offset());
        NatRewriter.translate(packet, 0x0A000001, 1000, 0x0AF40105, 8053);
        assertChecksumsValid(b, withOptions.length);
        assertEquals(8053, packet.dstPort());
    }

    /**
     * CHECKSUM_PARTIAL: the field holds the uncomplemented pseudo-header sum; after the rewrite
     * it must be the pseudo-header sum of the new addresses, so that the device's completion
     * (sum over the segment with the field included, complemented) gives the right checksum.
     */
    @Test
    void shouldKeepAPartialChecksumThePseudoHeaderSumOfTheNewAddresses() {
        for (int round = 0; round < 1_000; round++) {
            final boolean tcp = random.nextBoolean();
            final int length = tcp
                ? PacketWriter.tcp(buffer, 0, random.nextInt(), port(), random.nextInt(), port(), 0x18, 1, 2, random.nextInt(0, 100))
                : PacketWriter.udp(buffer, 0, random.nextInt(), port(), random.nextInt(), port(), random.nextInt(0, 100), (byte) 3, true);
            final int field = 20 + (tcp ? 16 : 6);
            buffer.putShort(field, (short) pseudoHeaderSum(length, tcp), ByteOrder.BIG_ENDIAN);
            assertNull(packet.wrap(buffer, 0, length));
            NatRewriter.translate(packet, random.nextInt(), port(), random.nextInt(), port(), true);
            assertEquals(pseudoHeaderSum(length, tcp), buffer.getShort(field, ByteOrder.BIG_ENDIAN) & 0xFFFF, "round " + round);
            // what the device then does: checksum over the segment with the field as it is
            final int completed = Checksums.finish(Checksums.sum(buffer, 20, length - 20, 0));
            buffer.putShort(field, (short) completed, ByteOrder.BIG_ENDIAN);
            assertChecksumsValid(buffer, length);
        }
    }

    /** The folded, uncomplemented pseudo-header sum of the packet in {@link #buffer}. */
    private int pseudoHeaderSum(final int length, final boolean tcp) {
        long sum = (buffer.getShort(12, ByteOrder.BIG_ENDIAN) & 0xFFFF) + (buffer.getShort(14, ByteOrder.BIG_ENDIAN) & 0xFFFF)
            + (buffer.getShort(16, ByteOrder.BIG_ENDIAN) & 0xFFFF) + (buffer.getShort(18, ByteOrder.BIG_ENDIAN) & 0xFFFF)
            + (tcp ? IpProtocol.TCP : IpProtocol.UDP) + (length - 20);
        return ~Checksums.finish(sum) & 0xFFFF;
    }

    private void checkRoundTrip(final int length) {
        final byte[] before = new byte[length];
        buffer.getBytes(0, before);
        assertNull(packet.wrap(buffer, 0, length));
        final int src = packet.srcAddr();
        final int dst = packet.dstAddr();
        final int sport = packet.srcPort();
        final int dport = packet.dstPort();

        final int natSrc = random.nextInt();
        final int natSport = port();
        final int natDst = random.nextInt();
        final int natDport = port();
        NatRewriter.translate(packet, natSrc, natSport, natDst, natDport);
        assertEquals(natSrc, packet.srcAddr());
        assertEquals(natDst, packet.dstAddr());
        assertEquals(natSport, packet.srcPort());
        assertEquals(natDport, packet.dstPort());
        assertChecksumsValid(buffer, length);

        NatRewriter.translate(packet, src, sport, dst, dport);
        final byte[] after = new byte[length];
        buffer.getBytes(0, after);
        if (!Arrays.equals(before, after)) {
            // ones'-complement +0/-0 may legitimately differ in the checksum fields only
            assertChecksumsValid(buffer, length);
            zeroChecksums(before, packet.protocol());
            zeroChecksums(after, packet.protocol());
            assertArrayEquals(before, after);
        }
    }

    static void assertChecksumsValid(final UnsafeBuffer b, final int length) {
        final Ipv4Packet p = new Ipv4Packet();
        assertNull(p.wrap(b, 0, length));
        assertEquals(Checksums.ipv4Header(b, 0, p.headerLength()), b.getShort(10, ByteOrder.BIG_ENDIAN) & 0xFFFF, "IPv4 header checksum");
        switch (p.protocol()) {
            case IpProtocol.TCP -> assertEquals(
                Checksums.transport(b, 0, IpProtocol.TCP, p.l4Offset(), p.l4Length()) % 0xFFFF,
                (b.getShort(p.l4Offset() + 16, ByteOrder.BIG_ENDIAN) & 0xFFFF) % 0xFFFF, "TCP checksum");
            case IpProtocol.UDP -> {
                final int stored = b.getShort(p.l4Offset() + 6, ByteOrder.BIG_ENDIAN) & 0xFFFF;
                if (stored != 0) {
                    assertEquals(Checksums.transport(b, 0, IpProtocol.UDP, p.l4Offset(), p.l4Length()) % 0xFFFF, stored % 0xFFFF, "UDP checksum");
                }
            }
            case IpProtocol.SCTP -> assertEquals(Checksums.sctp(b, p.l4Offset(), p.l4Length()),
                b.getInt(p.l4Offset() + 8, ByteOrder.LITTLE_ENDIAN), "SCTP CRC32c");
            case IpProtocol.ICMP -> assertEquals(Checksums.icmp(b, p.l4Offset(), p.l4Length()),
                b.getShort(p.l4Offset() + 2, ByteOrder.BIG_ENDIAN) & 0xFFFF, "ICMP checksum");
            default -> {
            }
        }
    }

    private static void zeroChecksums(final byte[] bytes, final int protocol) {
        bytes[10] = bytes[11] = 0;
        final int l4 = (bytes[0] & 0x0F) * 4;
        final int at = protocol == IpProtocol.TCP ? l4 + 16 : protocol == IpProtocol.UDP ? l4 + 6 : -1;
        if (at > 0) {
            bytes[at] = bytes[at + 1] = 0;
        }
    }

    private void fillPayload(final int from, final int to) {
        for (int i = from; i < to; i++) {
            buffer.putByte(i, (byte) random.nextInt());
        }
    }

    private int port() {
        return random.nextInt(1, 65536);
    }
}
