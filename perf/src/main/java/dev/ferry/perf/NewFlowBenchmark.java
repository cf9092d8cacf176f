package dev.ferry.perf;

import dev.ferry.dataplane.pipeline.PacketProcessor;
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

import java.util.concurrent.TimeUnit;

import static dev.ferry.perf.SyntheticCluster.NOW_MS;

/**
 * The first packet of a new flow: a TCP SYN to a ClusterIP through {@link PacketProcessor#process}.
 *
 * <p><b>Included per operation:</b> the copy of the flow's 60-byte SYN into the receive buffer,
 * parse, conntrack find (a miss), {@code ServiceRouter.route} (frontend lookup, traffic policy,
 * masquerade decision, random pick among ten endpoints), conntrack insert (probe, pop a free
 * entry, write it, publish both keys, re-scan), for masqueraded flows the SNAT port search,
 * conntrack accounting of the SYN, NAT rewrite with incremental checksums, one counter.
 * <b>Not included:</b> deleting the flows again: each invocation opens {@value #BATCH} flows never
 * seen before (or deleted since) and an untimed per-invocation teardown deletes them, so the
 * table never fills. {@link #copyOnly} is the copy alone, for subtraction.
 *
 * <p>Parameters: {@code source} pod (DNAT only) or external (DNAT + masquerade to the node's SNAT
 * range); {@code established} flows of the same kind already in the table (capacity 2^20), which
 * lengthens index probes and, when masquerading, occupies SNAT ports.
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(1) // the fork inherits this JVM's options: jvm.options (perf/README.md)
public class NewFlowBenchmark {
    /** New flows per invocation; the teardown that deletes them runs once per batch. */
    public static final int BATCH = 1024;
    /** Distinct new flows cycled through (deleted after use, so each is new again next time round). */
    private static final int POOL = 1 << 16;
    private static final int CONNTRACK_CAPACITY = 1 << 20;
    private static final int SERVICES = 100;

    @Param({"POD", "EXTERNAL"})
    public SyntheticCluster.Source source;

    @Param({"0", "500000"})
    public int established;

    private BenchDataplane dataplane;
    private PacketProcessor processor;
    private PacketTemplates syns;
    private int batchStart;
    private long totalOpened;
    private long notForwarded;
    private long notDeleted;

    @Setup(Level.Trial)
    public void setUp() {
        dataplane = new BenchDataplane(SERVICES, CONNTRACK_CAPACITY);
        processor = dataplane.processor;
        syns = new PacketTemplates(POOL);
        for (int f = 0; f < POOL; f++) {
            dataplane.writeSyn(source, f, syns, f);
        }
        // Background flows are numbered after the pool, so that no pool flow is among them.
        for (int f = POOL; f < POOL + established; f++) {
            dataplane.open(source, f);
        }
        dataplane.verify(established, "NewFlowBenchmark setup");
    }

    @TearDown(Level.Trial)
    public void tearDown() {
        if (notForwarded != 0 || notDeleted != 0) {
            throw new IllegalStateException(notForwarded + " new flows were not forwarded, " + notDeleted
                + " were not found to delete (drops: " + dataplane.drops() + ")");
        }
        // Every measured SYN must have been a new flow, not a hit on a flow left over.
        dataplane.verify(established + totalOpened, "NewFlowBenchmark");
        dataplane.close();
    }

    /** Baseline: the {@value #BATCH} template copies alone. */
    @Benchmark
    @OperationsPerInvocation(BATCH)
    public int copyOnly() {
        for (int i = 0; i < BATCH; i++) {
            syns.copyInto(batchStart + i, BenchDataplane.PACKET_LENGTH, dataplane.packet, 0);
        }
        batchStart = (batchStart + BATCH) & (POOL - 1);
        return batchStart;
    }

    /** {@value #BATCH} SYNs of flows not in the table, each routed, inserted and translated. */
    @Benchmark
    @OperationsPerInvocation(BATCH)
    public int newFlows(final OpenedBatch opened) {
        int forwarded = 0;
        for (int i = 0; i < BATCH; i++) {
            syns.copyInto(batchStart + i, BenchDataplane.PACKET_LENGTH, dataplane.packet, 0);
            if (processor.process(dataplane.packet, 0, BenchDataplane.PACKET_LENGTH, NOW_MS) == PacketProcessor.Action.FORWARD) {
                forwarded++;
            }
        }
        totalOpened += BATCH;
        notForwarded += BATCH - forwarded;
        opened.owner = this;
        return forwarded;
    }

    /**
     * The flows one {@link #newFlows} invocation opens, deleted again after it (untimed,
     * allocation-free: {@code -prof gc} counts fixtures too), so that the next batch is new and the
     * table never fills. A state of its own so that {@link #copyOnly} has no per-invocation fixture.
     */
    @State(Scope.Thread)
    public static class OpenedBatch {
        // Set by the benchmark method, not injected: JMH would inject a second instance of the benchmark state.
        NewFlowBenchmark owner;

        @TearDown(Level.Invocation)
        public void delete() {
            final NewFlowBenchmark bench = owner;
            for (int i = 0; i < BATCH; i++) {
                if (!bench.dataplane.delete(bench.source, bench.batchStart + i)) {
                    bench.notDeleted++;
                }
            }
            bench.batchStart = (bench.batchStart + BATCH) & (POOL - 1);
        }
    }
}
