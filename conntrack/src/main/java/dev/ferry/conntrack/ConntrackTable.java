package dev.ferry.conntrack;

import org.agrona.concurrent.UnsafeBuffer;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.invoke.VarHandle;
import java.nio.file.Path;
import java.util.concurrent.atomic.AtomicBoolean;

import static dev.ferry.conntrack.ConntrackLayout.BYTES_OFFSET;
import static dev.ferry.conntrack.ConntrackLayout.CTRL_OFFSET;
import static dev.ferry.conntrack.ConntrackLayout.ENTRY_LENGTH;
import static dev.ferry.conntrack.ConntrackLayout.FLAGS_OFFSET;
import static dev.ferry.conntrack.ConntrackLayout.GC_CURSOR_OFFSET;
import static dev.ferry.conntrack.ConntrackLayout.GENERATION_MASK;
import static dev.ferry.conntrack.ConntrackLayout.HEADER_LENGTH;
import static dev.ferry.conntrack.ConntrackLayout.KEY_DST_HI;
import static dev.ferry.conntrack.ConntrackLayout.KEY_DST_LO;
import static dev.ferry.conntrack.ConntrackLayout.KEY_META;
import static dev.ferry.conntrack.ConntrackLayout.KEY_SRC_HI;
import static dev.ferry.conntrack.ConntrackLayout.KEY_SRC_LO;
import static dev.ferry.conntrack.ConntrackLayout.ORIGINAL_KEY_OFFSET;
import static dev.ferry.conntrack.ConntrackLayout.PACKETS_OFFSET;
import static dev.ferry.conntrack.ConntrackLayout.REPLY_KEY_OFFSET;
import static dev.ferry.conntrack.ConntrackLayout.SERVICE_ID_OFFSET;
import static dev.ferry.conntrack.ConntrackLayout.SIZE_OFFSET;
import static dev.ferry.conntrack.ConntrackLayout.SLOT_GC_CURSOR_OFFSET;
import static dev.ferry.conntrack.ConntrackLayout.STATE_WORD_OFFSET;
import static dev.ferry.conntrack.ConntrackLayout.STATUS_CLAIMED;
import static dev.ferry.conntrack.ConntrackLayout.STATUS_DYING;
import static dev.ferry.conntrack.ConntrackLayout.STATUS_FREE;
import static dev.ferry.conntrack.ConntrackLayout.STATUS_LIVE;
import static dev.ferry.conntrack.ConntrackLayout.stateWord;

