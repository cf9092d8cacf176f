package dev.ferry.control.dns;

import com.code_intelligence.jazzer.api.FuzzedDataProvider;
import com.code_intelligence.jazzer.junit.FuzzTest;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.embedded.EmbeddedChannel;
import io.netty.channel.socket.DatagramPacket;
import org.junit.jupiter.api.Tag;

import java.net.InetSocketAddress;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Every datagram, of any content, through the DNS server's real UDP pipeline (Netty's decoder,
 * the guard, the zone, the encoder) on an EmbeddedChannel: it must never throw out of the
 * pipeline, and it is answered with at most one datagram that starts with the query's ID and
 * has QR set, or dropped and counted. Inputs saved under src/test/resources replay in every
 * test run (seeds: well-formed queries of each type, with and without EDNS, and a malformed one);
 * {@code ./ferry fuzz dns} fuzzes (docs/TESTING.md).
 */
@Tag("fuzz")
class DnsFuzzTest {
    private static final InetSocketAddress CLIENT = new InetSocketAddress("127.0.0.1", 40000);
    private static final InetSocketAddress SERVER = new InetSocketAddress("127.0.0.1", 53);
    private static DnsServer server;

    private static synchronized DnsServer server() {
        if (server == null) {
            server = DnsServer.start(new DnsServer.Context().bind(false).useEpoll(false));
            server.serve(DnsServerDigTest.names());
        }
        return server;
    }

    @FuzzTest
    void shouldAnswerOrDropEveryDatagram(final FuzzedDataProvider data) {
        final DnsServer dns = server();
        final byte[] bytes = data.consumeRemainingAsBytes();
        final long droppedBefore = dns.counters().droppedTotal();
        final EmbeddedChannel channel = new EmbeddedChannel(dns.udpPipeline());
        try {
            channel.writeInbound(new DatagramPacket(Unpooled.wrappedBuffer(bytes), SERVER, CLIENT));
            channel.checkException(); // nothing reached the end of the pipeline as an exception
            assertTrue(channel.isOpen(), "no exception reached the query handler (it would close the channel)");
            final Object out = channel.readOutbound();
            if (out == null) {
                assertEquals(droppedBefore + 1, dns.counters().droppedTotal(), "unanswered means counted as dropped");
                return;
            }
            assertTrue(out instanceof DatagramPacket, "a datagram: " + out);
            final DatagramPacket reply = (DatagramPacket) out;
            try {
                final ByteBuf content = reply.content();
                assertEquals(CLIENT, reply.recipient());
                assertTrue(content.readableBytes() >= 12, "a whole header");
                assertEquals((bytes[0] & 0xFF) << 8 | bytes[1] & 0xFF, content.getUnsignedShort(0), "the query's ID");
                assertTrue((content.getByte(2) & 0x80) != 0, "QR set");
                assertTrue(content.readableBytes() <= DnsServer.EDNS_UDP_SIZE, "fits the largest size we answer within");
            } finally {
                reply.release();
            }
            assertNull(channel.readOutbound(), "one answer per query");
        } finally {
            channel.finishAndReleaseAll();
        }
    }
}
