package dev.ferry.perf;

import dev.ferry.conntrack.ConntrackTable;
import dev.ferry.conntrack.ConntrackTimeouts;
import dev.ferry.conntrack.FlowKey;
import dev.ferry.nativeio.IpProtocol;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OperationsPerInvocation;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Warmup;

import java.lang.invoke.VarHandle;
import java.util.concurrent.TimeUnit;

import static dev.ferry.perf.SyntheticCluster.NOW_MS;
import static dev.ferry.perf.SyntheticCluster.SERVICE_PORT;
import static dev.ferry.perf.SyntheticCluster.TARGET_PORT;

/**
 * {@link ConntrackTable} on its own, with {@code entries} flows live (TCP, ESTABLISHED) in a
 * table of capacity 2^20, single thread:
 * <ul>
 *   <li>{@link #findHit}: find a live flow, random order (the first step of every packet);</li>
 *   <li>{@link #findHitReply}: the same flows found by their reply tuple;</li>
 *   <li>{@link #findHitAndAccount}: find plus {@link ConntrackTable#onPacket};</li>
 *   <li>{@link #findAccountRead}: find, onPacket, read the reply tuple: the conntrack part of an
 *       original-direction packet in {@code PacketProcessor}, in its order; {@link #findReadAccount}
 *       the same with the read first; {@link #findAccountReadReply} the reply-direction counterpart;</li>
 *   <li>{@link #findMiss}: find a tuple that is not there (the first step of a new flow);</li>
 *   <li>{@link #insert}: insert new flows, {@value #BATCH} per invocation, deleted again by an
 *       untimed teardown so the population stays at {@code entries};</li>
 *   <li>{@link #gcSlice}: one {@code gc(now, }{@value #GC_SLICE}{@code )} call when nothing has
 *       expired (the steady cost of the sweep: entries scanned plus 4 index slots per entry).</li>
 * </ul>
 * Each operation builds its {@link FlowKey} from the flow number, as a worker builds it from
 * the packet; {@link #keyOnly} is that alone.
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(1) // the fork inherits this JVM's options: jvm.options (perf/README.md)
public class ConntrackBenchmark {
    public static final int BATCH = 1024;
    public static final int GC_SLICE = 1024;
    private static final int CAPACITY = 1 << 20;
    private static final int SERVICES = 100;
    private static final int ACK = 0x10;
    /** Flows from here on are never in the table before {@link #insert} puts them there. */
    private static final int INSERT_POOL_START = 1 << 22;
    private static final int INSERT_POOL = 1 << 16;

    /** Live flows: 1,000 (everything cache-resident) and 1,000,000 (the figure). */
    @Param({"1000", "1000000"})
    public int entries;

    private ConntrackTable table;
    private final FlowKey key = new FlowKey();
    private final FlowKey reply = new FlowKey();
    private int[] order;
    private int cursor;
    private long failures;

    @Setup(Level.Trial)
    public void setUp() {
        if (entries > CAPACITY - BATCH) {
            throw new IllegalArgumentException("entries " + entries + " leaves no room for an insert batch in capacity " + CAPACITY);
        }
        table = ConntrackTable.inMemory(CAPACITY, ConntrackTimeouts.kubeProxyDefaults());
        for (int f = 0; f < entries; f++) {
            final long handle = table.insert(original(f), replyOf(f), f % SERVICES, 0, NOW_MS);
            if (handle < 0) {
                throw new IllegalStateException("setup insert of flow " + f + " failed: " + handle);
            }
            table.onPacket(handle, ACK, BenchDataplane.PACKET_LENGTH, NOW_MS); // NONE + ACK: ESTABLISHED
        }
        order = FlowOrder.random(entries);
    }

    @TearDown(Level.Trial)
    public void tearDown() {
        final boolean sizeChanged = table.size() != entries;
        table.close();
        if (failures != 0 || sizeChanged) {
            throw new IllegalStateException("ConntrackBenchmark left the intended path: " + failures
                + " failed operations, table size changed: " + sizeChanged);
        }
    }

    private FlowKey original(final int flow) {
        return key.setIpv4(IpProtocol.TCP, SyntheticCluster.clientAddress(SyntheticCluster.Source.POD, flow),
            SyntheticCluster.clientPort(flow), SyntheticCluster.clusterIp(flow % SERVICES), SERVICE_PORT);
    }

    private FlowKey replyOf(final int flow) {
        return reply.setIpv4(IpProtocol.TCP, SyntheticCluster.endpointAddress(flow % SERVICES, (flow / SERVICES) % 10),
            TARGET_PORT, SyntheticCluster.clientAddress(SyntheticCluster.Source.POD, flow), SyntheticCluster.clientPort(flow));
    }

    private int nextFlow() {
        final int flow = order[cursor];
        cursor = (cursor + 1) & FlowOrder.MASK;
        return flow;
    }

    /** Baseline: picking the flow and building its key. */
    @Benchmark
    public FlowKey keyOnly() {
        return original(nextFlow());
    }

    @Benchmark
    public long findHit() {
        final long handle = table.find(original(nextFlow()));
        if (handle < 0) {
            failures++;
        }
        return handle;
    }

    @Benchmark
    public int findHitAndAccount() {
        final long handle = table.find(original(nextFlow()));
        if (handle < 0) {
            failures++;
            return -1;
        }
        return table.onPacket(handle, ACK, BenchDataplane.PACKET_LENGTH, NOW_MS);
    }

    /**
     * Control experiment: {@link #findHit} followed by a full fence (on x86 a locked instruction on
     * the stack, which always hits the L1 cache). Compared with {@link #findHitAndAccount} it tells
     * how much of onPacket's cost is the serialisation its atomic adds impose (the next packet's
     * loads cannot start before them) rather than their own cache misses.
     */
    @Benchmark
    public long findHitFenced() {
        final long handle = table.find(original(nextFlow()));
        VarHandle.fullFence();
        if (handle < 0) {
            failures++;
        }
        return handle;
    }

    /** {@link #findHit} by the reply tuple (backend → client), as a reply packet looks its flow up. */
    @Benchmark
    public long findHitReply() {
        final long handle = table.find(replyOf(nextFlow()));
        if (handle < 0) {
            failures++;
        }
        return handle;
    }

    /**
     * What {@code PacketProcessor} does for an original-direction packet: find, onPacket, then
     * read the reply tuple (for the NAT rewrite).
     */
    @Benchmark
    public int findAccountRead() {
        final long handle = table.find(original(nextFlow()));
        if (handle < 0) {
            failures++;
            return -1;
        }
        final int state = table.onPacket(handle, ACK, BenchDataplane.PACKET_LENGTH, NOW_MS);
        table.readReply(handle, reply);
        return state + reply.srcPort();
    }

    /** {@link #findAccountRead} for a reply-direction packet: find by the reply tuple, onPacket, read the original tuple. */
    @Benchmark
    public int findAccountReadReply() {
        final long handle = table.find(replyOf(nextFlow()));
        if (handle < 0) {
            failures++;
            return -1;
        }
        final int state = table.onPacket(handle, ACK, BenchDataplane.PACKET_LENGTH, NOW_MS);
        table.readOriginal(handle, key);
        return state + key.srcPort();
    }

    /**
     * {@link #findAccountRead} with the reply tuple read before onPacket: the same work, the
     * entry's second cache line loaded by plain reads before onPacket's atomic adds to it.
     */
    @Benchmark
    public int findReadAccount() {
        final long handle = table.find(original(nextFlow()));
        if (handle < 0) {
            failures++;
            return -1;
        }
        table.readReply(handle, reply);
        return table.onPacket(handle, ACK, BenchDataplane.PACKET_LENGTH, NOW_MS) + reply.srcPort();
    }

    @Benchmark
    public long findMiss() {
        final long handle = table.find(original(entries + nextFlow()));
        if (handle >= 0) {
            failures++;
        }
        return handle;
    }

    /** {@value #BATCH} inserts of flows not in the table. */
    @Benchmark
    @OperationsPerInvocation(BATCH)
    public long insert(final InsertedBatch batch) {
        long sum = 0;
        for (int i = 0; i < BATCH; i++) {
            final int flow = INSERT_POOL_START + batch.start + i;
            final long handle = table.insert(original(flow), replyOf(flow), flow % SERVICES, 0, NOW_MS);
            if (handle < 0) {
                failures++;
            }
            sum += handle;
        }
        batch.owner = this;
        return sum;
    }

    /**
     * The flows one {@link #insert} invocation adds, deleted again after it (untimed,
     * allocation-free). A state of its own: a per-invocation fixture makes JMH time every
     * invocation separately, which would add two clock reads to each of the other benchmarks.
     */
    @State(Scope.Thread)
    public static class InsertedBatch {
        // Set by the benchmark method, not injected: JMH would inject a second instance of the benchmark state.
        ConntrackBenchmark owner;
        int start;

        @TearDown(Level.Invocation)
        public void delete() {
            final ConntrackBenchmark bench = owner;
            for (int i = 0; i < BATCH; i++) {
                final long handle = bench.table.find(bench.original(INSERT_POOL_START + start + i));
                if (handle < 0 || !bench.table.delete(handle)) {
                    bench.failures++;
                }
            }
            start = (start + BATCH) & (INSERT_POOL - 1);
        }
    }

    /** One gc slice over live, unexpired entries: nothing to reclaim, only the sweep. */
    @Benchmark
    public int gcSlice() {
        final int reclaimed = table.gc(NOW_MS, GC_SLICE);
        if (reclaimed != 0) {
            failures++;
        }
        return reclaimed;
    }
}
