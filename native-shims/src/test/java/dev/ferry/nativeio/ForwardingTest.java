package dev.ferry.nativeio;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.ferry.nativeio.netlink.Neighbour;
import dev.ferry.nativeio.netlink.Route;
import dev.ferry.nativeio.netlink.RtNetlink;
import dev.ferry.nativeio.netlink.Sysctl;
import dev.ferry.nativeio.netns.NetworkNamespace;
import dev.ferry.nativeio.packet.PacketSocket;
import dev.ferry.nativeio.packet.PacketSocketConfig;
import dev.ferry.nativeio.probe.NativeAccessProbe.Need;
import dev.ferry.nativeio.testing.Privileged;
import dev.ferry.nativeio.testing.RoutedLab;
import dev.ferry.nativeio.testing.TestNetns;
import dev.ferry.nativeio.testing.TinyHttp;
import dev.ferry.nativeio.tun.TunDevice;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.net.ServerSocket;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * A reflector that hands every packet straight back carries a real TCP connection (an HTTP
 * GET of 4 MiB) between two namespaces through the node's dataplane device, for both port
 * types, with every offload left at its default. Privileged; namespaces are the test's own.
 */
class ForwardingTest {
    private static final int PORT = 8080;
    private static final int BODY = 4 * 1024 * 1024;
    private static final int TIMEOUT_MS = 30_000;

    @BeforeAll
    static void privileged() {
        Privileged.require(Need.TUN, Need.PACKET, Need.NETLINK);
    }

    @Test
    void shouldCarryHttpGetThroughTunReflector() throws Exception {
        try (RoutedLab lab = RoutedLab.create();
             TunDevice tun = lab.node.call(() -> TunDevice.open("ferry0"))) {
            lab.steerInto(Route.defaultRoute(false).dev(lab.nodeNetlink.ifindex("ferry0")).table(RoutedLab.DATAPLANE_TABLE));
            AtomicBoolean stop = new AtomicBoolean();
            AtomicLong reflected = new AtomicLong();
            Thread reflector = Thread.ofPlatform().name("tun-reflector").start(() -> {
                try (Arena arena = Arena.ofConfined()) {
                    MemorySegment buf = arena.allocate(65536);
                    while (!stop.get()) {
                        int n = tun.read(buf, 0, 65536);
                        if (n > 0) {
                            if (tun.write(buf, 0, n) == n) {
                                reflected.incrementAndGet();
                            }
                        } else {
                            tun.awaitReadable(20);
                        }
                    }
                }
            });
            try {
                assertGetWorks(lab);
            } finally {
                stop.set(true);
                reflector.join();
            }
            assertTrue(reflected.get() > 0, "packets went through the TUN");
        }
    }

    @Test
    void shouldCarryHttpGetThroughPacketReflector() throws Exception {
        try (RoutedLab lab = RoutedLab.create(); TestNetns portNs = TestNetns.create()) {
            RtNetlink nl = lab.nodeNetlink;
            // ferry0 in the node, ferry0p in a namespace of its own where the kernel drops what arrives
            nl.createVeth("ferry0", "ferry0p", NetworkNamespace.named(portNs.name()));
            try (RtNetlink portNl = portNs.call(RtNetlink::open)) {
                portNs.run(() -> Sysctl.write("net.ipv6.conf.all.disable_ipv6", "1"));
                portNl.setUp("ferry0p", true);
                String portMac = portNl.link("ferry0p").mac();
                int dev = nl.ifindex("ferry0");
                nl.addNeighbour(Neighbour.permanent(dev, RoutedLab.addr("169.254.77.1"), portMac));
                lab.steerInto(Route.defaultRoute(false).via(RoutedLab.addr("169.254.77.1")).dev(dev).withOnlink()
                        .table(RoutedLab.DATAPLANE_TABLE));
            }
            try (PacketSocket port = portNs.call(() -> PacketSocket.open(new PacketSocketConfig().interfaceName("ferry0p")))) {
                AtomicBoolean stop = new AtomicBoolean();
                AtomicLong reflected = new AtomicLong();
                AtomicLong gso = new AtomicLong();
                Thread reflector = Thread.ofPlatform().name("packet-reflector").start(() -> {
                    while (!stop.get()) {
                        int n = port.receiveBatch((mem, off, len, status) -> {
                            long eth = off + (port.vnetHeader() ? 10 : 0);
                            if (port.vnetHeader() && mem.get(ValueLayout.JAVA_BYTE, off + 1) != 0) {
                                gso.incrementAndGet();
                            }
                            swapMacs(mem, eth);
                            if (port.queueTx(mem, off, len)) {
                                reflected.incrementAndGet();
                            }
                        }, 64);
                        if (n > 0) {
                            port.flushTx();
                        } else {
                            port.awaitReadable(20);
                        }
                    }
                });
                try {
                    assertGetWorks(lab);
                } finally {
                    stop.set(true);
                    reflector.join();
                }
                assertTrue(reflected.get() > 0, "frames went through the packet port");
                assertEquals(0, port.rxTruncated(), "no frame was truncated");
                System.out.println("packet reflector: " + reflected.get() + " frames, " + gso.get() + " GSO super-frames");
            }
        }
    }

    private static void swapMacs(MemorySegment mem, long eth) {
        for (int i = 0; i < 6; i++) {
            byte d = mem.get(ValueLayout.JAVA_BYTE, eth + i);
            mem.set(ValueLayout.JAVA_BYTE, eth + i, mem.get(ValueLayout.JAVA_BYTE, eth + 6 + i));
            mem.set(ValueLayout.JAVA_BYTE, eth + 6 + i, d);
        }
    }

    private static void assertGetWorks(RoutedLab lab) throws Exception {
        byte[] body = TinyHttp.body(BODY);
        try (ServerSocket _ = TinyHttp.serveOnce(lab.server, RoutedLab.SERVER_IP, PORT, body)) {
            TinyHttp.Response r = TinyHttp.get(lab.client, RoutedLab.SERVER_IP, PORT, TIMEOUT_MS);
            assertEquals("HTTP/1.0 200 OK", r.statusLine());
            assertEquals(body.length, r.body().length, "body length");
            assertEquals(TinyHttp.sha256(body), TinyHttp.sha256(r.body()), "body intact");
        }
    }
}
