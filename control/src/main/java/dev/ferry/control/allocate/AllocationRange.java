package dev.ferry.control.allocate;

import java.nio.charset.StandardCharsets;
import java.util.function.IntPredicate;

/**
 * A range of allocatable values (addresses as {@link dev.ferry.dataplane.addr.Ipv4} ints, or
 * port numbers) split like the API server's allocators (KEP-3070 for ClusterIPs, KEP-3668 for
 * NodePorts): a lower "static" band that users are expected to pick explicit values from, and
 * the rest, where dynamic allocation starts. A value is allocated by hashing its owner's key to
 * a start in the dynamic band and probing upwards for a free value, wrapping within the band,
 * then trying the static band; the same key over the same free values always gets the same value.
 *
 * @param first      first value (inclusive)
 * @param size       number of values
 * @param staticBand number of values at the start kept for explicit choices
 */
record AllocationRange(long first, long size, long staticBand) {
    private static final long FNV_OFFSET = 0xcbf29ce484222325L;
    private static final long FNV_PRIME = 0x100000001b3L;

    /** The API server's band: size/step, at least {@code min} and at most {@code max}; none for tiny ranges. */
    static AllocationRange banded(final long first, final long size, final long min, final long max, final long step) {
        final long band = size < min ? 0 : Math.clamp(size / step, min, max);
        return new AllocationRange(first, size, band);
    }

    boolean contains(final long value) {
        return value >= first && value < first + size;
    }

    /** A free value for {@code key}, or -1 when every value is taken. {@code taken} is asked about candidates in order. */
    long allocate(final String key, final IntPredicate taken) {
        final long dynamic = size - staticBand;
        if (dynamic > 0) {
            final long start = Long.remainderUnsigned(hash(key), dynamic);
            for (long i = 0; i < dynamic; i++) {
                final long value = first + staticBand + (start + i) % dynamic;
                if (!taken.test((int) value)) {
                    return value;
                }
            }
        }
        for (long i = 0; i < staticBand; i++) {
            if (!taken.test((int) (first + i))) {
                return first + i;
            }
        }
        return -1;
    }

    /** FNV-1a over the key's UTF-8 bytes: stable across JVMs and releases, unlike String.hashCode's contract. */
    static long hash(final String key) {
        long hash = FNV_OFFSET;
        for (final byte b : key.getBytes(StandardCharsets.UTF_8)) {
            hash ^= b & 0xFF;
            hash *= FNV_PRIME;
        }
        // Finish with a mixer so that keys differing in the last byte land far apart.
        hash ^= hash >>> 33;
        hash *= 0xff51afd7ed558ccdL;
        hash ^= hash >>> 33;
        return hash;
    }
}