/**
 * The connection-tracking table: fixed-size entries off-heap, found by either of their two
 * tuples through an open-addressing index, shared lock-free by all workers.
 *
 * <h2>Region layout</h2>
 * One contiguous region, a memory-mapped file ({@link #mapped}) or anonymous memory
 * ({@link #inMemory}): a header, the index ({@link FlowIndex}) and the entries, laid out as
 * {@link ConntrackLayout} describes. The table's parts, each in its own class:
 * <ul>
 * <li>{@link ConntrackLayout}: where every word of the region is (the one description of it);</li>
 * <li>{@link FlowIndex}: the open-addressing index from a tuple to its entry (publish, withdraw,
 *     tombstone cleaning, the seqlock key match);</li>
 * <li>{@link FreeList}: the lock-free stack of free entries;</li>
 * <li>{@link TableRecovery}: formatting a new region and rebuilding index and free list from
 *     the LIVE entries of an attached one;</li>
 * <li>this class: the entries' life (insert, packets, the conditional deletes, gc, flush) and the
 *     public API over all of them.</li>
 * </ul>
 *
 * <h2>Concurrency</h2>
 * {@link #find}, {@link #onPacket}, {@link #insert} and {@link #deleteIfOver} take no lock and allocate nothing; every
 * shared word changes by CAS or by an owner. All slot accesses are volatile (sequentially
 * consistent), which the arguments below rely on.
 * <ul>
 * <li><b>Entry ownership.</b> An entry is FREE on a Treiber stack (the head carries an ABA tag),
 * CLAIMED by the inserter that popped it, LIVE once both keys are in the index, DYING when one
 * deleter has won the CAS LIVE&rarr;DYING. Only the owner of a CLAIMED or DYING entry writes its
 * keys; freeing bumps the 30-bit generation in {@code ctrl}.</li>
 * <li><b>Lookups</b> are seqlock reads: read {@code ctrl} (must be LIVE), compare the stored key,
 * acquire fence, re-read {@code ctrl}; an unchanged LIVE ctrl means the key was not being
 * rewritten (keys are written before the volatile store that makes the entry LIVE, and an entry
 * leaves LIVE before it is freed and reused). A slot word can therefore be stale; the key check
 * makes that harmless.</li>
 * <li><b>Insert</b> probes for the key; pops an entry; writes it; publishes each key by CAS into
 * the first free slot of its chain (empty or tombstone, never a locked tombstone); then re-scans
 * the chain from its home slot to the first empty. If that scan sees another CLAIMED or LIVE
 * entry with the same key, the inserter withdraws (its slot becomes a tombstone) and reports
 * ORIGINAL_EXISTS or REPLY_EXISTS. Two racing inserters each write their slot and then read the
 * other's (Dekker), so at least one sees the other: never two entries for one key; rarely both
 * withdraw, and the caller's next packet retries. If the re-scan meets an empty or locked slot
 * before its own, a tombstone on its path was being cleaned, and it re-publishes.</li>
 * <li><b>Delete</b> CASes LIVE&rarr;DYING (so gc, flush and workers never double-free), turns its two
 * slot words into tombstones, frees the entry.</li>
 * <li><b>Conditional deletes</b> (gc's expiry, {@link #deleteIfOver}'s takeover of a finished flow)
 * check the state word before and again after winning LIVE&rarr;DYING. The CAS names the
 * generation the caller saw, so an entry freed and reused by a new flow in between is never
 * touched. The check before keeps live flows out of DYING, where {@link #find} would miss them
 * (their next packet would be routed as a new flow); the check after decides: a state word that no
 * longer qualifies once the entry is DYING (a packet refreshed it, or moved the flow out of
 * TIME_WAIT/CLOSE, between the two reads) gives the entry back by restoring its LIVE ctrl. Two workers taking over the
 * same dead tuple: one wins the CAS, the other sees false, and both then insert a flow with that
 * reply tuple, where the insert's own rule (never two entries for one key) lets at most one
 * succeed; the other gets REPLY_EXISTS. A packet accounted concurrently ({@link #onPacket} past
 * its ctrl check) could still move the state word after the re-read; the only way out of
 * TIME_WAIT or CLOSE is an original-direction SYN, which the dataplane never accounts on a
 * finished flow (it deletes the entry and routes the SYN as a new flow), and an expired entry is
 * likewise deleted, not refreshed, by the packet that finds it. While an entry is DYING,
 * {@link #find} misses it, as during any delete.</li>
 * <li><b>Tombstone cleaning.</b> A tombstone whose next slot is empty ends its chain and can become
 * empty: the cleaner CASes it to LOCKED, re-reads the next slot, and only if that is still empty
 * writes EMPTY (else restores the tombstone); then it walks back over preceding tombstones. A key
 * whose inserter has finished has a non-empty path from its home, so its path never ends in the
 * cleaned slot. A key published into the next slot after that re-read has an inserter that will
 * read the cleaned slot afterwards, see LOCKED or EMPTY, and re-publish: no finished key ever
 * becomes unreachable. Deletes clean behind themselves and {@link #gc} sweeps a slice of slots.</li>
 * <li><b>Handles</b> are {@code generation << 32 | entryIndex << 1 | direction}: the low 32 bits
 * are exactly the index and direction, the generation (bits 32..61) is the entry's when the
 * handle was issued. {@link #delete} and {@link #isLive} act only if the entry still has that
 * generation, so a worker holding a handle while another thread deleted the flow and the entry
 * was reused cannot delete the new flow. {@link #onPacket} checks the generation before
 * updating; a reuse between that check and its CAS on the state word (nanoseconds, and only for
 * a flow deleted while its packet was in flight) can still refresh the new flow once. The plain
 * readers ({@link #state}, {@link #readOriginal}, ...) read whatever the entry holds now.</li>
 * </ul>
 *
 * <h2>Persistence</h2>
 * A mapped table survives the agent: reopening a file with the same magic, layout version,
 * capacity and slot count attaches to it and rebuilds the index and free stack from the LIVE
 * entries (so a crash in the middle of an insert or delete leaves nothing half done); any
 * mismatch recreates the file empty. One process at a time may own a file. {@link #close()}
 * unmaps the region: stop every worker first.
 */
public final class ConntrackTable implements AutoCloseable {
    /** Not found, or no live entry behind a handle. */
    public static final long NOT_FOUND = -1;
    /** No free entry: the new flow is refused (count it); established flows are untouched. */
    public static final long TABLE_FULL = -2;
    /** The original tuple is already tracked (maybe by a concurrent insert): call find. */
    public static final long ORIGINAL_EXISTS = -3;
    /** The reply tuple is already taken by another flow: e.g. pick another SNAT port and retry. */
    public static final long REPLY_EXISTS = -4;

