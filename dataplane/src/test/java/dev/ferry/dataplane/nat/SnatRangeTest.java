package dev.ferry.dataplane.nat;

import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.util.BitSet;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

class SnatRangeTest {
    /** Sizes from one port to the whole 1024-65534 range, the default 4,535 among them. */
    @ParameterizedTest
    @ValueSource(ints = {1, 2, 3, 8, 64, 4535, 30_000, 64_511})
    void shouldWalkEveryPortOnceWithEveryStride(final int size) {
        final SnatRange range = new SnatRange(0x0A000001, 1024, 1024 + size - 1);
        assertEquals(size, range.size());
        final int[] strides = range.probeStrides(64);
        for (final int stride : strides) {
            assertTrue(size == 1 ? stride == 0 : stride >= 1 && stride < size, "stride " + stride + " of " + size);
            final BitSet seen = new BitSet(size);
            int index = (int) (0x5DEECE66DL % size);
            for (int i = 0; i < size; i++) {
                final int port = range.portAt(index);
                assertTrue(port >= range.minPort() && port <= range.maxPort());
                seen.set(index);
                index += stride;
                if (index >= size) {
                    index -= size;
                }
            }
            assertEquals(size, seen.cardinality(), "stride " + stride + " visits every port of " + size + " once");
        }
    }
}
