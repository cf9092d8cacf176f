package dev.ferry.perf;

import dev.ferry.conntrack.ConntrackTable;
import dev.ferry.conntrack.ConntrackTimeouts;
import dev.ferry.conntrack.FlowKey;
import dev.ferry.conntrack.TcpFlags;
import dev.ferry.dataplane.counters.DataplaneCounters;
import dev.ferry.dataplane.lb.ClientIpAffinitySelector;
import dev.ferry.dataplane.lb.ClientIpAffinityTable;
import dev.ferry.dataplane.nat.FlowFlags;
import dev.ferry.dataplane.nat.SnatRange;
import dev.ferry.dataplane.packet.DropReason;
import dev.ferry.dataplane.packet.PacketWriter;
import dev.ferry.dataplane.pipeline.PacketProcessor;
import dev.ferry.dataplane.pipeline.ServiceTableHolder;
import dev.ferry.dataplane.service.EndpointSpec;
import dev.ferry.dataplane.service.Protocol;
import dev.ferry.dataplane.service.ServicePortSpec;
import dev.ferry.dataplane.service.ServiceRouter;
import dev.ferry.dataplane.service.ServiceTable;
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

import java.util.List;
import java.util.Locale;
import java.util.SplittableRandom;
import java.util.concurrent.TimeUnit;

import static dev.ferry.perf.SyntheticCluster.NOW_MS;