    /** Largest capacity: keeps each of the index and entry regions within 2 GiB. */
    public static final int MAX_CAPACITY = 1 << 23;

    /** Same state and an expiry moving by less than this: skip the write (saves a CAS per packet). */
    static final long REFRESH_GRANULARITY_MS = 1000;
    /** Entries an insert that finds no free entry scans for expired ones before giving up. */
    static final int FULL_TABLE_RECLAIM_SCAN = 16;
    /** Slots swept for cleanable tombstones per entry scanned by gc. */
    static final int SLOTS_SWEPT_PER_ENTRY = 4;
    private static final int CLAIMED_SPIN_LIMIT = 10_000;

    private static final int DELETE_ALWAYS = 0;
    private static final int DELETE_IF_EXPIRED = 1;
    private static final int DELETE_IF_OVER = 2;


    private final Arena arena;
    private final UnsafeBuffer header;
    private final UnsafeBuffer entries;
    private final FlowIndex index;
    private final FreeList free;
    private final int capacity;
    private final long[] timeoutByStateMs;
    private final ConntrackTimeouts timeouts;
    private final boolean attached;
    private final AtomicBoolean closed = new AtomicBoolean();

    private ConntrackTable(
        final Arena arena,
        final MemorySegment region,
        final int capacity,
        final int slotCount,
        final ConntrackTimeouts timeouts,
        final boolean attach) {
        this.arena = arena;
        this.capacity = capacity;
        this.timeouts = timeouts;
        this.timeoutByStateMs = new long[ConntrackState.COUNT];
        for (int state = 0; state < ConntrackState.COUNT; state++) {
            timeoutByStateMs[state] = timeouts.timeoutMs(state);
        }
        final long address = region.address();
        this.header = new UnsafeBuffer(address, HEADER_LENGTH);
        final UnsafeBuffer slots = new UnsafeBuffer(address + HEADER_LENGTH, slotCount * 8);
        this.entries = new UnsafeBuffer(address + HEADER_LENGTH + slotCount * 8L, capacity * ENTRY_LENGTH);
        this.index = new FlowIndex(slots, entries, capacity, slotCount);
        this.free = new FreeList(header, entries, capacity);
        if (attach) {
            TableRecovery.recover(header, entries, index, free, capacity);
        } else {
            TableRecovery.format(header, index, free, capacity);
        }
        this.attached = attach;
    }

    /**
     * A table in anonymous memory, for tests, tracing and agents that need no restart survival.
     *
     * @param capacity maximum number of flows, 1 .. {@link #MAX_CAPACITY}.
     * @param timeouts per-state timeouts.
     * @return an empty table.
     */
    public static ConntrackTable inMemory(final int capacity, final ConntrackTimeouts timeouts) {
        checkCapacity(capacity);
        final int slotCount = ConntrackLayout.slotCountFor(capacity);
        final Arena arena = Arena.ofShared();
        final MemorySegment region = arena.allocate(ConntrackLayout.regionLength(capacity, slotCount), 4096);
        return new ConntrackTable(arena, region, capacity, slotCount, timeouts, false);
    }

    /**
     * A table in a memory-mapped file: attaches to the file if its header has this magic, layout
     * version, capacity and slot count (keeping its entries), else recreates it empty.
     *
     * @param file     the table file; its directory must exist.
     * @param capacity maximum number of flows, 1 .. {@link #MAX_CAPACITY}.
     * @param timeouts per-state timeouts (not stored: they may change between runs).
     * @return the table.
     * @throws java.io.UncheckedIOException if the file cannot be opened, written whole (a full file
     *         system fails here, not later) or mapped.
     */
    public static ConntrackTable mapped(final Path file, final int capacity, final ConntrackTimeouts timeouts) {
        checkCapacity(capacity);
        final int slotCount = ConntrackLayout.slotCountFor(capacity);
        final MappedStateFile.Mapping mapping = MappedStateFile.map(file, ConntrackLayout.regionLength(capacity, slotCount), 24,
            header -> ConntrackLayout.headerMatches(header, capacity, slotCount), "conntrack table");
        return new ConntrackTable(mapping.arena(), mapping.region(), capacity, slotCount, timeouts, mapping.attached());
    }

    /**
     * Looks a tuple up in either direction.
     *
     * @param key the tuple as seen on the wire.
     * @return {@code generation << 32 | entryIndex << 1 | direction}, or {@link #NOT_FOUND}.
     */
    public long find(final FlowKey key) {
        return index.find(key);
    }

