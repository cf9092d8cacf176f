package dev.ferry.dataplane.pipeline;

import com.code_intelligence.jazzer.api.FuzzedDataProvider;
import com.code_intelligence.jazzer.junit.FuzzTest;
import dev.ferry.dataplane.addr.Ipv4;
import dev.ferry.dataplane.nat.NatRewriterTestAccess;
import dev.ferry.dataplane.packet.DropReason;
import dev.ferry.dataplane.packet.Ipv4Packet;
import dev.ferry.dataplane.packet.PacketWriter;
import dev.ferry.nativeio.IpProtocol;
import org.agrona.concurrent.UnsafeBuffer;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Tag;

import java.util.Arrays;
import java.util.List;

import static dev.ferry.dataplane.service.Fixtures.node;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The packet path on fuzzed input, through a whole two-queue pipeline that keeps its conntrack
 * between inputs (so replies, reused tuples and ICMP errors about earlier flows meet real
 * entries). Each input is either a well-formed packet built from fuzzed fields (protocol,
 * addresses and ports from the ones the service table knows plus arbitrary ones, TCP flags,
 * payload length, an ICMP error quoting a fuzzed packet) or raw bytes, possibly a well-formed
 * packet with fuzzed bytes written over it. Whatever it is, the path must:
 * <ul>
 *   <li>never throw, and never count {@link DropReason#PROCESSING_ERROR} (a worker catching an
 *       exception is a bug found);</li>
 *   <li>send nothing only when it counted a drop reason;</li>
 *   <li>send the input unchanged, or packets that parse, and, when the input was well formed,
 *       whose IPv4 and transport checksums are all valid (translated or answered).</li>
 * </ul>
 * A normal test run replays the inputs saved under src/test/resources (regression mode);
 * {@code JAZZER_FUZZ=1} fuzzes (docs/TESTING.md).
 */
@Tag("fuzz")
class PacketPathFuzzTest {
    private static final int[] ADDRESSES = {
        Ipv4.parse("10.244.1.5"), Ipv4.parse("10.244.1.6"),   // local pods (clients)
        Ipv4.parse("10.244.2.7"), Ipv4.parse("10.244.2.8"),   // the endpoints, on another node
        Ipv4.parse("10.96.0.10"), Ipv4.parse("10.96.0.53"),   // ClusterIPs
        Ipv4.parse("10.96.0.99"),                             // inside the service CIDR, no service
        Ipv4.parse("198.18.0.11"), Ipv4.parse("192.168.50.11"), // node IPs (NodePorts, SNAT)
        Ipv4.parse("203.0.113.9"),                            // an external client
    };
    private static final int[] PORTS = {80, 53, 8080, 5353, 30080, 30053, 40000, 61000, 65534};
    private static final int INPUTS_PER_HARNESS = 100_000;

    private static PipelineHarness harness;
    private static PipelineHarness framed;
    private static int inputs;

    @AfterAll
    static void close() {
        if (harness != null) {
            harness.close();
            harness = null;
        }
        if (framed != null) {
            framed.close();
            framed = null;
        }
    }

    /**
     * The port framing: a virtio_net_hdr of fuzzed bytes (flags, GSO type and size, checksum
     * start and offset) before a well-formed or fuzzed packet, as TUN with IFF_VNET_HDR hands
     * them over. A bad header is a counted drop, never an exception or a silent loss.
     */
    @FuzzTest(maxDuration = "30s")
    void shouldDropOrCarryEveryVirtioFramedPacket(final FuzzedDataProvider data) {
        if (framed == null) {
            framed = new PipelineHarness(node(false), PipelineFlowsTest.services(), 2, 4096, true);
        }
        final int metadata = framed.ports.getFirst().metadataLength();
        final byte[] header = Arrays.copyOf(data.consumeBytes(metadata), metadata);
        final byte[] packet = data.consumeBoolean() ? wellFormed(data) : data.consumeRemainingAsBytes();
        final byte[] frame = new byte[metadata + packet.length];
        System.arraycopy(header, 0, frame, 0, metadata);
        System.arraycopy(packet, 0, frame, metadata, packet.length);
        final long processingErrorsBefore = framed.counters.total(DropReason.PROCESSING_ERROR);
        final long dropsBefore = drops(framed);

        final List<byte[]> sent = framed.send(frame);

        assertEquals(processingErrorsBefore, framed.counters.total(DropReason.PROCESSING_ERROR), "an exception inside the pipeline");
        if (sent.isEmpty()) {
            assertTrue(drops(framed) > dropsBefore, "nothing sent and no drop counted");
        }
        for (final byte[] out : sent) {
            assertTrue(out.length >= metadata, "every frame sent starts with its virtio_net_hdr");
        }
    }

