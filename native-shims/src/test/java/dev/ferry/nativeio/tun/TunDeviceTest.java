package dev.ferry.nativeio.tun;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.ferry.nativeio.libc.Errno;
import dev.ferry.nativeio.libc.NativeException;
import dev.ferry.nativeio.probe.NativeAccessProbe.Need;
import dev.ferry.nativeio.testing.Ipv4;
import dev.ferry.nativeio.testing.Privileged;
import dev.ferry.nativeio.testing.ProcSelf;
import dev.ferry.nativeio.testing.TestNetns;
import dev.ferry.nativeio.virtio.VirtioNetHdr;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.net.DatagramPacket;
import java.net.DatagramSocket;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** Privileged: each test creates its own namespaces and removes them. */
class TunDeviceTest {
    private static final int WAIT_MS = 10_000;

    @BeforeAll
    static void privileged() {
        Privileged.require(Need.TUN, Need.NETLINK);
    }

    @Test
    void shouldReadUdpDatagramRoutedIntoTunIntact() throws Exception {
        try (TestNetns ns = TestNetns.create();
             TunDevice tun = ns.call(() -> TunDevice.open("ferrytun0"))) {
            assertEquals("ferrytun0", tun.name());
            ns.ip("addr", "add", "10.200.0.1/24", "dev", "ferrytun0");
            ns.ip("link", "set", "ferrytun0", "up");
            ns.ip("route", "add", "10.201.0.0/24", "dev", "ferrytun0");
            byte[] payload = "ferry: one datagram through the tun".getBytes(StandardCharsets.US_ASCII);
            ns.call(() -> {
                try (DatagramSocket s = new DatagramSocket()) {
                    s.send(new DatagramPacket(payload, payload.length, InetAddress.getByName("10.201.0.5"), 9999));
                }
                return null;
            });
            byte[] packet = readUdpTo(tun, 9999);
            assertNotNull(packet, "no UDP datagram to port 9999 came out of the TUN");
            assertEquals(28 + payload.length, packet.length);
            assertArrayEquals(Ipv4.addr("10.200.0.1"), Arrays.copyOfRange(packet, 12, 16));
            assertArrayEquals(Ipv4.addr("10.201.0.5"), Arrays.copyOfRange(packet, 16, 20));
            assertArrayEquals(payload, Arrays.copyOfRange(packet, 28, packet.length));
            // complete checksums: the IP header and UDP (with pseudo-header) both sum to 0xffff
            assertEquals(0, Ipv4.verifyIpHeader(packet));
            assertEquals(0, Ipv4.verifyUdp(packet));
        }
    }

    @Test
    void shouldDeliverWrittenPacketToSocketInAnotherNamespace() throws Exception {
        try (TestNetns a = TestNetns.create(); TestNetns b = TestNetns.create();
             TunDevice tun = a.call(() -> TunDevice.open("ferrytun0"))) {
            a.ip("addr", "add", "10.200.0.1/24", "dev", "ferrytun0");
            a.ip("link", "set", "ferrytun0", "up");
            a.ip("route", "add", "10.201.0.0/24", "dev", "ferrytun0");
            a.ip("link", "add", "va", "type", "veth", "peer", "name", "vb", "netns", b.name());
            a.ip("addr", "add", "10.202.0.1/24", "dev", "va");
            a.ip("link", "set", "va", "up");
            b.ip("addr", "add", "10.202.0.2/24", "dev", "vb");
            b.ip("link", "set", "vb", "up");
            b.ip("route", "add", "10.201.0.0/24", "via", "10.202.0.1");
            a.sysctl("net/ipv4/ip_forward", "1");
            a.sysctl("net/ipv4/conf/all/rp_filter", "0");
            a.sysctl("net/ipv4/conf/ferrytun0/rp_filter", "0");
            try (DatagramSocket receiver = b.call(() -> new DatagramSocket(new InetSocketAddress("10.202.0.2", 7777)))) {
                receiver.setSoTimeout(WAIT_MS);
                byte[] payload = "written by the port".getBytes(StandardCharsets.US_ASCII);
                byte[] packet = Ipv4.udp("10.201.0.5", "10.202.0.2", 5555, 7777, payload);
                try (Arena arena = Arena.ofConfined()) {
                    MemorySegment buf = arena.allocate(packet.length);
                    MemorySegment.copy(packet, 0, buf, ValueLayout.JAVA_BYTE, 0, packet.length);
                    assertEquals(packet.length, tun.write(buf, 0, packet.length));
                }
                DatagramPacket got = new DatagramPacket(new byte[2048], 2048);
                receiver.receive(got);
                assertArrayEquals(payload, Arrays.copyOf(got.getData(), got.getLength()));
                assertEquals(new InetSocketAddress("10.201.0.5", 5555), got.getSocketAddress());
            }
        }
    }

