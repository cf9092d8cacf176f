package dev.ferry.dataplane.lb;

import dev.ferry.conntrack.MappedStateFile;
import dev.ferry.dataplane.service.EndpointSet;
import org.agrona.concurrent.UnsafeBuffer;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.nio.ByteBuffer;
import java.nio.file.Path;
import java.util.concurrent.atomic.AtomicLong;

/**
 * ClientIP session-affinity records shared by all workers: (service port, client IP) → the
 * backend last chosen and when the record expires. A record outlives any one connection; each
 * new connection that uses it pushes its expiry to now + the service's timeout, as kube-proxy's
 * affinity sets do.
 *
 * <p>Fixed capacity, chosen at construction, in one off-heap region: process memory, or a file
 * mapped with {@link #mapped} so that the records outlive the agent (a restarted agent keeps
 * every client on its backend, as kube-proxy's kernel affinity sets do). Nothing is allocated
 * after that. The region starts with a header (magic, layout version, slot count) by which a
 * restarted agent recognises the file; one of another layout or size is replaced by an empty
 * table. Open addressing with linear probing over a bounded window of
 * {@value #PROBE_WINDOW} slots; slots are never emptied, an expired one is reused in place, so
 * probe chains stay intact. Each slot is four longs guarded by a per-slot sequence number:
 * <pre>
 *   +0  version   even = stable, odd = a writer is inside
 *   +1  key       serviceKey (32, never 0) | client address (32); 0 = never used
 *   +2  backend   address (32) | port (16) | index hint into the endpoint set (16)
 *   +3  expiryMs  record is valid while nowMs &lt;= expiryMs
 * </pre>
 * Lock-free: nobody waits for another thread. Inserting a record, replacing its backend, or
 * reusing an expired slot for another client claims the slot by a CAS of its version from the
 * even value read to odd; if that CAS fails (another worker got there first) the writer gives up
 * and the connection simply goes unrecorded (counted in {@link #contendedWrites()}). Refreshing
 * the expiry of a live record, by far the most common write, does not touch the version: it
 * raises {@code expiryMs} with a CAS loop, so readers of busy records are not disturbed. A reader
 * that meets a slot mid-write re-reads it a few times and then treats it as a miss. Two first
 * connections of the same client racing on two workers may pick different backends once; later
 * connections stick to whichever record won. When every slot of a window is live, new clients
 * are not recorded (counted in {@link #failedInserts()}) and get a plain pick.
 *
 * <p>The service key is {@link dev.ferry.dataplane.service.ServicePort#affinityKey()}, stable
 * across snapshots, so records survive a table swap. A stored backend that is no longer in the
 * eligible set is ignored (and replaced on the next record).
 */
public final class ClientIpAffinityTable implements AutoCloseable {
    /** Slots probed per lookup or insert. */
    public static final int PROBE_WINDOW = 16;
    /** Default slot count: 64 Ki records, 2 MiB. */
    public static final int DEFAULT_CAPACITY = 1 << 16;
    /** Upper bound on the slot count: 32 Mi records, 1 GiB. */
    public static final int MAX_CAPACITY = 1 << 25;

    static final long MAGIC = 0x3146_4159_5252_4546L; // "FERRYAF1" in little-endian bytes
    static final int LAYOUT_VERSION = 1;
    private static final int MAGIC_OFFSET = 0;
    private static final int VERSION_OFFSET = 8;
    private static final int SLOT_COUNT_OFFSET = 12;
    /** Header bytes before the first slot (a cache line). */
    static final int HEADER_LENGTH = 64;

    private static final int SLOT_LONGS = 4;
    private static final int READ_ATTEMPTS = 8;
    private static final int VERSION = 0;
    private static final int KEY = 1;
    private static final int BACKEND = 2;
    private static final int EXPIRY = 3;

    private final Arena arena;
    /** Held so that an in-memory region (an automatic arena's) lives as long as the table. */
    private final MemorySegment segment;
    /** The whole region: header, then slots of {@value #SLOT_LONGS} longs. */
    private final UnsafeBuffer region;
    private final boolean attached;
    private final int mask;
    private final int window;
    private final AtomicLong failedInserts = new AtomicLong();
    private final AtomicLong contendedWrites = new AtomicLong();

    /** An in-memory table. @param capacity number of records, rounded up to a power of two, 16..{@value #MAX_CAPACITY} */
    public ClientIpAffinityTable(final int capacity) {
        this(null, null, slotCountFor(capacity), false);
    }

    public ClientIpAffinityTable() {
        this(DEFAULT_CAPACITY);
    }

