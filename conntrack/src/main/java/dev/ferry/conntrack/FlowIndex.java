package dev.ferry.conntrack;

import org.agrona.concurrent.UnsafeBuffer;

import java.lang.invoke.VarHandle;

import static dev.ferry.conntrack.ConntrackLayout.CTRL_OFFSET;
import static dev.ferry.conntrack.ConntrackLayout.ENTRY_LENGTH;
import static dev.ferry.conntrack.ConntrackLayout.KEY_DST_HI;
import static dev.ferry.conntrack.ConntrackLayout.KEY_DST_LO;
import static dev.ferry.conntrack.ConntrackLayout.KEY_META;
import static dev.ferry.conntrack.ConntrackLayout.KEY_SRC_HI;
import static dev.ferry.conntrack.ConntrackLayout.KEY_SRC_LO;
import static dev.ferry.conntrack.ConntrackLayout.ORIGINAL_KEY_OFFSET;
import static dev.ferry.conntrack.ConntrackLayout.REPLY_KEY_OFFSET;
import static dev.ferry.conntrack.ConntrackLayout.STATUS_CLAIMED;
import static dev.ferry.conntrack.ConntrackLayout.STATUS_LIVE;

/**
 * The conntrack table's index: an open-addressing hash table of slot words, probed linearly,
 * from a tuple to the entry that holds it ({@code hash << 32 | (handle + 1)}; 0 empty, -1 a
 * tombstone, -2 a tombstone being cleaned). Lock-free: words change by CAS, and a slot word
 * can be stale, which the key match (a seqlock read of the entry, {@link #matches}) makes
 * harmless. The protocols (publish and withdraw, tombstone cleaning) and why they are safe are
 * in {@link ConntrackTable}'s Javadoc, "Concurrency". The entries are {@link ConntrackTable}'s;
 * the index only reads their ctrl words and keys.
 */
final class FlowIndex {
    static final long EMPTY = 0;
    static final long TOMBSTONE = -1;
    static final long LOCKED = -2;

    /** What {@link #publish} returns when the key went in. */
    static final long PUBLISHED = Long.MIN_VALUE;
    /** What {@link #publish} returns when no slot of the whole index was free. */
    static final long INDEX_FULL = Long.MIN_VALUE + 1;

    private static final int MAX_CLEAN_STEPS = 64;
    private static final int MAX_CLUSTER_SCAN = 512;
    /** Never a LIVE or CLAIMED ctrl word (status bits 3). */
    private static final int NO_MATCH = -1;

    private final UnsafeBuffer slots;
    private final UnsafeBuffer entries;
    private final int capacity;
    private final int slotCount;
    private final int slotMask;

    FlowIndex(final UnsafeBuffer slots, final UnsafeBuffer entries, final int capacity, final int slotCount) {
        this.slots = slots;
        this.entries = entries;
        this.capacity = capacity;
        this.slotCount = slotCount;
        this.slotMask = slotCount - 1;
    }

    /** The handle (with the entry's generation) of the LIVE entry holding the key, or {@link ConntrackTable#NOT_FOUND}. */
    long find(final FlowKey key) {
        return lookup(key, false);
    }

    /** Probe without publishing: the handle of a CLAIMED or LIVE entry holding the key, or {@link ConntrackTable#NOT_FOUND}. */
    long probeExisting(final FlowKey key) {
        return lookup(key, true);
    }

    private long lookup(final FlowKey key, final boolean includeClaimed) {
        final int hash = key.hash();
        final long meta = key.meta();
        int slot = hash & slotMask;
        for (int i = 0; i < slotCount; i++) {
            final long word = slots.getLongVolatile(slot << 3);
            if (word == EMPTY) {
                return ConntrackTable.NOT_FOUND;
            }
            if (word != TOMBSTONE && word != LOCKED && (int)(word >>> 32) == hash) {
                final long slotHandle = (word & 0xFFFF_FFFFL) - 1;
                final int ctrl = matches(slotHandle, meta, key, includeClaimed);
                if (ctrl != NO_MATCH) {
                    return ((long)(ctrl >>> 2) << 32) | slotHandle;
                }
            }
            slot = (slot + 1) & slotMask;
        }
        return ConntrackTable.NOT_FOUND;
    }

