package dev.ferry.nativeio.packet;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.ferry.nativeio.libc.NativeException;
import dev.ferry.nativeio.probe.NativeAccessProbe.Need;
import dev.ferry.nativeio.testing.Ipv4;
import dev.ferry.nativeio.testing.Privileged;
import dev.ferry.nativeio.testing.ProcSelf;
import dev.ferry.nativeio.testing.VethLab;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.net.DatagramPacket;
import java.net.DatagramSocket;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import org.junit.jupiter.api.Test;

/** Privileged: a veth pair between two namespaces the test creates and removes. */
class PacketSocketTest {
    private static final int WAIT_MS = 10_000;
    private static final int ETH_HLEN = 14;

    @BeforeAll
    static void privileged() {
        Privileged.require(Need.PACKET, Need.NETLINK);
    }

    private static PacketSocketConfig config(boolean vnet) {
        return new PacketSocketConfig().interfaceName("pb").vnetHeader(vnet);
    }

    @ParameterizedTest(name = "vnetHeader={0}")
    @ValueSource(booleans = {false, true})
    void shouldReceiveFramesSentByKernelSocketWithCorrectLengths(boolean vnet) throws Exception {
        try (VethLab lab = VethLab.create();
             PacketSocket socket = lab.b.call(() -> PacketSocket.open(config(vnet)))) {
            int[] sizes = {1, 17, 64, 200, 512, 1000, 1200, 1472};
            lab.a.call(() -> {
                try (DatagramSocket s = new DatagramSocket(new InetSocketAddress(VethLab.IP_A, 0))) {
                    for (int size : sizes) {
                        byte[] payload = new byte[size];
                        Arrays.fill(payload, (byte) size);
                        s.send(new DatagramPacket(payload, size, InetAddress.getByName(VethLab.IP_B), 9000));
                    }
                }
                return null;
            });
            List<byte[]> frames = receiveUdp(socket, 9000, sizes.length, vnet);
            assertEquals(sizes.length, frames.size(), "frames to port 9000 through the RX ring");
            for (int i = 0; i < sizes.length; i++) {
                byte[] f = frames.get(i);
                assertEquals(ETH_HLEN + 28 + sizes[i], f.length, "frame " + i + " length");
                assertEquals(sizes[i] & 0xff, f[f.length - 1] & 0xff, "last payload byte of frame " + i);
                assertArrayEqualsMac(lab.macB, f, 0);
                assertArrayEqualsMac(lab.macA, f, 6);
            }
            assertEquals(0, socket.rxTruncated());
        }
    }

    @ParameterizedTest(name = "vnetHeader={0}")
    @ValueSource(booleans = {false, true})
    void shouldDeliverFramesSentThroughTxRingToSocketOnPeer(boolean vnet) throws Exception {
        try (VethLab lab = VethLab.create();
             PacketSocket socket = lab.b.call(() -> PacketSocket.open(config(vnet)));
             DatagramSocket receiver = lab.a.call(() -> new DatagramSocket(new InetSocketAddress(VethLab.IP_A, 9001)));
             Arena arena = Arena.ofConfined()) {
            receiver.setSoTimeout(WAIT_MS);
            int count = 100;
            MemorySegment buf = arena.allocate(2048);
            int queued = 0;
            for (int i = 0; i < count; i++) {
                byte[] payload = ("frame " + i).getBytes();
                byte[] frame = ethernet(lab.macA, lab.macB, Ipv4.udp(VethLab.IP_B, VethLab.IP_A, 4000 + i, 9001, payload), vnet);
                MemorySegment.copy(frame, 0, buf, ValueLayout.JAVA_BYTE, 0, frame.length);
                if (i % 2 == 0) {
                    assertTrue(socket.queueTx(buf, 0, frame.length), "TX slot free for frame " + i);
                } else {
                    assertTrue(socket.queueTx(buf.address(), frame.length), "TX slot free for frame " + i);
                }
                queued++;
                if (queued == 32 || i == count - 1) { // one sendto per batch
                    assertEquals(queued, socket.flushTx());
                    queued = 0;
                }
            }
            boolean[] seen = new boolean[count];
            DatagramPacket got = new DatagramPacket(new byte[2048], 2048);
            for (int i = 0; i < count; i++) {
                receiver.receive(got);
                String text = new String(got.getData(), 0, got.getLength());
                int n = Integer.parseInt(text.substring("frame ".length()));
                assertEquals(4000 + n, got.getPort());
                seen[n] = true;
            }
            for (int i = 0; i < count; i++) {
                assertTrue(seen[i], "frame " + i + " arrived");
            }
            assertEquals(0, socket.txWrongFormat());
        }
    }