    /**
     * @param handle a handle.
     * @return 0 for the original direction, 1 for the reply.
     */
    public static int direction(final long handle) {
        return ConntrackLayout.direction(handle);
    }

    /**
     * @param handle a handle.
     * @return the entry index.
     */
    public static int entryIndex(final long handle) {
        return ConntrackLayout.entryIndex(handle);
    }

    /**
     * @param handle a handle.
     * @return the entry generation the handle was issued for (bits 32..61).
     */
    public static int generation(final long handle) {
        return (int)(handle >>> 32);
    }

    private static int liveCtrl(final long handle) {
        return (generation(handle) << 2) | STATUS_LIVE;
    }

    /**
     * Inserts a flow under both tuples. The entry starts in the protocol's initial state
     * (TCP {@link ConntrackState#NONE}, UDP unreplied, ICMP, SCTP unreplied) expiring after that
     * state's timeout; account its first packet with {@link #onPacket}.
     *
     * <p>When no entry is free the insert first scans a few entries at the gc cursor for expired
     * ones, then refuses. An insert that loses a race holds an entry until it rolls back, so with
     * fewer free entries than racing workers TABLE_FULL can be returned a moment early. ORIGINAL_EXISTS can also mean that a concurrent insert of the same tuple
     * won, or (rarely) that both withdrew: if {@link #find} then misses, drop or retry the packet.
     *
     * @param original  tuple of the packet that opened the flow.
     * @param reply     tuple the answers will carry (after NAT).
     * @param serviceId opaque, stored for the caller.
     * @param flags     opaque, stored for the caller (e.g. masqueraded).
     * @param nowMs     current time, epoch milliseconds.
     * @return the original-direction handle, or {@link #TABLE_FULL}, {@link #ORIGINAL_EXISTS},
     *     {@link #REPLY_EXISTS}.
     */
    public long insert(final FlowKey original, final FlowKey reply, final int serviceId, final int flags, final long nowMs) {
        final long existing = index.probeExisting(original);
        if (existing >= 0) {
            awaitSettled(entryIndex(existing));
            return ORIGINAL_EXISTS;
        }

        int entry = free.pop();
        if (entry < 0) {
            gc(nowMs, FULL_TABLE_RECLAIM_SCAN);
            entry = free.pop();
            if (entry < 0) {
                return TABLE_FULL;
            }
        }

        final int base = entry * ENTRY_LENGTH;
        final int generation = entries.getInt(base + CTRL_OFFSET) >>> 2;
        entries.putIntVolatile(base + CTRL_OFFSET, (generation << 2) | STATUS_CLAIMED);
        writeKey(base + ORIGINAL_KEY_OFFSET, original);
        writeKey(base + REPLY_KEY_OFFSET, reply);
        entries.putInt(base + SERVICE_ID_OFFSET, serviceId);
        entries.putInt(base + FLAGS_OFFSET, flags);
        entries.putLong(base + PACKETS_OFFSET, 0);
        entries.putLong(base + BYTES_OFFSET, 0);
        entries.putLong(base + BYTES_OFFSET + 8, 0);
        final int state = ConntrackTransitions.initialState(original.protocol());
        entries.putLong(base + STATE_WORD_OFFSET, stateWord(nowMs + timeoutByStateMs[state], state));

        final long originalHandle = (long)entry << 1;
        final long originalResult = index.publish(original, originalHandle);
        if (originalResult != FlowIndex.PUBLISHED) {
            release(entry, generation);
            if (originalResult == FlowIndex.INDEX_FULL) {
                return TABLE_FULL;
            }
            awaitSettled(entryIndex(originalResult));
            return ORIGINAL_EXISTS;
        }
        final long replyResult = index.publish(reply, originalHandle | 1);
        if (replyResult != FlowIndex.PUBLISHED) {
            index.unpublish(original.hash(), originalHandle);
            release(entry, generation);
            return replyResult == FlowIndex.INDEX_FULL ? TABLE_FULL : REPLY_EXISTS;
        }
        entries.putIntVolatile(base + CTRL_OFFSET, (generation << 2) | STATUS_LIVE);
        header.getAndAddInt(SIZE_OFFSET, 1);
        return ((long)generation << 32) | originalHandle;
    }