    /**
     * Publishes a key of a CLAIMED entry.
     *
     * @return {@link #PUBLISHED}, {@link #INDEX_FULL}, or the handle of a CLAIMED/LIVE entry
     *     that holds the same key (this key is then not in the index).
     */
    long publish(final FlowKey key, final long handle) {
        final int hash = key.hash();
        final long meta = key.meta();
        final long ownWord = ((long)hash << 32) | (handle + 1);
        final int home = hash & slotMask;
        while (true) {
            int target = -1;
            long targetSeen = EMPTY;
            int slot = home;
            for (int i = 0; i < slotCount; i++) {
                final long word = slots.getLongVolatile(slot << 3);
                if (word == EMPTY) {
                    if (target < 0) {
                        target = slot;
                        targetSeen = EMPTY;
                    }
                    break;
                }
                if (word == TOMBSTONE) {
                    if (target < 0) {
                        target = slot;
                        targetSeen = TOMBSTONE;
                    }
                } else if (word != LOCKED && (int)(word >>> 32) == hash) {
                    final long other = (word & 0xFFFF_FFFFL) - 1;
                    if (matches(other, meta, key, true) != NO_MATCH) {
                        return other;
                    }
                }
                slot = (slot + 1) & slotMask;
            }
            if (target < 0) {
                return INDEX_FULL;
            }
            if (!slots.compareAndSetLong(target << 3, targetSeen, ownWord)) {
                continue;
            }

            // Re-scan from home: a same-key rival anywhere in the chain makes us withdraw; an empty
            // or locked slot before ours means a tombstone on our path was being cleaned.
            boolean passedOwn = false;
            boolean repeat = false;
            slot = home;
            for (int i = 0; i < slotCount; i++) {
                if (slot == target) {
                    passedOwn = true;
                } else {
                    final long word = slots.getLongVolatile(slot << 3);
                    if (word == EMPTY || word == LOCKED) {
                        if (!passedOwn) {
                            repeat = true;
                            break;
                        }
                        if (word == EMPTY) {
                            break;
                        }
                    } else if (word != TOMBSTONE && (int)(word >>> 32) == hash) {
                        final long other = (word & 0xFFFF_FFFFL) - 1;
                        if (matches(other, meta, key, true) != NO_MATCH) {
                            retract(target, ownWord);
                            return other;
                        }
                    }
                }
                slot = (slot + 1) & slotMask;
            }
            if (!repeat) {
                return PUBLISHED;
            }
            retract(target, ownWord);
        }
    }

    private void retract(final int slot, final long ownWord) {
        if (slots.compareAndSetLong(slot << 3, ownWord, TOMBSTONE)) {
            clean(slot);
        }
    }

    /** Removes the slot word of a handle (owned by the caller: CLAIMED or DYING entry). */
    void unpublish(final int hash, final long handle) {
        final long ownWord = ((long)hash << 32) | (handle + 1);
        int slot = hash & slotMask;
        for (int i = 0; i < slotCount; i++) {
            final long word = slots.getLongVolatile(slot << 3);
            if (word == ownWord) {
                retract(slot, ownWord);
                return;
            }
            if (word == EMPTY) {
                break;
            }
            slot = (slot + 1) & slotMask;
        }
        // Not on its chain: cannot happen by the cleaning argument; a full sweep keeps the index
        // free of dangling words even if it did.
        for (slot = 0; slot < slotCount; slot++) {
            if (slots.getLongVolatile(slot << 3) == ownWord) {
                retract(slot, ownWord);
                return;
            }
        }
    }