    @Test
    void shouldHandUpGsoSuperFramesLongerThanASlotWholeThroughTheReceiveQueue() throws Exception {
        int total = 4 << 20;
        try (VethLab lab = withAddressOnB(VethLab.create());
             PacketSocket socket = lab.b.call(() -> PacketSocket.open(config(true)));
             java.net.ServerSocket server = lab.b.call(() -> new java.net.ServerSocket(9100, 1, InetAddress.getByName(VethLab.IP_B)))) {
            Thread sink = Thread.ofPlatform().daemon().start(() -> {
                try (java.net.Socket s = server.accept()) {
                    s.getInputStream().transferTo(java.io.OutputStream.nullOutputStream());
                } catch (java.io.IOException e) {
                    // the test fails on the byte count below
                }
            });
            lab.a.call(() -> {
                try (java.net.Socket s = new java.net.Socket(InetAddress.getByName(VethLab.IP_B), 9100)) {
                    s.getOutputStream().write(new byte[total]);
                }
                return null;
            });
            sink.join(WAIT_MS);
            long[] payload = {0};
            int[] longest = {0};
            long deadline = System.nanoTime() + WAIT_MS * 1_000_000L;
            while (payload[0] < total && System.nanoTime() < deadline) {
                socket.awaitReadable(50);
                socket.receiveBatch((mem, off, len, st) -> {
                    byte[] f = mem.asSlice(off, len).toArray(ValueLayout.JAVA_BYTE);
                    int ip = 10 + ETH_HLEN;
                    if (f.length > ip + 40 && f[ip + 9] == 6 && ((f[ip + 22] & 0xff) << 8 | (f[ip + 23] & 0xff)) == 9100) {
                        int ipLength = (f[ip + 2] & 0xff) << 8 | (f[ip + 3] & 0xff);
                        assertEquals(f.length - ip, ipLength, "a frame handed up whole");
                        payload[0] += ipLength - 20 - ((f[ip + 32] & 0xf0) >> 2);
                        longest[0] = Math.max(longest[0], f.length);
                    }
                }, 64);
            }
            assertTrue(payload[0] >= total, "every byte sent came through, " + payload[0] + " of " + total);
            assertTrue(longest[0] > PacketSocketConfig.DEFAULT_RX_FRAME_SIZE, "GSO super-frames longer than a slot: " + longest[0]);
            assertTrue(socket.rxCopied() > 0, "read from the receive queue");
            assertEquals(0, socket.rxTruncated(), "none truncated");
        }
    }

    /** pb gets IP_B, so the kernel in b terminates TCP while the socket watches. */
    private static VethLab withAddressOnB(VethLab lab) {
        lab.b.ip("addr", "add", VethLab.IP_B + "/24", "dev", "pb");
        return lab;
    }

    @Test
    void shouldSpreadFlowsAcrossFanoutGroup() throws Exception {
        try (VethLab lab = VethLab.create();
             PacketSocket s0 = lab.b.call(() -> PacketSocket.open(config(true).fanout(77, PacketSocketConfig.FanoutMode.HASH)));
             PacketSocket s1 = lab.b.call(() -> PacketSocket.open(config(true).fanout(77, PacketSocketConfig.FanoutMode.HASH)))) {
            int flows = 64;
            lab.a.call(() -> {
                for (int i = 0; i < flows; i++) {
                    try (DatagramSocket s = new DatagramSocket(new InetSocketAddress(VethLab.IP_A, 20000 + i))) {
                        byte[] payload = {(byte) i};
                        s.send(new DatagramPacket(payload, 1, InetAddress.getByName(VethLab.IP_B), 9000));
                    }
                }
                return null;
            });
            int[] counts = new int[2];
            PacketSocket[] sockets = {s0, s1};
            long deadline = System.nanoTime() + WAIT_MS * 1_000_000L;
            while (counts[0] + counts[1] < flows && System.nanoTime() < deadline) {
                for (int k = 0; k < 2; k++) {
                    int idx = k;
                    sockets[k].awaitReadable(10);
                    sockets[k].receiveBatch((mem, off, len, st) -> {
                        byte[] f = mem.asSlice(off, len).toArray(ValueLayout.JAVA_BYTE);
                        if (Ipv4.isUdpTo(Arrays.copyOfRange(f, 10 + ETH_HLEN, f.length), len - 10 - ETH_HLEN, 9000)) {
                            counts[idx]++;
                        }
                    }, 64);
                }
            }
            assertEquals(flows, counts[0] + counts[1], "every flow arrived once across the group");
            assertTrue(counts[0] > 0 && counts[1] > 0, "both sockets got flows: " + Arrays.toString(counts));
        }
    }