    /**
     * A table in a memory-mapped file that survives the agent: attached to as it is when its
     * header says this layout and slot count (live records keep their backends), else recreated
     * empty ({@link #attached()} tells which).
     *
     * @throws java.io.UncheckedIOException when the file cannot be opened, written whole or mapped
     */
    public static ClientIpAffinityTable mapped(final Path file, final int capacity) {
        final int slotCount = slotCountFor(capacity);
        final MappedStateFile.Mapping mapping = MappedStateFile.map(file, regionLength(slotCount), HEADER_LENGTH,
            header -> header.getLong(MAGIC_OFFSET) == MAGIC && header.getInt(VERSION_OFFSET) == LAYOUT_VERSION
                && header.getInt(SLOT_COUNT_OFFSET) == slotCount, "ClientIP affinity table");
        return new ClientIpAffinityTable(mapping.arena(), mapping.attached() ? mapping.region() : format(mapping.region(), slotCount),
            slotCount, mapping.attached());
    }

    private ClientIpAffinityTable(final Arena arena, final MemorySegment mapped, final int slotCount, final boolean attached) {
        this.segment = mapped != null ? mapped
            : format(Arena.ofAuto().allocate(regionLength(slotCount), 64), slotCount); // freed with the table
        this.arena = arena;
        this.region = new UnsafeBuffer(segment.address(), (int) segment.byteSize());
        this.attached = attached;
        this.mask = slotCount - 1;
        this.window = Math.min(PROBE_WINDOW, slotCount);
        if (attached) {
            settleTornSlots();
        }
    }

    private static int slotCountFor(final int capacity) {
        if (capacity < 1 || capacity > MAX_CAPACITY) {
            throw new IllegalArgumentException("affinity table capacity " + capacity + " is outside 1.." + MAX_CAPACITY);
        }
        return Math.max(16, Integer.highestOneBit(capacity - 1) << 1);
    }

    private static long regionLength(final int slotCount) {
        return HEADER_LENGTH + (long) slotCount * SLOT_LONGS * Long.BYTES;
    }

    /**
     * The header of a new table, magic last: a crash while formatting leaves a file the next start
     * recreates. The slots are zero already (an arena's memory, or MappedStateFile's fresh file).
     */
    private static MemorySegment format(final MemorySegment segment, final int slotCount) {
        final ByteBuffer header = segment.asSlice(0, HEADER_LENGTH).asByteBuffer().order(java.nio.ByteOrder.nativeOrder());
        header.putInt(VERSION_OFFSET, LAYOUT_VERSION);
        header.putInt(SLOT_COUNT_OFFSET, slotCount);
        header.putLong(MAGIC_OFFSET, MAGIC);
        return segment;
    }

    /**
     * A slot whose writer died inside it (odd version: the agent was killed mid-write) is made
     * stable and expired, so that it reads as a free slot of the probe chain instead of a
     * writer that never leaves.
     */
    private void settleTornSlots() {
        for (int s = 0; s <= mask; s++) {
            final int base = s * SLOT_LONGS;
            final long version = get(base + VERSION);
            if ((version & 1) != 0) {
                region.putLong(offset(base + EXPIRY), 0);
                region.putLongRelease(offset(base + VERSION), version + 1);
            }
        }
    }

    /** True when {@link #mapped} kept the file's records. */
    public boolean attached() {
        return attached;
    }

    private static int offset(final int longIndex) {
        return HEADER_LENGTH + longIndex * Long.BYTES;
    }

    private long get(final int longIndex) {
        return region.getLong(offset(longIndex));
    }

    private long getAcquire(final int longIndex) {
        return region.getLongAcquire(offset(longIndex));
    }

    private void set(final int longIndex, final long value) {
        region.putLong(offset(longIndex), value);
    }

    private void setRelease(final int longIndex, final long value) {
        region.putLongRelease(offset(longIndex), value);
    }

    private boolean compareAndSet(final int longIndex, final long expected, final long value) {
        return region.compareAndSetLong(offset(longIndex), expected, value);
    }

    /** Unmaps a mapped table (its records stay in the file). The table must not be used after. */
    @Override
    public void close() {
        if (arena != null) {
            arena.close();
        }
    }

    /** Number of record slots. */
    public int capacity() {
        return mask + 1;
    }

    /**
     * The index in {@code endpoints} of the live record's backend for (serviceKey, client), or -1
     * when there is no live record, the record's backend is not in the set, or the slot stayed
     * mid-write over a few reads. On a hit the record's expiry is raised to {@code newExpiryMs}.
     */
    public int lookup(
        final int serviceKey, final int clientAddr, final EndpointSet endpoints, final long nowMs, final long newExpiryMs) {
        final long key = key(serviceKey, clientAddr);
        final int start = mix(key) & mask;
        for (int p = 0; p < window; p++) {
            final int base = ((start + p) & mask) * SLOT_LONGS;
            for (int attempt = 0; attempt < READ_ATTEMPTS; attempt++) {
                final long v1 = getAcquire(base + VERSION);
                final long k = getAcquire(base + KEY);
                final long backend = getAcquire(base + BACKEND);
                final long expiryMs = getAcquire(base + EXPIRY);
                final long v2 = getAcquire(base + VERSION);
                if ((v1 & 1) != 0 || v1 != v2) {
                    Thread.onSpinWait();
                    continue; // a writer is inside this slot: read it again
                }
                if (k == 0) {
                    return -1; // end of the probe chain
                }
                if (k != key) {
                    break; // next slot
                }
                if (nowMs > expiryMs) {
                    return -1;
                }
                final int index = indexOf(backend, endpoints);
                if (index >= 0) {
                    raiseExpiry(base, newExpiryMs);
                }
                return index;
            }
        }
        return -1;
    }