    /**
     * Turns a tombstone into empty when no key after it in its cluster probes through it, then
     * walks back over the tombstones before it. The tombstone is LOCKED while the cluster is
     * checked, so an insert that publishes behind it afterwards sees LOCKED or EMPTY on its path
     * in its re-scan and publishes again.
     */
    private void clean(final int fromSlot) {
        int slot = fromSlot;
        for (int step = 0; step < MAX_CLEAN_STEPS; step++) {
            if (!slots.compareAndSetLong(slot << 3, TOMBSTONE, LOCKED)) {
                return;
            }
            if (hasDependents(slot)) {
                slots.putLongVolatile(slot << 3, TOMBSTONE);
                return;
            }
            slots.putLongVolatile(slot << 3, EMPTY);
            slot = (slot - 1) & slotMask;
            if (slots.getLongVolatile(slot << 3) != TOMBSTONE) {
                return;
            }
        }
    }

    /** Whether a key between this slot and the end of its cluster has its home at or before it. */
    private boolean hasDependents(final int slot) {
        final int limit = Math.min(MAX_CLUSTER_SCAN, slotCount - 1);
        int probe = (slot + 1) & slotMask;
        for (int distance = 1; distance <= limit; distance++) {
            final long word = slots.getLongVolatile(probe << 3);
            if (word == EMPTY) {
                return false;
            }
            if (word != TOMBSTONE && word != LOCKED) {
                final int home = (int)(word >>> 32) & slotMask;
                if (((probe - home) & slotMask) >= distance) {
                    return true;
                }
            }
            probe = (probe + 1) & slotMask;
        }
        return limit < slotCount - 1; // gave up before seeing the whole ring: assume a dependent
    }

    /**
     * Whether the entry behind a slot holds this key in the slot's direction: a seqlock read
     * validated by re-reading ctrl. {@code includeClaimed} also accepts entries whose insert is in
     * progress (for duplicate detection); a torn read there can only cause a spurious conflict.
     */
    private int matches(final long handle, final long meta, final FlowKey key, final boolean includeClaimed) {
        final int base = ConntrackLayout.entryIndex(handle) * ENTRY_LENGTH;
        if (base < 0 || base >= capacity * ENTRY_LENGTH) {
            return NO_MATCH;
        }
        final int ctrl = entries.getIntVolatile(base + CTRL_OFFSET);
        final int status = ctrl & 3;
        if (status != STATUS_LIVE && (!includeClaimed || status != STATUS_CLAIMED)) {
            return NO_MATCH;
        }
        final int keyOffset = base + (ConntrackLayout.direction(handle) == 0 ? ORIGINAL_KEY_OFFSET : REPLY_KEY_OFFSET);
        final boolean equal =
            entries.getLong(keyOffset + KEY_META) == meta &&
            entries.getLong(keyOffset + KEY_SRC_LO) == key.srcAddrLo() &&
            entries.getLong(keyOffset + KEY_DST_LO) == key.dstAddrLo() &&
            entries.getLong(keyOffset + KEY_SRC_HI) == key.srcAddrHi() &&
            entries.getLong(keyOffset + KEY_DST_HI) == key.dstAddrHi();
        VarHandle.acquireFence();
        return equal && entries.getIntVolatile(base + CTRL_OFFSET) == ctrl ? ctrl : NO_MATCH;
    }

    /**
     * Sweeps {@code count} slots from {@code start} (wrapping), cleaning the tombstones that can
     * become empty: gc's share of the index.
     */
    void sweep(final long start, final int count) {
        for (int i = 0; i < count; i++) {
            final int slot = (int)((start + i) & slotMask);
            if (slots.getLongVolatile(slot << 3) == TOMBSTONE) {
                clean(slot);
            }
        }
    }

    /** Slots holding tombstones. Diagnostic for a quiescent table. */
    int tombstoneCount() {
        int count = 0;
        for (int slot = 0; slot < slotCount; slot++) {
            final long word = slots.getLongVolatile(slot << 3);
            if (word == TOMBSTONE || word == LOCKED) {
                count++;
            }
        }
        return count;
    }

    /** Every slot empty: for a region being formatted or rebuilt, before any worker uses it. */
    void clear() {
        slots.setMemory(0, slots.capacity(), (byte)0);
    }

    int slotCount() {
        return slotCount;
    }
}
