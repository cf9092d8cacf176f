package dev.ferry.perf;

import org.agrona.BufferUtil;
import org.agrona.MutableDirectBuffer;
import org.agrona.concurrent.UnsafeBuffer;

/**
 * Prebuilt packets, one per flow, off-heap in 64-byte slots (one cache line each, aligned).
 * {@code PacketProcessor.process} rewrites a packet in place, so a benchmark copies the flow's
 * template into its receive buffer before each operation: every operation starts from the same
 * bytes, the way each packet arrives fresh from the kernel. The copy is measured on its own as
 * a baseline.
 * <pre>
 *   slot i at offset 64 i:  | IPv4 header 20 | TCP header 20 | payload 20 | pad 4 |
 * </pre>
 */
public final class PacketTemplates {
    public static final int SLOT_LENGTH = 64;
    private static final int SLOT_SHIFT = 6;

    private final UnsafeBuffer region;
    private final int count;

    public PacketTemplates(final int count) {
        if (count < 1 || count > Integer.MAX_VALUE / SLOT_LENGTH) {
            throw new IllegalArgumentException("template count " + count + " is outside 1.." + Integer.MAX_VALUE / SLOT_LENGTH);
        }
        this.count = count;
        this.region = new UnsafeBuffer(BufferUtil.allocateDirectAligned(count * SLOT_LENGTH, SLOT_LENGTH));
    }

    /** The whole region, to write templates with {@code PacketWriter} at {@link #offset}. */
    public UnsafeBuffer region() {
        return region;
    }

    public int count() {
        return count;
    }

    public static int offset(final int slot) {
        return slot << SLOT_SHIFT;
    }

    /** Copies template {@code slot} ({@code length} bytes) to {@code dst} at {@code dstOffset}. */
    public void copyInto(final int slot, final int length, final MutableDirectBuffer dst, final int dstOffset) {
        dst.putBytes(dstOffset, region, slot << SLOT_SHIFT, length);
    }
}
