package dev.ferry.dataplane.packet;

import dev.ferry.dataplane.nat.NatRewriter;
import dev.ferry.nativeio.IpProtocol;
import dev.ferry.nativeio.probe.NativeAccessProbe.Need;
import dev.ferry.nativeio.testing.Privileged;
import dev.ferry.nativeio.testing.TestNetns;
import dev.ferry.nativeio.tun.TunDevice;
import org.agrona.concurrent.UnsafeBuffer;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.net.DatagramPacket;
import java.net.DatagramSocket;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.nio.ByteOrder;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.function.Predicate;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.fail;

/**
 * IPv6 packets the kernel builds, read from a TUN device in a namespace of the test's own,
 * parsed and translated by {@link Ipv6Packet} and {@link NatRewriter}, and written back: the
 * kernel's own stack then judges the translation (a socket receives the datagram only when its
 * checksum holds; a listener answers a SYN only when its checksum holds).
 *
 * <pre>
 *   namespace:  sockets on fd00:200::1  --ferry6tun0-->  this test (fd00:201::/64 routed into it)
 * </pre>
 */
class Ipv6KernelTest {
    private static final String TUN = "ferry6tun0";
    private static final String LOCAL = "fd00:200::1";
    private static final String SERVICE = "fd00:201::5";
    private static final String PEER = "fd00:201::9";
    private static final int WAIT_MS = 10_000;

    @BeforeAll
    static void privileged() {
        Privileged.require(Need.TUN, Need.NETLINK);
    }

    @Test
    void shouldHandTheKernelsUdpBackTranslatedToASocketThatChecksIt() throws Exception {
        try (TestNetns ns = TestNetns.create(); TunDevice tun = ns.call(() -> TunDevice.open(TUN));
             Arena arena = Arena.ofConfined()) {
            up(ns);
            final byte[] payload = "ferry: a datagram over IPv6".getBytes(StandardCharsets.US_ASCII);
            try (DatagramSocket receiver = ns.call(() -> new DatagramSocket(new InetSocketAddress(LOCAL, 7777)))) {
                receiver.setSoTimeout(WAIT_MS);
                ns.call(() -> {
                    try (DatagramSocket s = new DatagramSocket()) {
                        s.send(new DatagramPacket(payload, payload.length, InetAddress.getByName(SERVICE), 9999));
                    }
                    return null;
                });
                final MemorySegment buf = arena.allocate(65536);
                final Ipv6Packet packet = new Ipv6Packet();
                final int n = read(tun, buf, packet, p -> p.protocol() == IpProtocol.UDP && p.dstPort() == 9999);
                assertEquals(40 + 8 + payload.length, n);
                assertEquals(Ipv6Packets.halves(LOCAL)[1], packet.srcLo());
                assertEquals(Ipv6Packets.halves(SERVICE)[1], packet.dstLo());
                assertKernelChecksumHolds(packet, Ipv4Packet.UDP_OFFSET_CHECKSUM);

                final long[] peer = Ipv6Packets.halves(PEER);
                final long[] local = Ipv6Packets.halves(LOCAL);
                NatRewriter.translate(packet, peer[0], peer[1], 5555, local[0], local[1], 7777, false);
                assertEquals(n, tun.write(buf, 0, n));

                final DatagramPacket got = new DatagramPacket(new byte[2048], 2048);
                receiver.receive(got);
                assertArrayEquals(payload, Arrays.copyOf(got.getData(), got.getLength()));
                assertEquals(new InetSocketAddress(PEER, 5555), got.getSocketAddress());
            }
        }
    }

    @Test
    void shouldHaveTheKernelAnswerATranslatedSyn() throws Exception {
        try (TestNetns ns = TestNetns.create(); TunDevice tun = ns.call(() -> TunDevice.open(TUN));
             Arena arena = Arena.ofConfined()) {
            up(ns);
            try (ServerSocket listener = ns.call(() -> new ServerSocket(8080, 8, InetAddress.getByName(LOCAL)));
                 SocketChannel client = ns.call(SocketChannel::open)) {
                listener.setSoTimeout(WAIT_MS);
                client.configureBlocking(false);
                client.connect(new InetSocketAddress(SERVICE, 80)); // its SYN goes into the TUN
                final MemorySegment buf = arena.allocate(65536);
                final Ipv6Packet packet = new Ipv6Packet();
                final int n = read(tun, buf, packet, p -> p.protocol() == IpProtocol.TCP && p.dstPort() == 80);
                assertEquals(0x02, packet.tcpFlags(), "a SYN");
                assertKernelChecksumHolds(packet, Ipv4Packet.TCP_OFFSET_CHECKSUM);

                // DNAT to the listener, from a peer routed back into the TUN
                final long[] peer = Ipv6Packets.halves(PEER);
                final long[] local = Ipv6Packets.halves(LOCAL);
                NatRewriter.translate(packet, peer[0], peer[1], 5555, local[0], local[1], 8080, false);
                assertEquals(n, tun.write(buf, 0, n));

                final Ipv6Packet answer = new Ipv6Packet();
                read(tun, buf, answer, p -> p.protocol() == IpProtocol.TCP && p.srcPort() == 8080 && p.dstPort() == 5555);
                assertEquals(0x12, answer.tcpFlags(), "the listener's SYN-ACK: the translated SYN's checksum held");
                assertEquals(peer[1], answer.dstLo());
            }
        }
    }

    private static void up(final TestNetns ns) {
        ns.sysctl("net/ipv6/conf/all/disable_ipv6", "0");
        ns.ip("-6", "addr", "add", LOCAL + "/64", "dev", TUN, "nodad");
        ns.ip("link", "set", TUN, "up");
        ns.ip("-6", "route", "add", "fd00:201::/64", "dev", TUN);
    }

    /** The checksum the kernel wrote is the one computed from scratch here. */
    private static void assertKernelChecksumHolds(final Ipv6Packet packet, final int fieldOffset) {
        final int stored = packet.buffer().getShort(packet.l4Offset() + fieldOffset, ByteOrder.BIG_ENDIAN) & 0xFFFF;
        assertEquals(stored, Checksums.transport6(packet.buffer(), packet.offset(), packet.protocol(), packet.l4Offset(), packet.l4Length()));
    }

    /** Reads until a well-formed IPv6 packet that {@code wanted} accepts (the kernel also sends router solicitations, MLD). */
    private static int read(final TunDevice tun, final MemorySegment buf, final Ipv6Packet packet, final Predicate<Ipv6Packet> wanted) {
        final UnsafeBuffer view = new UnsafeBuffer(buf.address(), (int) buf.byteSize());
        final long deadline = System.nanoTime() + WAIT_MS * 1_000_000L;
        while (System.nanoTime() < deadline) {
            tun.awaitReadable(100);
            final int n = tun.read(buf, 0, (int) buf.byteSize());
            if (n > 0 && (buf.get(ValueLayout.JAVA_BYTE, 0) & 0xF0) == 0x60) {
                assertNull(packet.wrap(view, 0, n), "the kernel's packets are well formed");
                if (packet.hasPorts() && wanted.test(packet)) {
                    return n;
                }
            }
        }
        return fail("no such packet came out of the TUN in " + WAIT_MS + " ms");
    }
}