    @Test
    void shouldPrefixEachPacketWithAVirtioHeaderOnceOffloadsAreOn() throws Exception {
        try (TestNetns ns = TestNetns.create();
             TunDevice tun = ns.call(() -> TunDevice.open("ferryvnet0", false, true))) {
            assertTrue(tun.vnetHeader());
            int offloads = tun.enableOffloads();
            assertEquals(TunDevice.TCP_OFFLOADS, offloads & TunDevice.TCP_OFFLOADS, "checksum and TCP segmentation offload taken");
            ns.ip("addr", "add", "10.200.0.1/24", "dev", "ferryvnet0");
            ns.ip("link", "set", "ferryvnet0", "up");
            ns.ip("route", "add", "10.201.0.0/24", "dev", "ferryvnet0");
            byte[] payload = "with a virtio_net_hdr in front".getBytes(StandardCharsets.US_ASCII);
            ns.call(() -> {
                try (DatagramSocket s = new DatagramSocket()) {
                    s.send(new DatagramPacket(payload, payload.length, InetAddress.getByName("10.201.0.5"), 9998));
                }
                return null;
            });
            byte[] frame = readFrame(tun, VirtioNetHdr.SIZE, 9998);
            assertNotNull(frame, "no UDP datagram to port 9998 came out of the TUN");
            assertEquals(VirtioNetHdr.SIZE + 28 + payload.length, frame.length);
            assertEquals(VirtioNetHdr.GSO_NONE, frame[VirtioNetHdr.GSO_TYPE]);
            if ((frame[VirtioNetHdr.FLAGS] & VirtioNetHdr.F_NEEDS_CSUM) != 0) {
                // a local socket's datagram with checksum offload: partial, to be finished at 20 + 6
                assertEquals(20, le16(frame, VirtioNetHdr.CSUM_START));
                assertEquals(6, le16(frame, VirtioNetHdr.CSUM_OFFSET));
            }
            assertArrayEquals(payload, Arrays.copyOfRange(frame, VirtioNetHdr.SIZE + 28, frame.length));
        }
    }

    private static int le16(byte[] b, int offset) {
        return (b[offset] & 0xff) | (b[offset + 1] & 0xff) << 8;
    }

    @Test
    void shouldReturnEagainWhenNothingWaits() throws Exception {
        try (TestNetns ns = TestNetns.create();
             TunDevice tun = ns.call(() -> TunDevice.open("ferrytun0"));
             Arena arena = Arena.ofConfined()) {
            assertEquals(-Errno.EAGAIN, tun.read(arena.allocate(2048), 0, 2048));
        }
    }

    @Test
    void shouldOpenSeveralQueuesOfMultiQueueDevice() throws Exception {
        try (TestNetns ns = TestNetns.create();
             TunDevice q0 = ns.call(() -> TunDevice.open("ferrymq0", true));
             TunDevice q1 = ns.call(() -> TunDevice.open("ferrymq0", true))) {
            assertEquals(q0.name(), q1.name());
            assertTrue(q0.fd() != q1.fd());
            assertTrue(ns.ip("-d", "link", "show", "ferrymq0").contains("multi_queue"));
        }
    }

    @Test
    void shouldNameIoctlAndErrnoForInvalidDeviceName() {
        try (TestNetns ns = TestNetns.create()) {
            NativeException e = assertThrows(NativeException.class, () -> ns.call(() -> TunDevice.open("bad/name")));
            assertEquals("ioctl(TUNSETIFF bad/name): EINVAL (Invalid argument)", e.getMessage());
        }
    }

    @Test
    void shouldReleaseEveryFileDescriptorOnClose() throws Exception {
        try (TestNetns ns = TestNetns.create()) {
            ns.call(() -> {
                TunDevice.open("ferrytun9").close(); // warm up class loading and lazy JDK fds
                return null;
            });
            int before = ProcSelf.fdCount();
            for (int i = 0; i < 20; i++) {
                ns.call(() -> TunDevice.open("ferrytun" + 0)).close();
            }
            assertEquals(before, ProcSelf.fdCount(), "file descriptors leaked by open/close");
        }
    }

    /** Reads until a UDP datagram to {@code port} comes, after {@code skip} bytes of metadata; the whole frame. */
    private static byte[] readFrame(TunDevice tun, int skip, int port) {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment buf = arena.allocate(65536 + skip);
            long deadline = System.nanoTime() + WAIT_MS * 1_000_000L;
            while (System.nanoTime() < deadline) {
                tun.awaitReadable(100);
                int n = tun.read(buf, 0, 65536 + skip);
                if (n > skip) {
                    byte[] f = buf.asSlice(0, n).toArray(ValueLayout.JAVA_BYTE);
                    if (Ipv4.isUdpTo(Arrays.copyOfRange(f, skip, n), n - skip, port)) {
                        return f;
                    }
                }
            }
            return null;
        }
    }

    private static byte[] readUdpTo(TunDevice tun, int port) {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment buf = arena.allocate(65536);
            long deadline = System.nanoTime() + WAIT_MS * 1_000_000L;
            while (System.nanoTime() < deadline) {
                tun.awaitReadable(100);
                int n = tun.read(buf, 0, 65536);
                if (n > 0) {
                    byte[] p = buf.asSlice(0, n).toArray(ValueLayout.JAVA_BYTE);
                    if (Ipv4.isUdpTo(p, n, port)) {
                        return p;
                    }
                }
            }
            return null;
        }
    }
}
