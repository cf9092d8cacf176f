package dev.ferry.conntrack;

import java.nio.ByteBuffer;

/**
 * Where every word of a conntrack region is: the one description of the layout, which
 * {@link ConntrackTable}, {@link FlowIndex}, {@link FreeList} and {@link TableRecovery} read and
 * write by these offsets. One contiguous region (a mapped file or anonymous memory); all
 * integers in native byte order.
 * <pre>
 *  0              4096                    4096 + 8 * slotCount
 *  +--------------+-----------------------+-------------------------------------+
 *  | header       | index: slotCount longs| entries: capacity x 128 bytes        |
 *  +--------------+-----------------------+-------------------------------------+
 *
 *  header                                   index slot (8 bytes)
 *    0  magic "FERRYCT1"       long           0                      empty
 *    8  layout version         int            -1                     tombstone
 *   12  capacity               int            -2                     locked tombstone (being cleaned)
 *   16  slotCount              int            hash &lt;&lt; 32 | (handle + 1) a key; handle = index &lt;&lt; 1 | direction
 *   20  entry length (128)     int
 *  128  free-stack head        long: ABA tag &lt;&lt; 32 | (entry index + 1), 0 = empty
 *  256  size                   int
 *  384  entry gc cursor        long
 *  512  slot gc cursor         long         (each hot word on its own 128-byte line pair)
 *
 *  entry (128 bytes, two cache lines: line 0 serves the original direction, line 1 the reply)
 *    0 +-----------------------+-----------------------+
 *      | ctrl: gen&lt;&lt;2 | status | serviceId             |   status: 0 FREE, 1 CLAIMED, 2 LIVE, 3 DYING
 *    8 +-----------------------+-----------------------+
 *      | stateWord: expiresAtMs &lt;&lt; 16 | aux &lt;&lt; 8 | state |   one CAS moves state and expiry together
 *   16 +-----------------------------------------------+
 *      | original key: meta, srcHi, srcLo, dstHi, dstLo  |   meta = protocol &lt;&lt; 32 | srcPort &lt;&lt; 16 | dstPort
 *   56 +-----------------------+-----------------------+
 *      | flags                 | next free (index + 1) |
 *   64 +-----------------------------------------------+
 *      | reply key: meta, srcHi, srcLo, dstHi, dstLo     |
 *  104 +-----------------------+-----------------------+
 *      | packets original      | packets reply         |   32-bit, wrapping
 *  112 +-----------------------+-----------------------+
 *      | bytes original        (long)                  |
 *  120 +-----------------------------------------------+
 *      | bytes reply           (long)                  |
 *  128 +-----------------------------------------------+
 * </pre>
 * Addresses are 128-bit (IPv4 stored IPv4-mapped), so IPv6 needs no new layout. The index has
 * a power-of-two number of slots, at least four per entry (two keys per entry: at most half the
 * slots hold live keys), probed linearly.
 */
final class ConntrackLayout {
    static final long MAGIC = 0x3154_4359_5252_4546L; // "FERRYCT1" in little-endian bytes
    static final int LAYOUT_VERSION = 1;
    static final int HEADER_LENGTH = 4096;
    static final int ENTRY_LENGTH = 128;

    // header
    static final int MAGIC_OFFSET = 0;
    static final int VERSION_OFFSET = 8;
    static final int CAPACITY_OFFSET = 12;
    static final int SLOT_COUNT_OFFSET = 16;
    static final int ENTRY_LENGTH_OFFSET = 20;
    static final int FREE_HEAD_OFFSET = 128;
    static final int SIZE_OFFSET = 256;
    static final int GC_CURSOR_OFFSET = 384;
    static final int SLOT_GC_CURSOR_OFFSET = 512;

    // entry
    static final int CTRL_OFFSET = 0;
    static final int SERVICE_ID_OFFSET = 4;
    static final int STATE_WORD_OFFSET = 8;
    static final int ORIGINAL_KEY_OFFSET = 16;
    static final int FLAGS_OFFSET = 56;
    static final int NEXT_FREE_OFFSET = 60;
    static final int REPLY_KEY_OFFSET = 64;
    static final int PACKETS_OFFSET = 104;
    static final int BYTES_OFFSET = 112;

    // key, within an entry
    static final int KEY_META = 0;
    static final int KEY_SRC_HI = 8;
    static final int KEY_SRC_LO = 16;
    static final int KEY_DST_HI = 24;
    static final int KEY_DST_LO = 32;

    // ctrl word: generation << 2 | status
    static final int STATUS_FREE = 0;
    static final int STATUS_CLAIMED = 1;
    static final int STATUS_LIVE = 2;
    static final int STATUS_DYING = 3;
    static final int GENERATION_MASK = 0x3FFF_FFFF;

    private ConntrackLayout() {
    }

    /** Index slots for a capacity: a power of two, at least four per entry (and at least 8). */
    static int slotCountFor(final int capacity) {
        final int wanted = Math.max(8, capacity * 4);
        return Integer.highestOneBit(wanted - 1) << 1;
    }

    static long regionLength(final int capacity, final int slotCount) {
        return HEADER_LENGTH + slotCount * 8L + (long) capacity * ENTRY_LENGTH;
    }

    /** Whether a file's header describes a region of this capacity and slot count in this layout. */
    static boolean headerMatches(final ByteBuffer buffer, final int capacity, final int slotCount) {
        return buffer.getLong(MAGIC_OFFSET) == MAGIC
            && buffer.getInt(VERSION_OFFSET) == LAYOUT_VERSION
            && buffer.getInt(CAPACITY_OFFSET) == capacity
            && buffer.getInt(SLOT_COUNT_OFFSET) == slotCount
            && buffer.getInt(ENTRY_LENGTH_OFFSET) == ENTRY_LENGTH;
    }

    /** A handle's entry index ({@code handle = generation << 32 | index << 1 | direction}). */
    static int entryIndex(final long handle) {
        return (int) (handle >>> 1) & 0x7FFF_FFFF;
    }

    /** A handle's direction: 0 original, 1 reply. */
    static int direction(final long handle) {
        return (int) handle & 1;
    }

    /** The state word: expiry and state, moved together by one CAS. */
    static long stateWord(final long expiresAtMs, final int state) {
        return (expiresAtMs << 16) | (state & 0xFFFF);
    }
}
