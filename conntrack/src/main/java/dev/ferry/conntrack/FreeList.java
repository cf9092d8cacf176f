package dev.ferry.conntrack;

import org.agrona.concurrent.UnsafeBuffer;

import static dev.ferry.conntrack.ConntrackLayout.CTRL_OFFSET;
import static dev.ferry.conntrack.ConntrackLayout.ENTRY_LENGTH;
import static dev.ferry.conntrack.ConntrackLayout.FREE_HEAD_OFFSET;
import static dev.ferry.conntrack.ConntrackLayout.GENERATION_MASK;
import static dev.ferry.conntrack.ConntrackLayout.NEXT_FREE_OFFSET;
import static dev.ferry.conntrack.ConntrackLayout.STATUS_FREE;
import static dev.ferry.conntrack.ConntrackLayout.STATUS_LIVE;

/**
 * The free entries of a conntrack region, as a Treiber stack: the head word in the header holds
 * an ABA tag and the top entry's index + 1 ({@code tag << 32 | (index + 1)}, 0 = empty), each
 * free entry the next one's in its next-free word. Push and pop are one CAS on the head; the
 * tag, bumped by every change, keeps a pop that read a stale next from succeeding.
 */
final class FreeList {
    private final UnsafeBuffer header;
    private final UnsafeBuffer entries;
    private final int capacity;

    FreeList(final UnsafeBuffer header, final UnsafeBuffer entries, final int capacity) {
        this.header = header;
        this.entries = entries;
        this.capacity = capacity;
    }

    /** Takes a free entry: its index, or -1 when none is free. */
    int pop() {
        while (true) {
            final long head = header.getLongVolatile(FREE_HEAD_OFFSET);
            final int top = (int)head;
            if (top == 0) {
                return -1;
            }
            final int next = entries.getIntVolatile((top - 1) * ENTRY_LENGTH + NEXT_FREE_OFFSET);
            final long newHead = (((head >>> 32) + 1) << 32) | (next & 0xFFFF_FFFFL);
            if (header.compareAndSetLong(FREE_HEAD_OFFSET, head, newHead)) {
                return top - 1;
            }
        }
    }

    /** Gives an entry back (its owner has already marked it FREE). */
    void push(final int index) {
        final int nextOffset = index * ENTRY_LENGTH + NEXT_FREE_OFFSET;
        while (true) {
            final long head = header.getLongVolatile(FREE_HEAD_OFFSET);
            entries.putIntVolatile(nextOffset, (int)head);
            final long newHead = (((head >>> 32) + 1) << 32) | (index + 1);
            if (header.compareAndSetLong(FREE_HEAD_OFFSET, head, newHead)) {
                return;
            }
        }
    }

    /** Length of the stack. Diagnostic for a quiescent table: with workers running the walk can be wrong. */
    int count() {
        int count = 0;
        int top = (int)header.getLongVolatile(FREE_HEAD_OFFSET);
        while (top != 0 && count <= capacity) {
            count++;
            top = entries.getIntVolatile((top - 1) * ENTRY_LENGTH + NEXT_FREE_OFFSET);
        }
        return count;
    }

    /** Every entry FREE, stacked in index order (entry 0 on top): a new region. */
    void formatAllFree() {
        for (int index = 0; index < capacity; index++) {
            final int base = index * ENTRY_LENGTH;
            entries.putInt(base + CTRL_OFFSET, STATUS_FREE);
            entries.putInt(base + NEXT_FREE_OFFSET, index + 1 < capacity ? index + 2 : 0);
        }
        header.putLong(FREE_HEAD_OFFSET, 1);
    }

    /**
     * Stacks every entry that is not LIVE, in index order, freeing those a crash left CLAIMED or
     * DYING (their generation moves on, so no old handle names them): an attached region.
     */
    void rebuildFromEntries() {
        long head = 0;
        for (int index = capacity - 1; index >= 0; index--) {
            final int base = index * ENTRY_LENGTH;
            final int ctrl = entries.getInt(base + CTRL_OFFSET);
            if ((ctrl & 3) != STATUS_LIVE) {
                if ((ctrl & 3) != STATUS_FREE) {
                    entries.putInt(base + CTRL_OFFSET, ((((ctrl >>> 2) + 1) & GENERATION_MASK) << 2) | STATUS_FREE);
                }
                entries.putInt(base + NEXT_FREE_OFFSET, (int)head);
                head = index + 1;
            }
        }
        header.putLong(FREE_HEAD_OFFSET, head);
    }
}