    /**
     * Accounts one packet in the handle's direction: advances the state (TCP from
     * {@code tcpFlags}; UDP and SCTP become assured/replied on a reply-direction packet),
     * refreshes the expiry to {@code nowMs} plus the new state's timeout, counts packets and
     * bytes. State and expiry change together in one CAS; when neither the state changes nor the
     * expiry would move by {@link #REFRESH_GRANULARITY_MS} or more, nothing is written.
     *
     * @param handle   from {@link #find} or {@link #insert}.
     * @param tcpFlags TCP header flags, ignored for other protocols.
     * @param bytes    packet length counted.
     * @param nowMs    current time, epoch milliseconds.
     * @return the state after the update, or {@link ConntrackState#NONE} if the entry is not live.
     */
    public int onPacket(final long handle, final int tcpFlags, final int bytes, final long nowMs) {
        final int base = entryIndex(handle) * ENTRY_LENGTH;
        final int direction = direction(handle);
        if (entries.getIntVolatile(base + CTRL_OFFSET) != liveCtrl(handle)) {
            return ConntrackState.NONE;
        }
        entries.getAndAddInt(base + PACKETS_OFFSET + 4 * direction, 1);
        entries.getAndAddLong(base + BYTES_OFFSET + 8 * direction, bytes);
        while (true) {
            final long current = entries.getLongVolatile(base + STATE_WORD_OFFSET);
            final int word = (int)current & 0xFFFF;
            final int next = ConntrackTransitions.next(word, direction, tcpFlags);
            final int nextState = next & 0xFF;
            final long expiresAtMs = nowMs + timeoutByStateMs[nextState];
            if (next == word && expiresAtMs - (current >>> 16) < REFRESH_GRANULARITY_MS) {
                return nextState;
            }
            if (entries.compareAndSetLong(base + STATE_WORD_OFFSET, current, stateWord(expiresAtMs, next))) {
                return nextState;
            }
        }
    }

    /**
     * Copies the original tuple of the handle's entry.
     *
     * @param handle either direction.
     * @param out    overwritten.
     */
    public void readOriginal(final long handle, final FlowKey out) {
        readKey(entries, entryIndex(handle) * ENTRY_LENGTH + ORIGINAL_KEY_OFFSET, out);
    }

    /**
     * Copies the reply tuple of the handle's entry.
     *
     * @param handle either direction.
     * @param out    overwritten.
     */
    public void readReply(final long handle, final FlowKey out) {
        readKey(entries, entryIndex(handle) * ENTRY_LENGTH + REPLY_KEY_OFFSET, out);
    }

    /**
     * Copies the original tuple of the handle's entry and tells whether the entry is still the
     * flow the handle names. Another thread (a worker's insert, gc, a flush, a delete) may free
     * the entry and reuse it while it is copied; the copy, an acquire fence, then the liveness
     * check of the handle's generation make this a seqlock-style read: on true {@code out}
     * holds that flow's tuple, on false it may hold another flow's or a torn mix and is to be
     * ignored. Every reader that acts on a tuple reads it this way.
     *
     * @param handle either direction.
     * @param out    overwritten.
     * @return true if {@code out} holds the tuple of the live flow the handle names.
     */
    public boolean readOriginalIfLive(final long handle, final FlowKey out) {
        readOriginal(handle, out);
        VarHandle.acquireFence();
        return isLive(handle);
    }

    /**
     * As {@link #readOriginalIfLive}, for the reply tuple.
     *
     * @param handle either direction.
     * @param out    overwritten.
     * @return true if {@code out} holds the reply tuple of the live flow the handle names.
     */
    public boolean readReplyIfLive(final long handle, final FlowKey out) {
        readReply(handle, out);
        VarHandle.acquireFence();
        return isLive(handle);
    }

    /**
     * @param handle either direction.
     * @return the {@link ConntrackState} constant.
     */
    public int state(final long handle) {
        return (int)entries.getLongVolatile(entryIndex(handle) * ENTRY_LENGTH + STATE_WORD_OFFSET) & 0xFF;
    }

    /**
     * @param handle either direction.
     * @return the service id given to insert.
     */
    public int serviceId(final long handle) {
        return entries.getInt(entryIndex(handle) * ENTRY_LENGTH + SERVICE_ID_OFFSET);
    }

    /**
     * @param handle either direction.
     * @return the flags given to insert.
     */
    public int flags(final long handle) {
        return entries.getInt(entryIndex(handle) * ENTRY_LENGTH + FLAGS_OFFSET);
    }

    /**
     * @param handle either direction.
     * @return epoch milliseconds at which gc may reclaim the entry.
     */
    public long expiresAtMs(final long handle) {
        return entries.getLongVolatile(entryIndex(handle) * ENTRY_LENGTH + STATE_WORD_OFFSET) >>> 16;
    }

