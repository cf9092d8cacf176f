package dev.ferry.conntrack;

import org.agrona.concurrent.UnsafeBuffer;

import static dev.ferry.conntrack.ConntrackLayout.CAPACITY_OFFSET;
import static dev.ferry.conntrack.ConntrackLayout.CTRL_OFFSET;
import static dev.ferry.conntrack.ConntrackLayout.ENTRY_LENGTH;
import static dev.ferry.conntrack.ConntrackLayout.ENTRY_LENGTH_OFFSET;
import static dev.ferry.conntrack.ConntrackLayout.GC_CURSOR_OFFSET;
import static dev.ferry.conntrack.ConntrackLayout.LAYOUT_VERSION;
import static dev.ferry.conntrack.ConntrackLayout.MAGIC;
import static dev.ferry.conntrack.ConntrackLayout.MAGIC_OFFSET;
import static dev.ferry.conntrack.ConntrackLayout.ORIGINAL_KEY_OFFSET;
import static dev.ferry.conntrack.ConntrackLayout.REPLY_KEY_OFFSET;
import static dev.ferry.conntrack.ConntrackLayout.SIZE_OFFSET;
import static dev.ferry.conntrack.ConntrackLayout.SLOT_COUNT_OFFSET;
import static dev.ferry.conntrack.ConntrackLayout.SLOT_GC_CURSOR_OFFSET;
import static dev.ferry.conntrack.ConntrackLayout.STATUS_DYING;
import static dev.ferry.conntrack.ConntrackLayout.STATUS_LIVE;
import static dev.ferry.conntrack.ConntrackLayout.VERSION_OFFSET;

/**
 * A conntrack region made ready before any worker uses it: formatted when new, or, when an
 * agent attaches to the file a predecessor left, its index and free list rebuilt from the LIVE
 * entries, so that a crash in the middle of an insert or delete leaves nothing half done
 * (entries caught CLAIMED or DYING are freed; of two entries with one key the first is kept).
 */
final class TableRecovery {
    private TableRecovery() {
    }

    /** A new region: the header written, every slot empty, every entry free; the magic last. */
    static void format(final UnsafeBuffer header, final FlowIndex index, final FreeList free, final int capacity) {
        header.putInt(VERSION_OFFSET, LAYOUT_VERSION);
        header.putInt(CAPACITY_OFFSET, capacity);
        header.putInt(SLOT_COUNT_OFFSET, index.slotCount());
        header.putInt(ENTRY_LENGTH_OFFSET, ENTRY_LENGTH);
        header.putInt(SIZE_OFFSET, 0);
        header.putLong(GC_CURSOR_OFFSET, 0);
        header.putLong(SLOT_GC_CURSOR_OFFSET, 0);
        index.clear();
        free.formatAllFree();
        // Magic last: a crash while formatting leaves a file that the next open recreates.
        header.putLongVolatile(MAGIC_OFFSET, MAGIC);
    }

    /** An attached region: the index and the free list rebuilt from the LIVE entries, the size counted. */
    static void recover(final UnsafeBuffer header, final UnsafeBuffer entries, final FlowIndex index, final FreeList free,
                        final int capacity) {
        index.clear();
        final FlowKey key = new FlowKey();
        int live = 0;
        for (int entry = 0; entry < capacity; entry++) {
            final int base = entry * ENTRY_LENGTH;
            final int ctrl = entries.getInt(base + CTRL_OFFSET);
            if ((ctrl & 3) != STATUS_LIVE) {
                continue;
            }
            final long handle = (long)entry << 1;
            ConntrackTable.readKey(entries, base + ORIGINAL_KEY_OFFSET, key);
            if (index.publish(key, handle) == FlowIndex.PUBLISHED) {
                final int originalHash = key.hash();
                ConntrackTable.readKey(entries, base + REPLY_KEY_OFFSET, key);
                if (index.publish(key, handle | 1) == FlowIndex.PUBLISHED) {
                    live++;
                    continue;
                }
                index.unpublish(originalHash, handle);
            }
            entries.putInt(base + CTRL_OFFSET, (ctrl & ~3) | STATUS_DYING); // freed by the free list's rebuild
        }
        free.rebuildFromEntries();
        header.putIntVolatile(SIZE_OFFSET, live);
    }
}