    @FuzzTest(maxDuration = "30s")
    void shouldTranslatePassAnswerOrDropEveryPacket(final FuzzedDataProvider data) {
        if (harness == null || ++inputs % INPUTS_PER_HARNESS == 0) { // a fresh conntrack now and then: full tables hide paths
            close();
            harness = new PipelineHarness(node(data.consumeBoolean()), PipelineFlowsTest.services(), 2, 4096);
        }
        final boolean wellFormed;
        final byte[] packet;
        switch (data.consumeInt(0, 3)) {
            case 0 -> {
                packet = data.consumeRemainingAsBytes();
                wellFormed = false;
            }
            case 1 -> {
                packet = wellFormed(data);
                final int at = data.consumeInt(0, Math.max(0, packet.length - 1));
                final byte[] overwrite = data.consumeBytes(8);
                System.arraycopy(overwrite, 0, packet, at, Math.min(overwrite.length, packet.length - at));
                wellFormed = overwrite.length == 0;
            }
            default -> {
                packet = wellFormed(data);
                wellFormed = true;
            }
        }
        final long processingErrorsBefore = harness.counters.total(DropReason.PROCESSING_ERROR);
        final long dropsBefore = drops(harness);
        final byte[] input = packet.clone();

        final List<byte[]> sent = harness.send(packet);

        assertEquals(processingErrorsBefore, harness.counters.total(DropReason.PROCESSING_ERROR), "an exception inside the pipeline");
        if (sent.isEmpty()) {
            assertTrue(drops(harness) > dropsBefore, "nothing sent and no drop counted");
            return;
        }
        for (final byte[] out : sent) {
            if (Arrays.equals(out, input)) {
                continue; // passed unchanged
            }
            final Ipv4Packet parsed = new Ipv4Packet();
            assertNull(parsed.wrap(new UnsafeBuffer(out), 0, out.length), "a changed packet that does not parse");
            if (wellFormed) {
                NatRewriterTestAccess.assertChecksumsValid(out);
            }
        }
    }

    private static long drops(final PipelineHarness pipeline) {
        long sum = 0;
        for (final DropReason reason : DropReason.values()) {
            sum += pipeline.counters.total(reason);
        }
        return sum;
    }

    /** A packet with valid lengths and checksums, from fuzzed fields. */
    private static byte[] wellFormed(final FuzzedDataProvider data) {
        final UnsafeBuffer b = new UnsafeBuffer(new byte[1600]);
        final int kind = data.consumeInt(0, 4);
        if (kind == 4) { // an ICMP error quoting a fuzzed TCP or UDP packet (as a router or the endpoint's kernel would send)
            final UnsafeBuffer inner = new UnsafeBuffer(new byte[1600]);
            final int innerLength = transport(data, inner, data.consumeInt(0, 1));
            final Ipv4Packet offending = new Ipv4Packet();
            offending.wrap(inner, 0, innerLength);
            final int length = PacketWriter.icmpUnreachableFor(offending, data.consumeInt(0, 15), b, 0);
            return Arrays.copyOf(b.byteArray(), length);
        }
        return Arrays.copyOf(b.byteArray(), transport(data, b, kind));
    }

    /** kind 0 TCP, 1 UDP, 2 SCTP INIT, 3 ICMP echo request; returns the length. */
    private static int transport(final FuzzedDataProvider data, final UnsafeBuffer b, final int kind) {
        final int src = address(data);
        final int dst = address(data);
        final int srcPort = port(data);
        final int dstPort = port(data);
        return switch (kind) {
            case 0 -> PacketWriter.tcp(b, 0, src, srcPort, dst, dstPort, data.consumeInt(0, 0x3F), data.consumeLong() & 0xFFFFFFFFL,
                data.consumeLong() & 0xFFFFFFFFL, data.consumeInt(0, 1400));
            case 1 -> PacketWriter.udp(b, 0, src, srcPort, dst, dstPort, data.consumeInt(0, 1400), data.consumeByte(), data.consumeBoolean());
            case 2 -> PacketWriter.sctpInit(b, 0, src, srcPort, dst, dstPort, data.consumeInt());
            default -> echo(b, src, dst, data.consumeShort(), data.consumeInt(0, 1400));
        };
    }

    private static int echo(final UnsafeBuffer b, final int src, final int dst, final short identifier, final int payload) {
        final int icmpLength = Ipv4Packet.ICMP_HEADER + payload;
        PacketWriter.ipv4Header(b, 0, IpProtocol.ICMP, src, dst, 20 + icmpLength, 0, 64);
        b.setMemory(20, icmpLength, (byte) 0);
        b.putByte(20, (byte) 8); // echo request
        b.putShort(24, identifier, java.nio.ByteOrder.BIG_ENDIAN);
        b.putShort(20 + Ipv4Packet.ICMP_OFFSET_CHECKSUM,
            (short) dev.ferry.dataplane.packet.Checksums.icmp(b, 20, icmpLength), java.nio.ByteOrder.BIG_ENDIAN);
        return 20 + icmpLength;
    }

    private static int address(final FuzzedDataProvider data) {
        return data.consumeBoolean() ? ADDRESSES[data.consumeInt(0, ADDRESSES.length - 1)] : data.consumeInt();
    }

    private static int port(final FuzzedDataProvider data) {
        return data.consumeBoolean() ? PORTS[data.consumeInt(0, PORTS.length - 1)] : data.consumeInt(1, 65535);
    }
}