    private static int indexOf(final long backend, final EndpointSet endpoints) {
        final int address = (int) (backend >>> 32);
        final int port = (int) (backend >>> 16) & 0xFFFF;
        final int hint = (int) backend & 0xFFFF;
        if (hint < endpoints.size() && endpoints.address(hint) == address && endpoints.port(hint) == port) {
            return hint;
        }
        return endpoints.indexOf(address, port);
    }

    private void raiseExpiry(final int base, final long newExpiryMs) {
        long current = get(base + EXPIRY);
        while (current < newExpiryMs && !compareAndSet(base + EXPIRY, current, newExpiryMs)) {
            current = get(base + EXPIRY);
        }
    }

    /**
     * Records (or refreshes) that (serviceKey, client) goes to the backend, valid until
     * {@code expiryMs}. Returns false when the record could not be written (slot contended, or
     * no free or expired slot in the probe window).
     *
     * @param indexHint the backend's index in the current endpoint set, to skip a scan on lookup
     */
    public boolean record(
        final int serviceKey,
        final int clientAddr,
        final int backendAddress,
        final int backendPort,
        final int indexHint,
        final long nowMs,
        final long expiryMs) {
        final long key = key(serviceKey, clientAddr);
        final long backend = ((long) backendAddress << 32) | ((long) (backendPort & 0xFFFF) << 16) | (indexHint & 0xFFFF);
        final int start = mix(key) & mask;
        int freeBase = -1;
        long freeVersion = 0;
        long freeKey = 0;
        for (int p = 0; p < window; p++) {
            final int base = ((start + p) & mask) * SLOT_LONGS;
            final long v = getAcquire(base + VERSION);
            final long k = getAcquire(base + KEY);
            final long e = getAcquire(base + EXPIRY);
            if ((v & 1) != 0) {
                contendedWrites.getAndIncrement();
                return false;
            }
            if (k == key) {
                return write(base, v, key, backend, expiryMs, false, nowMs);
            }
            if (k == 0) {
                if (freeBase < 0) {
                    freeBase = base;
                    freeVersion = v;
                }
                break; // end of the probe chain: the key is nowhere further
            }
            if (freeBase < 0 && nowMs > e) {
                freeBase = base;
                freeVersion = v;
                freeKey = k;
            }
        }
        if (freeBase < 0) {
            failedInserts.getAndIncrement();
            return false;
        }
        return write(freeBase, freeVersion, key, backend, expiryMs, freeKey != 0, nowMs);
    }

    /**
     * @param reclaim true when taking over an expired slot of another key: its expiry is checked
     *                again once the slot is held, because refreshes do not take the version
     */
    private boolean write(
        final int base, final long version, final long key, final long backend, final long expiryMs, final boolean reclaim, final long nowMs) {
        if (!compareAndSet(base + VERSION, version, version + 1)) {
            contendedWrites.getAndIncrement();
            return false;
        }
        if (reclaim && nowMs <= get(base + EXPIRY)) {
            setRelease(base + VERSION, version + 2); // refreshed meanwhile: leave it to its owner
            contendedWrites.getAndIncrement();
            return false;
        }
        set(base + KEY, key);
        set(base + BACKEND, backend);
        set(base + EXPIRY, expiryMs);
        setRelease(base + VERSION, version + 2);
        return true;
    }

    /** Live records right now; scans the whole table (control side, tests). */
    public int liveRecords(final long nowMs) {
        int live = 0;
        for (int s = 0; s <= mask; s++) {
            final int base = s * SLOT_LONGS;
            if (get(base + KEY) != 0 && nowMs <= get(base + EXPIRY)) {
                live++;
            }
        }
        return live;
    }

    /** New records dropped because every slot of their probe window held a live record. */
    public long failedInserts() {
        return failedInserts.get();
    }

    /** Writes abandoned because another worker was writing the same slot. */
    public long contendedWrites() {
        return contendedWrites.get();
    }

    private static long key(final int serviceKey, final int clientAddr) {
        // serviceKey is never 0, so no real key is 0 (the "never used" marker).
        return ((long) serviceKey << 32) | (clientAddr & 0xFFFFFFFFL);
    }

    private static int mix(long k) {
        k ^= k >>> 33;
        k *= 0xff51afd7ed558ccdL;
        k ^= k >>> 33;
        k *= 0xc4ceb9fe1a85ec53L;
        k ^= k >>> 33;
        return (int) k;
    }
}
