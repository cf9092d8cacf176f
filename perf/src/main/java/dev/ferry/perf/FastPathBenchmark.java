package dev.ferry.perf;

import dev.ferry.dataplane.pipeline.PacketProcessor;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
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
 * The established-flow fast path: one packet of a tracked TCP flow through
 * {@link PacketProcessor#process}, i.e. parse, conntrack find (hit), conntrack packet accounting,
 * NAT rewrite with incremental checksums, one counter.
 *
 * <p>Each operation picks the next flow from a precomputed random order over {@code flows}
 * established flows (conntrack table filled to capacity), copies that flow's 60-byte packet
 * into an off-heap receive buffer (the processor rewrites in place) and processes it.
 * {@link #copyOnly} is the same copy without processing: subtract it to get the processor's
 * own cost. Flows come from pods (no masquerade); the clock is constant.
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(1) // the fork inherits this JVM's options: jvm.options (perf/README.md)
public class FastPathBenchmark {
    private static final int SERVICES = 100;

    /** Established flows in the conntrack table (its capacity is the same: a full table). */
    @Param({"1000", "1000000"})
    public int flows;

    private BenchDataplane dataplane;
    private PacketProcessor processor;
    private PacketTemplates originalPackets;
    private PacketTemplates replyPackets;
    private int[] order;
    private int cursor;
    private long newFlowsAtStart;

    @Setup(Level.Trial)
    public void setUp() {
        dataplane = new BenchDataplane(SERVICES, flows);
        processor = dataplane.processor;
        originalPackets = new PacketTemplates(flows);
        replyPackets = new PacketTemplates(flows);
        for (int f = 0; f < flows; f++) {
            dataplane.establish(SyntheticCluster.Source.POD, f, originalPackets, replyPackets, f);
        }
        order = FlowOrder.random(flows);
        newFlowsAtStart = flows;
        dataplane.verify(newFlowsAtStart, "FastPathBenchmark setup");
    }

    @TearDown(Level.Trial)
    public void tearDown() {
        dataplane.verify(newFlowsAtStart, "FastPathBenchmark");
        dataplane.close();
    }

    private int nextFlow() {
        final int flow = order[cursor];
        cursor = (cursor + 1) & FlowOrder.MASK;
        return flow;
    }

    /** Baseline: only the per-packet template copy the other two benchmarks also do. */
    @Benchmark
    public int copyOnly() {
        final int flow = nextFlow();
        originalPackets.copyInto(flow, BenchDataplane.PACKET_LENGTH, dataplane.packet, 0);
        return flow;
    }

    /** Client → ClusterIP packet of an established flow: DNAT to the backend. */
    @Benchmark
    public PacketProcessor.Action original() {
        final int flow = nextFlow();
        originalPackets.copyInto(flow, BenchDataplane.PACKET_LENGTH, dataplane.packet, 0);
        return processor.process(dataplane.packet, 0, BenchDataplane.PACKET_LENGTH, NOW_MS);
    }

    /** Backend → client packet of an established flow: source restored to the ClusterIP. */
    @Benchmark
    public PacketProcessor.Action reply() {
        final int flow = nextFlow();
        replyPackets.copyInto(flow, BenchDataplane.PACKET_LENGTH, dataplane.packet, 0);
        return processor.process(dataplane.packet, 0, BenchDataplane.PACKET_LENGTH, NOW_MS);
    }
}