    /**
     * @param handle selects the entry and the direction.
     * @return packets counted in that direction (32-bit, wrapping; read as unsigned).
     */
    public long packets(final long handle) {
        return entries.getIntVolatile(entryIndex(handle) * ENTRY_LENGTH + PACKETS_OFFSET + 4 * direction(handle)) &
            0xFFFF_FFFFL;
    }

    /**
     * @param handle selects the entry and the direction.
     * @return bytes counted in that direction.
     */
    public long bytes(final long handle) {
        return entries.getLongVolatile(entryIndex(handle) * ENTRY_LENGTH + BYTES_OFFSET + 8 * direction(handle));
    }

    /**
     * Whether the handle's entry is live (inserted and not deleted). Control side: the answer can
     * change right after it is given.
     *
     * @param handle either direction.
     * @return true if live.
     */
    public boolean isLive(final long handle) {
        return entries.getIntVolatile(entryIndex(handle) * ENTRY_LENGTH + CTRL_OFFSET) == liveCtrl(handle);
    }

    /**
     * Removes both keys and frees the entry. Safe against concurrent deletes, gc and flush: one
     * of them wins, the others see false.
     *
     * @param handle either direction.
     * @return true if this call deleted a live entry.
     */
    public boolean delete(final long handle) {
        return deleteEntry(entryIndex(handle), liveCtrl(handle), DELETE_ALWAYS, 0);
    }

    /**
     * Whether the handle's flow is over, so that a new flow may take its tuples: a TCP flow in
     * TIME_WAIT or CLOSE ({@link ConntrackState#isFinished}), or any flow past its expiry that gc
     * has not swept yet. A live flow (every other state before its expiry) never is. Read-only;
     * the answer can change right after it is given, {@link #deleteIfOver} decides for good.
     *
     * @param handle either direction.
     * @param nowMs  current time, epoch milliseconds.
     * @return true if the entry is live and its flow is over.
     */
    public boolean isOver(final long handle, final long nowMs) {
        final int base = entryIndex(handle) * ENTRY_LENGTH;
        final long stateWord = entries.getLongVolatile(base + STATE_WORD_OFFSET);
        VarHandle.acquireFence();
        return entries.getIntVolatile(base + CTRL_OFFSET) == liveCtrl(handle) && over(stateWord, nowMs);
    }

    /**
     * Deletes the handle's flow if it is over (see {@link #isOver}), deciding on the state word
     * after winning the entry (class Javadoc: conditional deletes), so a flow that is live at
     * that moment is never deleted. The takeover of a finished flow's tuple, as netfilter lets a
     * new SYN take over a tuple in TIME_WAIT: delete, then {@link #insert} the new flow.
     *
     * @param handle either direction, from {@link #find}.
     * @param nowMs  current time, epoch milliseconds.
     * @return true if this call deleted it; false if it was live, or already deleted by another
     *     thread (the caller's insert then tells whether the tuple is free).
     */
    public boolean deleteIfOver(final long handle, final long nowMs) {
        return deleteEntry(entryIndex(handle), liveCtrl(handle), DELETE_IF_OVER, nowMs);
    }

    /**
     * When the handle's flow last had a packet accounted: its expiry less its state's timeout, so
     * to within {@link #REFRESH_GRANULARITY_MS}. For choosing which finished flow to take over.
     *
     * @param handle either direction.
     * @return epoch milliseconds.
     */
    public long lastPacketMs(final long handle) {
        final long stateWord = entries.getLongVolatile(entryIndex(handle) * ENTRY_LENGTH + STATE_WORD_OFFSET);
        return (stateWord >>> 16) - timeoutByStateMs[(int)stateWord & 0xFF];
    }

    private static boolean over(final long stateWord, final long nowMs) {
        return ConntrackState.isFinished((int)stateWord & 0xFF) || (stateWord >>> 16) <= nowMs;
    }

