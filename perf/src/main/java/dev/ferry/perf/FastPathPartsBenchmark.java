package dev.ferry.perf;

import dev.ferry.conntrack.FlowKey;
import dev.ferry.dataplane.nat.NatRewriter;
import dev.ferry.dataplane.packet.DropReason;
import dev.ferry.dataplane.packet.Checksums;
import dev.ferry.dataplane.packet.Ipv4Packet;
import dev.ferry.dataplane.packet.Ipv6Packet;
import dev.ferry.nativeio.IpProtocol;
import org.agrona.concurrent.UnsafeBuffer;
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

import java.nio.ByteOrder;
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
 *
 * <p>The same steps for IPv6 (issue 16, not yet in the pipeline), on an 80-byte TCP packet with
 * the IPv4 one's 20 payload bytes: {@link #copy6}, {@link #parse6} ({@link Ipv6Packet#wrap}, the
 * extension-header walk finding none), {@link #parseAndKey6} (128-bit addresses into the key),
 * {@link #parseAndNat6}; and {@link #parse6HopByHop}, the same packet behind a hop-by-hop header.
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

    private static final int PACKET6_LENGTH = Ipv6Packet.HEADER_LENGTH + 20 + 20;
    private static final int HOP_BY_HOP = 8;
    private final Ipv6Packet packet6 = new Ipv6Packet();
    private final UnsafeBuffer template6 = new UnsafeBuffer(new byte[PACKET6_LENGTH]);
    private final UnsafeBuffer template6HopByHop = new UnsafeBuffer(new byte[PACKET6_LENGTH + HOP_BY_HOP]);
    private final UnsafeBuffer packet6Buffer = new UnsafeBuffer(new byte[PACKET6_LENGTH + HOP_BY_HOP]);
    private static final long POD_HI = 0xfd00_0010_0244_0001L;
    private static final long POD_LO = 5;
    private static final long SERVICE_HI = 0xfd00_0010_0096_0000L;
    private static final long SERVICE_LO = 10;
    private static final long BACKEND_HI = 0xfd00_0010_0244_0002L;
    private static final long BACKEND_LO = 0x17;

    @Setup(Level.Trial)
    public void setUp() {
        dataplane = new BenchDataplane(1, 16);
        template = new PacketTemplates(1);
        final PacketTemplates reply = new PacketTemplates(1);
        dataplane.establish(SyntheticCluster.Source.POD, 0, template, reply, 0);
        packet.wrap(reply.region(), 0, BenchDataplane.PACKET_LENGTH);
        backend = packet.srcAddr();
        backendPort = packet.srcPort();
        writeTcp6(template6, 0);
        writeTcp6(template6HopByHop, HOP_BY_HOP);
    }

    /** pod:40000 -> service:80, ACK, 20 payload bytes, valid checksum; behind a hop-by-hop header of PadN when {@code extension} is 8. */
    private static void writeTcp6(final UnsafeBuffer b, final int extension) {
        final ByteOrder net = ByteOrder.BIG_ENDIAN;
        b.putInt(0, 0x6000_0000, net);
        b.putShort(Ipv6Packet.OFFSET_PAYLOAD_LENGTH, (short) (extension + 40), net);
        b.putByte(Ipv6Packet.OFFSET_NEXT_HEADER, (byte) (extension == 0 ? IpProtocol.TCP : IpProtocol.IPV6_HOP_BY_HOP));
        b.putByte(Ipv6Packet.OFFSET_HOP_LIMIT, (byte) 64);
        b.putLong(Ipv6Packet.OFFSET_SOURCE, POD_HI, net);
        b.putLong(Ipv6Packet.OFFSET_SOURCE + 8, POD_LO, net);
        b.putLong(Ipv6Packet.OFFSET_DESTINATION, SERVICE_HI, net);
        b.putLong(Ipv6Packet.OFFSET_DESTINATION + 8, SERVICE_LO, net);
        if (extension != 0) {
            b.putByte(40, (byte) IpProtocol.TCP);
            b.putByte(42, (byte) 1); // PadN over the rest
            b.putByte(43, (byte) 4);
        }
        final int tcp = Ipv6Packet.HEADER_LENGTH + extension;
        b.putShort(tcp, (short) 40000, net);
        b.putShort(tcp + 2, (short) 80, net);
        b.putByte(tcp + Ipv4Packet.TCP_OFFSET_DATA_OFFSET, (byte) 0x50);
        b.putByte(tcp + Ipv4Packet.TCP_OFFSET_FLAGS, (byte) 0x10);
        b.putShort(tcp + Ipv4Packet.TCP_OFFSET_CHECKSUM, (short) Checksums.transport6(b, 0, IpProtocol.TCP, tcp, 40), net);
    }

    private void wrap6(final UnsafeBuffer template, final int length) {
        packet6Buffer.putBytes(0, template, 0, length);
        final DropReason malformed = packet6.wrap(packet6Buffer, 0, length);
        if (malformed != null) {
            throw new IllegalStateException(malformed.description());
        }
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

    @Benchmark
    public int copy6() {
        packet6Buffer.putBytes(0, template6, 0, PACKET6_LENGTH);
        return 0;
    }

    @Benchmark
    public long parse6() {
        wrap6(template6, PACKET6_LENGTH);
        return packet6.protocol() ^ packet6.srcLo() ^ packet6.dstLo() ^ packet6.srcHi() ^ packet6.dstHi() ^ packet6.srcPort()
            ^ packet6.dstPort() ^ packet6.tcpFlags() ^ packet6.totalLength();
    }

    @Benchmark
    public long parse6HopByHop() {
        wrap6(template6HopByHop, PACKET6_LENGTH + HOP_BY_HOP);
        return packet6.protocol() ^ packet6.srcLo() ^ packet6.dstLo() ^ packet6.srcHi() ^ packet6.dstHi() ^ packet6.srcPort()
            ^ packet6.dstPort() ^ packet6.tcpFlags() ^ packet6.totalLength();
    }

    @Benchmark
    public int parseAndKey6() {
        wrap6(template6, PACKET6_LENGTH);
        key.set(packet6.protocol(), packet6.srcHi(), packet6.srcLo(), packet6.srcPort(), packet6.dstHi(), packet6.dstLo(), packet6.dstPort());
        return key.hash();
    }

    @Benchmark
    public long parseAndNat6() {
        wrap6(template6, PACKET6_LENGTH);
        NatRewriter.translate(packet6, packet6.srcHi(), packet6.srcLo(), packet6.srcPort(), BACKEND_HI, BACKEND_LO, 8080, false);
        return packet6.dstLo();
    }
}