    @Test
    void shouldReleaseEveryFileDescriptorAndMappingOnClose() throws Exception {
        try (VethLab lab = VethLab.create()) {
            lab.b.call(() -> PacketSocket.open(config(true))).close(); // warm up
            int before = ProcSelf.fdCount();
            List<String> sockets = new ArrayList<>();
            for (int i = 0; i < 10; i++) {
                boolean vnet = i % 2 == 0;
                PacketSocket s = lab.b.call(() -> PacketSocket.open(config(vnet)));
                String target = ProcSelf.fdTarget(s.fd());
                assertNotNull(target);
                assertTrue(target.startsWith("socket:["), target);
                String ring = Long.toHexString(s.ringMemory().address());
                assertFalse(ProcSelf.mapsContaining(ring + "-").isEmpty(), "ring mapping listed in /proc/self/maps");
                sockets.add(ring);
                int fd = s.fd();
                s.close();
                assertTrue(!target.equals(ProcSelf.fdTarget(fd)), "fd " + fd + " still open on " + target);
                assertEquals(List.of(), ProcSelf.mapsContaining(ring + "-"), "ring still mapped after close");
            }
            assertEquals(before, ProcSelf.fdCount(), "file descriptors leaked");
            for (String ring : sockets) {
                assertEquals(List.of(), ProcSelf.mapsContaining(ring + "-"));
            }
        }
    }

    @Test
    void shouldNameFailingStepWhenInterfaceIsMissing() {
        try (VethLab lab = VethLab.create()) {
            NativeException e = assertThrows(NativeException.class,
                    () -> lab.b.call(() -> PacketSocket.open(new PacketSocketConfig().interfaceName("ferrynope0"))));
            assertEquals("if_nametoindex(ferrynope0): ENODEV (No such device)", e.getMessage());
        }
    }

    @Test
    void shouldRejectInvalidConfigBeforeOpening() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> new PacketSocketConfig().interfaceName("pb").rxBlockSize(1000).conclude());
        assertEquals("packet socket on pb: rxBlockSize is 1000, must be a positive multiple of 4096", e.getMessage());
    }

    static byte[] ethernet(String dst, String src, byte[] ip, boolean vnet) {
        ByteBuffer b = ByteBuffer.allocate((vnet ? 10 : 0) + ETH_HLEN + ip.length);
        if (vnet) {
            b.put(new byte[10]); // no offload: complete checksum, no GSO
        }
        b.put(VethLab.macBytes(dst)).put(VethLab.macBytes(src)).putShort((short) 0x0800).put(ip);
        return b.array();
    }

    private static void assertArrayEqualsMac(String mac, byte[] frame, int offset) {
        assertEquals(mac, String.format("%02x:%02x:%02x:%02x:%02x:%02x", frame[offset], frame[offset + 1],
                frame[offset + 2], frame[offset + 3], frame[offset + 4], frame[offset + 5]));
    }

    /** Ethernet frames (without any virtio_net_hdr) of IPv4 UDP datagrams to {@code port}. */
    static List<byte[]> receiveUdp(PacketSocket socket, int port, int want, boolean vnet) {
        List<byte[]> frames = new ArrayList<>();
        long deadline = System.nanoTime() + WAIT_MS * 1_000_000L;
        while (frames.size() < want && System.nanoTime() < deadline) {
            socket.awaitReadable(50);
            socket.receiveBatch((mem, off, len, status) -> {
                int skip = vnet ? dev.ferry.nativeio.virtio.VirtioNetHdr.SIZE : 0;
                byte[] f = mem.asSlice(off + skip, len - skip).toArray(ValueLayout.JAVA_BYTE);
                if (f.length > ETH_HLEN && f[12] == 8 && f[13] == 0
                        && Ipv4.isUdpTo(Arrays.copyOfRange(f, ETH_HLEN, f.length), f.length - ETH_HLEN, port)) {
                    frames.add(f);
                }
            }, 64);
        }
        return frames;
    }
}