    /**
     * Sweeps up to {@code maxEntriesToScan} entries from a shared rotating cursor, deleting those
     * whose expiry is at or before {@code nowMs}, and sweeps a proportional slice of the index for
     * tombstones that can become empty. Several threads may call it at once (each claims its own
     * slice of the cursor).
     *
     * @param nowMs            current time, epoch milliseconds.
     * @param maxEntriesToScan bound of the work done by this call.
     * @return entries reclaimed.
     */
    public int gc(final long nowMs, final int maxEntriesToScan) {
        if (maxEntriesToScan <= 0) {
            return 0;
        }
        final int scan = Math.min(maxEntriesToScan, capacity);
        final long start = header.getAndAddLong(GC_CURSOR_OFFSET, scan);
        int reclaimed = 0;
        for (int i = 0; i < scan; i++) {
            final int entry = (int)((start + i) % capacity);
            final int base = entry * ENTRY_LENGTH;
            final int ctrl = entries.getIntVolatile(base + CTRL_OFFSET);
            if ((ctrl & 3) == STATUS_LIVE &&
                (entries.getLongVolatile(base + STATE_WORD_OFFSET) >>> 16) <= nowMs &&
                deleteEntry(entry, ctrl, DELETE_IF_EXPIRED, nowMs)) {
                reclaimed++;
            }
        }

        final int slotScan = (int)Math.min((long)scan * SLOTS_SWEPT_PER_ENTRY, index.slotCount());
        index.sweep(header.getAndAddLong(SLOT_GC_CURSOR_OFFSET, slotScan), slotScan);
        return reclaimed;
    }

    /**
     * Deletes the flows whose reply-tuple source (the backend, after DNAT) is
     * {@code backendAddr:backendPort}, as kube-proxy does for UDP when an endpoint goes away.
     * Control side: walks every entry.
     *
     * @param protocol    IP protocol to match, 0 for any.
     * @param backendAddr backend IPv4 address, first octet most significant.
     * @param backendPort backend port.
     * @return flows deleted.
     */
    public int flushBackendIpv4(final int protocol, final int backendAddr, final int backendPort) {
        final long srcLo = FlowKey.IPV4_MAPPED_PREFIX | (backendAddr & 0xFFFF_FFFFL);
        int deleted = 0;
        for (int entry = 0; entry < capacity; entry++) {
            final int base = entry * ENTRY_LENGTH;
            final int ctrl = entries.getIntVolatile(base + CTRL_OFFSET);
            if ((ctrl & 3) != STATUS_LIVE) {
                continue;
            }
            final int key = base + REPLY_KEY_OFFSET;
            final long meta = entries.getLong(key + KEY_META);
            final long hi = entries.getLong(key + KEY_SRC_HI);
            final long lo = entries.getLong(key + KEY_SRC_LO);
            VarHandle.acquireFence();
            if (entries.getIntVolatile(base + CTRL_OFFSET) != ctrl) {
                continue;
            }
            final int entryProtocol = (int)(meta >>> 32) & 0xFF;
            final int srcPort = (int)(meta >>> 16) & 0xFFFF;
            if ((protocol == 0 || protocol == entryProtocol) && hi == 0 && lo == srcLo &&
                srcPort == (backendPort & 0xFFFF) && deleteEntry(entry, ctrl, DELETE_ALWAYS, 0)) {
                deleted++;
            }
        }
        return deleted;
    }

    /**
     * Visits every entry that is live when the walk reaches it, by original-direction handle.
     * Control side: walks every entry; the visitor may delete the entry it is given.
     *
     * @param visitor called per live entry.
     */
    public void forEach(final EntryVisitor visitor) {
        for (int entry = 0; entry < capacity; entry++) {
            final int ctrl = entries.getIntVolatile(entry * ENTRY_LENGTH + CTRL_OFFSET);
            if ((ctrl & 3) == STATUS_LIVE) {
                visitor.visit(((long)(ctrl >>> 2) << 32) | ((long)entry << 1));
            }
        }
    }

    /** @return live flows. */
    public int size() {
        return header.getIntVolatile(SIZE_OFFSET);
    }

    /** @return maximum number of flows. */
    public int capacity() {
        return capacity;
    }

    /** @return index slots (a power of two, at least 4 x capacity). */
    public int slotCount() {
        return index.slotCount();
    }

    /** @return the timeouts this table applies. */
    public ConntrackTimeouts timeouts() {
        return timeouts;
    }

    /** @return true if {@link #mapped} attached to an existing file and kept its entries. */
    public boolean attached() {
        return attached;
    }

    /**
     * Length of the free stack. Diagnostic for a quiescent table (no concurrent insert or
     * delete): with workers running the walk can be wrong.
     *
     * @return free entries.
     */
    public int freeCount() {
        return free.count();
    }

    /**
     * Slots holding tombstones. Diagnostic for a quiescent table.
     *
     * @return tombstone count.
     */
    public int tombstoneCount() {
        return index.tombstoneCount();
    }

    /**
     * Unmaps the region (a mapped file keeps its contents for the next {@link #mapped}). Every
     * worker must have stopped using the table: access after close faults. Idempotent.
     */
    @Override
    public void close() {
        if (closed.compareAndSet(false, true)) {
            arena.close();
        }
    }

