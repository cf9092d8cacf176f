package dev.ferry.dataplane.counters;

import dev.ferry.dataplane.packet.DropReason;
import org.agrona.IoUtil;
import org.agrona.concurrent.AtomicBuffer;
import org.agrona.concurrent.UnsafeBuffer;
import org.agrona.concurrent.status.CountersManager;
import org.agrona.concurrent.status.CountersReader;

import java.io.File;
import java.nio.ByteBuffer;
import java.nio.MappedByteBuffer;
import java.nio.file.Path;

/**
 * The dataplane's counters, in one Agrona counters area: metadata (labels, type ids) then
 * values. Backed by a memory-mapped file so that {@code ferry stat} reads them live from
 * another process, or by plain memory in tests.
 *
 * <pre>
 *  file:  [ metadata: CountersManager records (type id, label) ][ values: one 128-byte slot each ]
 *  ids:   queue q, counter type t  ->  id = q * PER_AGENT + index of t
 *         (CounterType values in order, then DropReason values in order)
 *  sets:  one per queue, "queue-0" .. "queue-N-1" (see {@link #agentNames(int)})
 * </pre>
 *
 * Ids are allocated in that fixed order on every start, so a counter keeps its id across
 * restarts. Each queue's thread (it receives, processes and sends: run to completion) writes
 * only its own set (single writer: release stores, no atomic read-modify-write on the hot
 * path); readers sum across sets.
 */
public final class DataplaneCounters implements AutoCloseable {
    /** Counters per set: every CounterType and every DropReason. */
    public static final int PER_AGENT = CounterType.values().length + DropReason.values().length;
    /** The most queues (counter sets) a file holds. */
    public static final int MAX_QUEUES = 64;

    private final CountersManager manager;
    private final WorkerCounters[] workers;
    private final MappedByteBuffer mapped;

    private DataplaneCounters(final AtomicBuffer metadata, final AtomicBuffer values, final MappedByteBuffer mapped, final int agentCount) {
        this.mapped = mapped;
        this.manager = new CountersManager(metadata, values);
        this.workers = new WorkerCounters[agentCount];
        final String[] names = agentNames(agentCount);
        for (int a = 0; a < agentCount; a++) {
            workers[a] = new WorkerCounters(manager, names[a]);
        }
    }

    /** The owners of the counter sets, in id order: one per queue. */
    public static String[] agentNames(final int queueCount) {
        final String[] names = new String[queueCount];
        for (int q = 0; q < queueCount; q++) {
            names[q] = "queue-" + q;
        }
        return names;
    }

    private static int agentCount(final int queueCount) {
        if (queueCount < 1 || queueCount > MAX_QUEUES) {
            throw new IllegalArgumentException("queue count " + queueCount + " is outside 1.." + MAX_QUEUES);
        }
        return queueCount;
    }

    /** Counters in plain memory (tests, trace). */
    public static DataplaneCounters inMemory(final int queueCount) {
        final int agents = agentCount(queueCount);
        final int values = valuesLength(agents);
        return new DataplaneCounters(
            new UnsafeBuffer(ByteBuffer.allocateDirect(values * 4)), new UnsafeBuffer(ByteBuffer.allocateDirect(values)), null, agents);
    }

    /** Counters in a file, created anew (the values restart from zero; the ids do not change). */
    public static DataplaneCounters mapped(final Path file, final int queueCount) {
        final int agents = agentCount(queueCount);
        final int values = valuesLength(agents);
        final int metadata = values * 4;
        final File f = file.toFile();
        IoUtil.deleteIfExists(f);
        final MappedByteBuffer buffer = IoUtil.mapNewFile(f, metadata + values);
        return new DataplaneCounters(new UnsafeBuffer(buffer, 0, metadata), new UnsafeBuffer(buffer, metadata, values), buffer, agents);
    }

    /** Opens a counters file written by a running dataplane, for reading. */
    public static CountersReader readerOf(final Path file) {
        final MappedByteBuffer buffer = IoUtil.mapExistingFile(file.toFile(), "ferry counters");
        final int total = buffer.capacity();
        final int values = total / 5;
        return new CountersReader(new UnsafeBuffer(buffer, 0, values * 4), new UnsafeBuffer(buffer, values * 4, values));
    }

    private static int valuesLength(final int agentCount) {
        return agentCount * PER_AGENT * CountersReader.COUNTER_LENGTH;
    }

    /** The set of queue {@code index}, written only by that queue's thread. */
    public WorkerCounters queue(final int index) {
        return workers[index];
    }

    public int queueCount() {
        return workers.length;
    }

    public CountersReader reader() {
        return manager;
    }

    /** Sum of one counter type across agents. */
    public long total(final CounterType type) {
        long sum = 0;
        for (final WorkerCounters w : workers) {
            sum += w.get(type);
        }
        return sum;
    }

    /** Sum of drops for one reason across agents. */
    public long total(final DropReason reason) {
        long sum = 0;
        for (final WorkerCounters w : workers) {
            sum += w.get(reason);
        }
        return sum;
    }

    @Override
    public void close() {
        if (mapped != null) {
            IoUtil.unmap(mapped);
        }
    }
}
