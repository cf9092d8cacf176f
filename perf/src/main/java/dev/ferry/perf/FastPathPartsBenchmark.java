package dev.ferry.perf;

import dev.ferry.conntrack.FlowKey;
import dev.ferry.dataplane.nat.NatRewriter;
import dev.ferry.dataplane.packet.DropReason;
import dev.ferry.dataplane.packet.Ipv4Packet;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Warmup;

import java.util.concurrent.TimeUnit;

/**
 * The fast path taken apart, on one cache-resident packet, to say where
 * {@link FastPathBenchmark}'s time goes: each benchmark does one step more than the previous.
 * <ol>
 *   <li>{@link #copy}: the 60-byte template copy;</li>
 *   <li>{@link #parse}: + {@link Ipv4Packet#wrap} and reading the 5-tuple;</li>
 *   <li>{@link #parseAndKey}: + filling the conntrack {@link FlowKey} and its hash;</li>
 *   <li>{@link #parseAndNat}: {@link #parse} + the NAT rewrite with incremental checksums (no conntrack).</li>
 * </ol>
 * The conntrack part alone (find + onPacket) is {@code ConntrackBenchmark.findHitAndAccount}.
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(1) // the fork inherits this JVM's options: jvm.options (perf/README.md)
public class FastPathPartsBenchmark {
    private BenchDataplane dataplane;
    private PacketTemplates template;
    private final Ipv4Packet packet = new Ipv4Packet();
    private final FlowKey key = new FlowKey();
    private int backend;
    private int backendPort;

    @Setup(Level.Trial)
    public void setUp() {
        dataplane = new BenchDataplane(1, 16);
        template = new PacketTemplates(1);
        final PacketTemplates reply = new PacketTemplates(1);
        dataplane.establish(SyntheticCluster.Source.POD, 0, template, reply, 0);
        packet.wrap(reply.region(), 0, BenchDataplane.PACKET_LENGTH);
        backend = packet.srcAddr();
        backendPort = packet.srcPort();
    }

    @TearDown(Level.Trial)
    public void tearDown() {
        dataplane.close();
    }

    @Benchmark
    public int copy() {
        template.copyInto(0, BenchDataplane.PACKET_LENGTH, dataplane.packet, 0);
        return 0;
    }

    @Benchmark
    public int parse() {
        template.copyInto(0, BenchDataplane.PACKET_LENGTH, dataplane.packet, 0);
        final DropReason malformed = packet.wrap(dataplane.packet, 0, BenchDataplane.PACKET_LENGTH);
        if (malformed != null) {
            throw new IllegalStateException(malformed.description());
        }
        return packet.protocol() ^ packet.srcAddr() ^ packet.dstAddr() ^ packet.srcPort() ^ packet.dstPort()
            ^ packet.tcpFlags() ^ packet.totalLength();
    }

    @Benchmark
    public int parseAndKey() {
        template.copyInto(0, BenchDataplane.PACKET_LENGTH, dataplane.packet, 0);
        final DropReason malformed = packet.wrap(dataplane.packet, 0, BenchDataplane.PACKET_LENGTH);
        if (malformed != null) {
            throw new IllegalStateException(malformed.description());
        }
        key.setIpv4(packet.protocol(), packet.srcAddr(), packet.srcPort(), packet.dstAddr(), packet.dstPort());
        return key.hash();
    }

    @Benchmark
    public int parseAndNat() {
        template.copyInto(0, BenchDataplane.PACKET_LENGTH, dataplane.packet, 0);
        final DropReason malformed = packet.wrap(dataplane.packet, 0, BenchDataplane.PACKET_LENGTH);
        if (malformed != null) {
            throw new IllegalStateException(malformed.description());
        }
        NatRewriter.translate(packet, packet.srcAddr(), packet.srcPort(), backend, backendPort);
        return packet.dstAddr();
    }
}