    /** Test hook: overwrites an entry's status as a crash would leave it. */
    void testOnlySetStatus(final long handle, final int status) {
        final int offset = entryIndex(handle) * ENTRY_LENGTH + CTRL_OFFSET;
        entries.putIntVolatile(offset, (entries.getIntVolatile(offset) & ~3) | status);
    }

    // ------------------------------------------------------------------ entries

    /**
     * Deletes an entry if its ctrl is still {@code expectedCtrl} (LIVE of that generation). With a
     * condition ({@link #DELETE_IF_EXPIRED}: expiry at or before {@code nowMs};
     * {@link #DELETE_IF_OVER}: {@link #over}), checked on the state word once the entry is DYING,
     * gives the entry back if it no longer holds (a packet refreshed it since the caller looked).
     */
    private boolean deleteEntry(final int index, final int expectedCtrl, final int condition, final long nowMs) {
        final int base = index * ENTRY_LENGTH;
        final int generation = expectedCtrl >>> 2;
        final int dying = (generation << 2) | STATUS_DYING;
        // A condition is checked before the claim too: a DYING entry is invisible to find, so a
        // live flow must not be claimed only to be given back.
        if (condition != DELETE_ALWAYS && !qualifies(base, condition, nowMs)) {
            return false;
        }
        if (!entries.compareAndSetInt(base + CTRL_OFFSET, expectedCtrl, dying)) {
            return false;
        }
        if (condition != DELETE_ALWAYS && !qualifies(base, condition, nowMs)) {
            entries.putIntVolatile(base + CTRL_OFFSET, expectedCtrl);
            return false;
        }
        this.index.unpublish(storedHash(base + ORIGINAL_KEY_OFFSET), (long)index << 1);
        this.index.unpublish(storedHash(base + REPLY_KEY_OFFSET), ((long)index << 1) | 1);
        header.getAndAddInt(SIZE_OFFSET, -1);
        release(index, generation);
        return true;
    }

    private boolean qualifies(final int base, final int condition, final long nowMs) {
        final long stateWord = entries.getLongVolatile(base + STATE_WORD_OFFSET);
        return condition == DELETE_IF_EXPIRED ? (stateWord >>> 16) <= nowMs : over(stateWord, nowMs);
    }

    private void release(final int index, final int generation) {
        entries.putIntVolatile(index * ENTRY_LENGTH + CTRL_OFFSET, (((generation + 1) & GENERATION_MASK) << 2) | STATUS_FREE);
        free.push(index);
    }

    private void awaitSettled(final int index) {
        final int offset = index * ENTRY_LENGTH + CTRL_OFFSET;
        for (int i = 0; i < CLAIMED_SPIN_LIMIT && (entries.getIntVolatile(offset) & 3) == STATUS_CLAIMED; i++) {
            Thread.onSpinWait();
        }
    }

    private int storedHash(final int keyOffset) {
        return FlowKey.hash(
            entries.getLong(keyOffset + KEY_META),
            entries.getLong(keyOffset + KEY_SRC_HI),
            entries.getLong(keyOffset + KEY_SRC_LO),
            entries.getLong(keyOffset + KEY_DST_HI),
            entries.getLong(keyOffset + KEY_DST_LO));
    }

    private void writeKey(final int keyOffset, final FlowKey key) {
        entries.putLong(keyOffset + KEY_META, key.meta());
        entries.putLong(keyOffset + KEY_SRC_HI, key.srcAddrHi());
        entries.putLong(keyOffset + KEY_SRC_LO, key.srcAddrLo());
        entries.putLong(keyOffset + KEY_DST_HI, key.dstAddrHi());
        entries.putLong(keyOffset + KEY_DST_LO, key.dstAddrLo());
    }

    /** Copies the key at {@code keyOffset} of the entries region into {@code out} (no liveness check). */
    static void readKey(final UnsafeBuffer entries, final int keyOffset, final FlowKey out) {
        out.setFromStored(
            entries.getLong(keyOffset + KEY_META),
            entries.getLong(keyOffset + KEY_SRC_HI),
            entries.getLong(keyOffset + KEY_SRC_LO),
            entries.getLong(keyOffset + KEY_DST_HI),
            entries.getLong(keyOffset + KEY_DST_LO));
    }


    // ------------------------------------------------------------------ setup

    private static void checkCapacity(final int capacity) {
        if (capacity < 1 || capacity > MAX_CAPACITY) {
            throw new IllegalArgumentException(
                "conntrack capacity " + capacity + " is out of range: use 1 .. " + MAX_CAPACITY);
        }
    }
}
