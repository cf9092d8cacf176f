package dev.ferry.dataplane.packet;

import com.code_intelligence.jazzer.api.FuzzedDataProvider;
import com.code_intelligence.jazzer.junit.FuzzTest;
import dev.ferry.dataplane.nat.NatRewriter;
import dev.ferry.nativeio.IpProtocol;
import org.agrona.concurrent.UnsafeBuffer;
import org.junit.jupiter.api.Tag;

import java.nio.ByteOrder;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The IPv6 parser and NAT on bytes of any content, with a fuzzed new tuple. Whatever the input:
 * <ul>
 *   <li>{@link Ipv6Packet#wrap} never throws: a packet is well formed or a {@link DropReason};</li>
 *   <li>what it finds lies inside the packet (the upper layer past the fixed header and inside
 *       the payload; a quoted packet inside the ICMPv6 message);</li>
 *   <li>a well-formed packet translated still parses the same way, carries the new tuple, and
 *       its TCP, UDP or ICMPv6 checksum, valid before, is valid after (an ICMPv6 error's too,
 *       recomputed over the whole message).</li>
 * </ul>
 * A normal test run replays the inputs saved under src/test/resources; {@code JAZZER_FUZZ=1}
 * fuzzes ({@code ./ferry fuzz ipv6}, docs/TESTING.md).
 */
@Tag("fuzz")
class Ipv6PacketFuzzTest {
    @FuzzTest(maxDuration = "30s")
    void shouldParseOrRefuseAndTranslateWithValidChecksums(final FuzzedDataProvider data) {
        final long srcHi = data.consumeLong();
        final long srcLo = data.consumeLong();
        final long dstHi = data.consumeLong();
        final long dstLo = data.consumeLong();
        final int srcPort = data.consumeInt(0, 65535);
        final int dstPort = data.consumeInt(0, 65535);
        final byte[] bytes = data.consumeRemainingAsBytes();
        final UnsafeBuffer buffer = new UnsafeBuffer(bytes);
        final Ipv6Packet packet = new Ipv6Packet();
        if (packet.wrap(buffer, 0, bytes.length) != null) {
            return;
        }
        final int end = packet.totalLength();
        assertTrue(end <= bytes.length, "the payload lies inside the captured bytes");
        assertTrue(packet.l4Offset() >= Ipv6Packet.HEADER_LENGTH && packet.l4Offset() <= end, "the upper layer lies inside the payload");
        assertEquals(end - packet.l4Offset(), packet.l4Length());
        if (packet.hasQuotedPacket()) {
            assertTrue(packet.quotedOffset() >= packet.l4Offset() + Ipv6Packet.ICMPV6_HEADER
                && packet.quotedL4Offset() <= end, "the quoted packet lies inside the ICMPv6 message");
        }

        final int protocol = packet.protocol();
        final int l4Offset = packet.l4Offset();
        final boolean checksummed = packet.hasPorts() && !packet.isFragment() && (protocol == IpProtocol.TCP || protocol == IpProtocol.UDP)
            || protocol == IpProtocol.ICMPV6 && !packet.isFragment();
        final boolean validBefore = checksummed && checksumValid(buffer, packet);
        if (packet.isIcmpError() && packet.quotedHasPorts()) {
            NatRewriter.translateIcmpError(packet, srcHi, srcLo, dstHi, dstLo, dstHi, dstLo, dstPort, srcHi, srcLo, srcPort);
            assertTrue(checksumValid(buffer, packet), "an ICMPv6 error's checksum is recomputed");
            return;
        }
        final boolean ports = packet.hasPorts();
        NatRewriter.translate(packet, srcHi, srcLo, srcPort, dstHi, dstLo, dstPort, false);

        final Ipv6Packet after = new Ipv6Packet();
        assertNull(after.wrap(buffer, 0, bytes.length), "a translated packet parses");
        assertEquals(protocol, after.protocol());
        assertEquals(l4Offset, after.l4Offset());
        assertEquals(srcLo, after.srcLo());
        assertEquals(dstHi, after.dstHi());
        if (ports) {
            assertEquals(srcPort, after.srcPort());
            assertEquals(dstPort, after.dstPort());
        }
        if (validBefore && !(protocol == IpProtocol.UDP && storedChecksum(buffer, after) == 0)) {
            assertTrue(checksumValid(buffer, after), "a valid checksum stays valid");
        }
    }

    private static int storedChecksum(final UnsafeBuffer buffer, final Ipv6Packet packet) {
        final int field = switch (packet.protocol()) {
            case IpProtocol.TCP -> Ipv4Packet.TCP_OFFSET_CHECKSUM;
            case IpProtocol.UDP -> Ipv4Packet.UDP_OFFSET_CHECKSUM;
            default -> Ipv6Packet.ICMPV6_OFFSET_CHECKSUM;
        };
        return buffer.getShort(packet.l4Offset() + field, ByteOrder.BIG_ENDIAN) & 0xFFFF;
    }

    private static boolean checksumValid(final UnsafeBuffer buffer, final Ipv6Packet packet) {
        final int stored = storedChecksum(buffer, packet);
        final int computed = Checksums.transport6(buffer, packet.offset(), packet.protocol(), packet.l4Offset(), packet.l4Length());
        // one's complement has two zeros: 0x0000 and 0xFFFF say the same sum
        return stored == computed || (stored == 0 || stored == 0xFFFF) && (computed == 0 || computed == 0xFFFF);
    }
}
