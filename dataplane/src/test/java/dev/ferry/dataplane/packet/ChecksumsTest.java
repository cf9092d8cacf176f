package dev.ferry.dataplane.packet;

import org.agrona.concurrent.UnsafeBuffer;
import org.junit.jupiter.api.Test;

import java.nio.ByteOrder;
import java.util.SplittableRandom;
import java.util.zip.CRC32C;

import static org.junit.jupiter.api.Assertions.assertEquals;

class ChecksumsTest {

    @Test
    void shouldMatchFullRecomputeAfterIncrementalWordUpdates() {
        final SplittableRandom random = new SplittableRandom(7);
        final UnsafeBuffer buffer = new UnsafeBuffer(new byte[64]);
        for (int round = 0; round < 10_000; round++) {
            for (int i = 0; i < 64; i += 4) {
                buffer.putInt(i, random.nextInt());
            }
            buffer.putShort(10, (short) 0);
            final int before = Checksums.finish(Checksums.sum(buffer, 0, 64, 0));
            buffer.putShort(10, (short) before, ByteOrder.BIG_ENDIAN);
            final int word = 2 * random.nextInt(8, 31); // 16..60: past the checksum field, inside the buffer
            final int oldValue = buffer.getInt(word, ByteOrder.BIG_ENDIAN);
            final int newValue = random.nextInt();
            buffer.putInt(word, newValue, ByteOrder.BIG_ENDIAN);
            final int incremental = Checksums.update32(before, oldValue, newValue);
            buffer.putShort(10, (short) 0);
            final int full = Checksums.finish(Checksums.sum(buffer, 0, 64, 0));
            // RFC 1624: the incremental result may differ from the recomputed one only as
            // +0 (0x0000) versus -0 (0xFFFF), which are the same ones'-complement number.
            assertEquals(full % 0xFFFF, incremental % 0xFFFF, "round " + round);
        }
    }

    @Test
    void shouldComputeSctpCrc32cLikeTheJdk() {
        final SplittableRandom random = new SplittableRandom(3);
        final byte[] bytes = new byte[200];
        for (int i = 0; i < bytes.length; i++) {
            bytes[i] = (byte) random.nextInt();
        }
        final UnsafeBuffer buffer = new UnsafeBuffer(bytes);
        final int ours = Checksums.sctp(buffer, 0, bytes.length);
        final byte[] zeroed = bytes.clone();
        zeroed[8] = zeroed[9] = zeroed[10] = zeroed[11] = 0;
        final CRC32C jdk = new CRC32C();
        jdk.update(zeroed);
        assertEquals((int) jdk.getValue(), ours);
    }

    @Test
    void shouldMatchFullRecomputeAfterAnIpv6AddressPairAndPortsChangeInOneFold() {
        final SplittableRandom random = new SplittableRandom(11);
        final UnsafeBuffer buffer = new UnsafeBuffer(new byte[40]); // two addresses, two ports, four more words
        for (int round = 0; round < 10_000; round++) {
            for (int i = 0; i < 40; i += 8) {
                buffer.putLong(i, random.nextLong());
            }
            final int before = Checksums.finish(Checksums.sum(buffer, 0, 40, 0));
            long changes = 0;
            for (int i = 0; i < 32; i += 8) {
                final long old = buffer.getLong(i, ByteOrder.BIG_ENDIAN);
                final long replacement = random.nextInt(4) == 0 ? old : random.nextLong();
                buffer.putLong(i, replacement, ByteOrder.BIG_ENDIAN);
                changes += Checksums.change64(old, replacement);
            }
            for (int i = 32; i < 36; i += 2) {
                final int old = buffer.getShort(i, ByteOrder.BIG_ENDIAN) & 0xFFFF;
                final int port = random.nextInt(65536);
                buffer.putShort(i, (short) port, ByteOrder.BIG_ENDIAN);
                changes += Checksums.change16(old, port);
            }
            final int expected = Checksums.finish(Checksums.sum(buffer, 0, 40, 0));
            final int updated = Checksums.applyChanges(before, changes);
            // one's complement has two zeros; the incremental form may give either for a zero sum
            assertEquals(expected == 0xFFFF ? 0 : expected, updated == 0xFFFF ? 0 : updated, "round " + round);
        }
    }
}
