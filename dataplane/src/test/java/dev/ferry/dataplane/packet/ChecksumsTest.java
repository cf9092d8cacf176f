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
}