/**
 * The SYN of a masqueraded new flow when the SNAT range is already partly taken, towards a service
 * with one backend (so every flow competes for the same tuples: backend address and port, node
 * address, SNAT port). The cost of the SNAT tuple choice at any occupancy.
 *
 * <p><b>Included per operation:</b> the copy of the 60-byte SYN, parse, conntrack miss, route,
 * the SNAT tuple search (one conntrack lookup per probed tuple, the takeover of a finished flow's
 * tuple when none is free), insert, accounting, NAT. <b>Not included</b> (untimed, per
 * invocation of {@value #BATCH} SYNs): deleting the new flows and putting back the flows they
 * took over, so that the occupancy stays exactly as set up.
 *
 * <p>Parameters: {@code ports} the SNAT range size (4535: the default 61000-65534; 64511: the
 * whole 1024-65534); {@code occupancy} the percentage of its tuples taken before the run, at
 * positions drawn at random; {@code holders} what holds them: {@code LIVE} established flows
 * (never taken over; at 99 % some SYNs find nothing free among the probed tuples and are dropped
 * as {@code snat_ports_exhausted}, which the trial's summary line reports) or {@code TIME_WAIT}
 * finished flows (taken over when no free tuple is probed). Each trial prints the share of SYNs
 * forwarded on a free tuple, on a taken-over one, and dropped.
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(1) // the fork inherits this JVM's options: jvm.options (perf/README.md)
public class SnatPortBenchmark {
    /** New flows per invocation: small against the free tuples at 99 % of 4535 (45), so the occupancy hardly moves within a batch. */
    public static final int BATCH = 8;
    private static final int POOL = 1 << 16;
    private static final int BACKEND = SyntheticCluster.endpointAddress(0, 0);
    private static final int BACKEND_PORT = SyntheticCluster.TARGET_PORT;
    private static final int VIP = SyntheticCluster.clusterIp(0);
    private static final int FILLER_BASE = dev.ferry.dataplane.addr.Ipv4.parse("100.64.0.0");
    private static final int FIRST_PORT = 1024;

    /** What holds the taken tuples. */
    public enum Holders { LIVE, TIME_WAIT }

    @Param({"4535", "64511"})
    public int ports;

    @Param({"0", "90", "99"})
    public int occupancy;

    @Param({"LIVE", "TIME_WAIT"})
    public Holders holders;

    private ConntrackTable conntrack;
    private DataplaneCounters counters;
    private PacketProcessor processor;
    private SnatRange snat;
    private PacketTemplates syns;
    private final org.agrona.concurrent.UnsafeBuffer packet =
        new org.agrona.concurrent.UnsafeBuffer(org.agrona.BufferUtil.allocateDirectAligned(2048, 64));
    private final FlowKey original = new FlowKey();
    private final FlowKey reply = new FlowKey();
    private boolean[] taken;
    private int batchStart;
    private long sent;
    private long onTakenTuple;
    private long notFound;

    @Setup(Level.Trial)
    public void setUp() {
        final int maxPort = FIRST_PORT + ports - 1;
        snat = new SnatRange(SyntheticCluster.NODE_IP, ports == 4535 ? SnatRange.DEFAULT_MIN_PORT : FIRST_PORT,
            ports == 4535 ? SnatRange.DEFAULT_MAX_PORT : maxPort);
        if (snat.size() != ports) {
            throw new IllegalArgumentException("ports must be 4535 (the default range) or another size from 1024: " + ports);
        }
        final ServicePortSpec service = new ServicePortSpec("bench", "one-backend", "", Protocol.TCP, SyntheticCluster.SERVICE_PORT, 0,
            List.of(VIP), List.of(), List.of(), List.of(), false, false, false,
            ServicePortSpec.DEFAULT_AFFINITY_TIMEOUT_SECONDS, 0,
            List.of(new EndpointSpec(BACKEND, BACKEND_PORT, true, true, false, false)));
        final ServiceTable table = ServiceTable.compile(SyntheticCluster.node(), List.of(service));
        conntrack = ConntrackTable.inMemory(1 << 17, ConntrackTimeouts.kubeProxyDefaults());
        counters = DataplaneCounters.inMemory(1);
        processor = new PacketProcessor(conntrack, new ServiceTableHolder(table),
            new ServiceRouter(new ClientIpAffinitySelector(new ClientIpAffinityTable())), snat, counters.queue(0));

        // Taken tuples at random positions (a fixed seed: the same set in every fork).
        final int[] order = new int[ports];
        for (int i = 0; i < ports; i++) {
            order[i] = i;
        }
        final SplittableRandom random = new SplittableRandom(42);
        for (int i = ports - 1; i > 0; i--) {
            final int j = random.nextInt(i + 1);
            final int t = order[i];
            order[i] = order[j];
            order[j] = t;
        }
        taken = new boolean[ports];
        final int count = (int) ((long) ports * occupancy / 100);
        for (int i = 0; i < count; i++) {
            taken[order[i]] = true;
            fill(order[i]);
        }
        if (conntrack.size() != count) {
            throw new IllegalStateException("filled " + conntrack.size() + " tuples of " + count);
        }

        syns = new PacketTemplates(POOL);
        for (int f = 0; f < POOL; f++) {
            PacketWriter.tcp(syns.region(), PacketTemplates.offset(f), SyntheticCluster.clientAddress(SyntheticCluster.Source.EXTERNAL, f),
                SyntheticCluster.clientPort(f), VIP, SyntheticCluster.SERVICE_PORT, TcpFlags.SYN, 1000, 0, 20);
        }
    }

    /** A flow from a filler client holding the tuple of port number {@code index}, ESTABLISHED or in TIME_WAIT. */
    private void fill(final int index) {
        original.setIpv4(IpProtocol.TCP, FILLER_BASE + index, 40000, VIP, SyntheticCluster.SERVICE_PORT);
        reply.setIpv4(IpProtocol.TCP, BACKEND, BACKEND_PORT, SyntheticCluster.NODE_IP, snat.portAt(index));
        final long handle = conntrack.insert(original, reply, 0, FlowFlags.MASQUERADED, NOW_MS);
        if (handle < 0) {
            throw new IllegalStateException("filler insert returned " + handle);
        }
        conntrack.onPacket(handle, TcpFlags.SYN, 60, NOW_MS);
        conntrack.onPacket(handle | 1, TcpFlags.SYN | TcpFlags.ACK, 60, NOW_MS);
        conntrack.onPacket(handle, TcpFlags.ACK, 52, NOW_MS);
        if (holders == Holders.TIME_WAIT) {
            conntrack.onPacket(handle | 1, TcpFlags.FIN | TcpFlags.ACK, 52, NOW_MS);
            conntrack.onPacket(handle, TcpFlags.ACK, 52, NOW_MS);
            conntrack.onPacket(handle, TcpFlags.FIN | TcpFlags.ACK, 52, NOW_MS);
            conntrack.onPacket(handle | 1, TcpFlags.ACK, 52, NOW_MS);
        }
    }

    @TearDown(Level.Trial)
    public void tearDown() {
        final long dropped = counters.total(DropReason.SNAT_PORTS_EXHAUSTED);
        final long other = drops() - dropped;
        System.out.printf(Locale.ROOT, "%n[snat ports=%d occupancy=%d%% holders=%s] %d SYNs: %.1f%% on a free tuple, %.1f%% on a taken-over one, %.1f%% dropped (snat_ports_exhausted)%n",
            ports, occupancy, holders, sent, 100.0 * (sent - onTakenTuple - dropped) / sent, 100.0 * onTakenTuple / sent, 100.0 * dropped / sent);
        conntrack.close();
        counters.close();
        if (other != 0 || notFound != 0) {
            throw new IllegalStateException(other + " drops other than snat_ports_exhausted, " + notFound + " forwarded flows not found to delete");
        }
    }

    private long drops() {
        long sum = 0;
        for (final DropReason reason : DropReason.values()) {
            sum += counters.total(reason);
        }
        return sum;
    }

    /** {@value #BATCH} SYNs of new flows, each given an SNAT tuple (or dropped when none is found). */
    @Benchmark
    @OperationsPerInvocation(BATCH)
    public int newFlows(final Batch batch) {
        int forwarded = 0;
        for (int i = 0; i < BATCH; i++) {
            syns.copyInto(batchStart + i, BenchDataplane.PACKET_LENGTH, packet, 0);
            if (processor.process(packet, 0, BenchDataplane.PACKET_LENGTH, NOW_MS) == PacketProcessor.Action.FORWARD) {
                forwarded++;
            }
        }
        batch.owner = this;
        return forwarded;
    }

    /** Untimed: deletes the batch's flows and gives every taken-over tuple back to a filler flow. */
    @State(Scope.Thread)
    public static class Batch {
        SnatPortBenchmark owner;

        @TearDown(Level.Invocation)
        public void restore() {
            final SnatPortBenchmark b = owner;
            for (int i = 0; i < BATCH; i++) {
                final int f = b.batchStart + i;
                b.original.setIpv4(IpProtocol.TCP, SyntheticCluster.clientAddress(SyntheticCluster.Source.EXTERNAL, f),
                    SyntheticCluster.clientPort(f), VIP, SyntheticCluster.SERVICE_PORT);
                final long handle = b.conntrack.find(b.original);
                b.sent++;
                if (handle < 0) {
                    continue; // dropped as exhausted
                }
                b.conntrack.readReply(handle, b.reply);
                final int index = b.reply.dstPort() - b.snat.minPort();
                if (!b.conntrack.delete(handle)) {
                    b.notFound++;
                }
                if (b.taken[index]) {
                    b.onTakenTuple++;
                    b.fill(index);
                }
            }
            b.batchStart = (b.batchStart + BATCH) & (POOL - 1);
        }
    }
}
