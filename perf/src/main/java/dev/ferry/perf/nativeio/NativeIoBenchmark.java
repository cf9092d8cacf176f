package dev.ferry.perf.nativeio;

import dev.ferry.nativeio.libc.IfReq;
import dev.ferry.nativeio.libc.LibC;
import dev.ferry.nativeio.netlink.Neighbour;
import dev.ferry.nativeio.netlink.Route;
import dev.ferry.nativeio.netlink.RtNetlink;
import dev.ferry.nativeio.netlink.Rtnl;
import dev.ferry.nativeio.netlink.Rule;
import dev.ferry.nativeio.netlink.Sysctl;
import dev.ferry.nativeio.netns.NetworkNamespace;
import dev.ferry.nativeio.packet.PacketSocket;
import dev.ferry.nativeio.packet.PacketSocketConfig;
import dev.ferry.nativeio.probe.NativeAccessProbe;
import dev.ferry.nativeio.tun.TunDevice;
import java.io.InputStream;
import java.io.OutputStream;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;

/**
 * Packets per second through the native ports, on this machine, inside namespaces it creates
 * and removes (prefix {@code ferrybench-}):
 * <ul>
 *   <li>TUN read+write: a 64-byte IPv4/UDP packet written to the TUN is forwarded by the kernel
 *       straight back out of it and read; one write and one read syscall per packet.</li>
 *   <li>AF_PACKET RX+TX rings over a veth pair: a generator socket sends 64-byte frames through
 *       its TX ring; a reflector socket on the peer receives them through its RX ring and sends
 *       them back through its TX ring (one sendto per batch); the generator counts what returns.</li>
 *   <li>TCP through a reflector (client → node → ferry0 → reflector → node → server), to choose
 *       between PACKET_VNET_HDR with default offloads and offloads turned off on ferry0.</li>
 * </ul>
 * A benchmark, not a test: run as root with
 * {@code java @control/src/main/dist/jvm.options -cp perf/target/ferry-bench.jar dev.ferry.perf.nativeio.NativeIoBenchmark [seconds]}.
 */
public final class NativeIoBenchmark {
    private static final String PREFIX = "ferrybench-" + ProcessHandle.current().pid() + "-";
    private static int counter;
    private static final List<String> CREATED = new ArrayList<>();

    private NativeIoBenchmark() {
    }

    public static void main(String[] args) throws Exception {
        NativeAccessProbe.check(NativeAccessProbe.Need.TUN, NativeAccessProbe.Need.PACKET,
                NativeAccessProbe.Need.NETLINK).require();
        int seconds = args.length > 0 ? Integer.parseInt(args[0]) : 5;
        try {
            System.out.printf("TUN read+write (64 B):          %,12.0f packets/s%n", tunLoop(seconds));
            System.out.printf("AF_PACKET RX+TX rings (64 B):   %,12.0f packets/s reflected (vnet header on)%n",
                    packetReflector(seconds, true));
            System.out.printf("AF_PACKET RX+TX rings (64 B):   %,12.0f packets/s reflected (vnet header off)%n",
                    packetReflector(seconds, false));
            int mib = 512;
            System.out.printf("TCP via TUN reflector:                       %s%n", tcp(mib, Mode.TUN));
            System.out.printf("TCP via packet reflector, vnet hdr, offloads default: %s%n", tcp(mib, Mode.VNET));
            System.out.printf("TCP via packet reflector, no vnet, offloads off:      %s%n", tcp(mib, Mode.OFFLOADS_OFF));
            System.out.printf("TCP via packet reflector, no vnet, offloads default:  %s%n", tcp(mib, Mode.NAIVE));
        } finally {
            for (String ns : CREATED) {
                ipQuietly("netns", "del", ns);
            }
        }
    }

    // ---- TUN ----

    static double tunLoop(int seconds) throws Exception {
        String ns = netns();
        try (TunDevice tun = NetworkNamespace.call(ns, () -> TunDevice.open("ferry0"));
             RtNetlink nl = NetworkNamespace.call(ns, RtNetlink::open);
             Arena arena = Arena.ofConfined()) {
            NetworkNamespace.run(ns, () -> {
                Sysctl.write("net.ipv4.ip_forward", "1");
                Sysctl.write("net.ipv4.conf.all.rp_filter", "0");
                Sysctl.write("net.ipv4.conf.ferry0.rp_filter", "0");
                Sysctl.write("net.ipv4.conf.all.send_redirects", "0");
                Sysctl.write("net.ipv4.conf.ferry0.send_redirects", "0");
                Sysctl.write("net.ipv6.conf.all.disable_ipv6", "1");
            });
            nl.setUp("ferry0", true);
            nl.addAddress("ferry0", InetAddress.getByName("10.240.0.1"), 24);
            nl.addRoute(Route.to(InetAddress.getByName("10.241.0.0"), 24).dev(nl.ifindex("ferry0")));
            byte[] packet = udp("10.242.0.5", "10.241.0.9", 64);
            MemorySegment out = arena.allocate(packet.length);
            MemorySegment.copy(packet, 0, out, ValueLayout.JAVA_BYTE, 0, packet.length);
            MemorySegment in = arena.allocate(2048);
            long reads = 0;
            long warmEnd = System.nanoTime() + TimeUnit.SECONDS.toNanos(1);
            long start = 0;
            long end = warmEnd + TimeUnit.SECONDS.toNanos(seconds);
            int inFlight = 0;
            while (true) {
                long now = System.nanoTime();
                if (start == 0 && now >= warmEnd) {
                    start = now;
                    reads = 0;
                }
                if (now >= end) {
                    return reads / ((now - start) / 1e9);
                }
                while (inFlight < 64) {
                    if (tun.write(out, 0, packet.length) != packet.length) {
                        break;
                    }
                    inFlight++;
                }
                int n;
                int idle = 0;
                while ((n = tun.read(in, 0, 2048)) > 0 || (n == -11 && inFlight > 32 && ++idle < 1000)) {
                    if (n > 0) {
                        reads++;
                        inFlight--;
                    }
                }
                if (n < 0 && inFlight > 32) {
                    inFlight = 0; // lost packets: refill the window
                }
            }
        }
    }

    // ---- AF_PACKET ----

    static double packetReflector(int seconds, boolean vnet) throws Exception {
        String a = netns();
        String b = netns();
        for (String ns : new String[] {a, b}) {
            NetworkNamespace.run(ns, () -> Sysctl.write("net.ipv6.conf.all.disable_ipv6", "1"));
        }
        String macA;
        String macB;
        try (RtNetlink nlA = NetworkNamespace.call(a, RtNetlink::open);
             RtNetlink nlB = NetworkNamespace.call(b, RtNetlink::open)) {
            nlA.createVeth("pa", "pb", NetworkNamespace.named(b));
            nlA.setUp("pa", true);
            nlB.setUp("pb", true);
            macA = nlA.link("pa").mac();
            macB = nlB.link("pb").mac();
        }
        PacketSocketConfig cfgA = new PacketSocketConfig().interfaceName("pa").vnetHeader(vnet);
        PacketSocketConfig cfgB = new PacketSocketConfig().interfaceName("pb").vnetHeader(vnet);
        try (PacketSocket gen = NetworkNamespace.call(a, () -> PacketSocket.open(cfgA));
             PacketSocket refl = NetworkNamespace.call(b, () -> PacketSocket.open(cfgB));
             Arena arena = Arena.ofConfined()) {
            AtomicBoolean stop = new AtomicBoolean();
            Thread reflector = Thread.ofPlatform().name("reflector").start(() -> {
                int hdr = vnet ? 10 : 0;
                while (!stop.get()) {
                    int n = refl.receiveBatch((mem, off, len, st) -> {
                        long eth = off + hdr;
                        long dst = mem.get(ValueLayout.JAVA_INT_UNALIGNED, eth);
                        short dst2 = mem.get(ValueLayout.JAVA_SHORT_UNALIGNED, eth + 4);
                        MemorySegment.copy(mem, eth + 6, mem, eth, 6);
                        mem.set(ValueLayout.JAVA_INT_UNALIGNED, eth + 6, (int) dst);
                        mem.set(ValueLayout.JAVA_SHORT_UNALIGNED, eth + 10, dst2);
                        if (!refl.queueTx(mem, off, len)) {
                            refl.flushTx(); // ring full: hand the batch over, which frees its slots
                            refl.queueTx(mem, off, len);
                        }
                    }, 256);
                    if (n > 0) {
                        refl.flushTx();
                    }
                }
            });
            byte[] ip = udp("10.243.0.1", "10.243.0.2", 64 - 14);
            ByteBuffer f = ByteBuffer.allocate((vnet ? 10 : 0) + 14 + ip.length);
            if (vnet) {
                f.put(new byte[10]);
            }
            f.put(mac(macB)).put(mac(macA)).putShort((short) 0x0800).put(ip);
            byte[] frame = f.array();
            MemorySegment out = arena.allocate(frame.length);
            MemorySegment.copy(frame, 0, out, ValueLayout.JAVA_BYTE, 0, frame.length);
            long[] received = {0};
            long warmEnd = System.nanoTime() + TimeUnit.SECONDS.toNanos(1);
            long start = 0;
            long end = warmEnd + TimeUnit.SECONDS.toNanos(seconds);
            long inFlight = 0;
            int window = Math.min(gen.txFrameCount(), refl.txFrameCount()) / 2;
            long lastProgress = System.nanoTime();
            try {
                while (true) {
                    long now = System.nanoTime();
                    if (start == 0 && now >= warmEnd) {
                        start = now;
                        received[0] = 0;
                    }
                    if (now >= end) {
                        return received[0] / ((now - start) / 1e9);
                    }
                    int queued = 0;
                    while (inFlight < window && gen.queueTx(out, 0, frame.length)) {
                        inFlight++;
                        queued++;
                    }
                    if (queued > 0) {
                        gen.flushTx();
                    }
                    long before = received[0];
                    gen.receiveBatch((mem, off, len, st) -> received[0]++, 512);
                    long got = received[0] - before;
                    inFlight -= got;
                    if (got > 0) {
                        lastProgress = now;
                    } else if (now - lastProgress > 2_000_000) {
                        inFlight = 0; // frames lost somewhere: refill the window
                        lastProgress = now;
                    }
                }
            } finally {
                stop.set(true);
                reflector.join();
            }
        }
    }

    // ---- TCP through a reflector ----

    enum Mode { TUN, VNET, OFFLOADS_OFF, NAIVE }

    static String tcp(int mib, Mode mode) throws Exception {
        String client = netns();
        String node = netns();
        String server = netns();
        String port = netns();
        try (RtNetlink nl = NetworkNamespace.call(node, RtNetlink::open)) {
            wire(nl, client, "nc", "vc", "10.250.1");
            wire(nl, server, "ns", "vs", "10.250.2");
            NetworkNamespace.run(node, () -> {
                Sysctl.write("net.ipv4.ip_forward", "1");
                Sysctl.write("net.ipv4.conf.all.rp_filter", "0");
                Sysctl.write("net.ipv4.conf.default.rp_filter", "0");
                Sysctl.write("net.ipv6.conf.all.disable_ipv6", "1");
            });
            nl.addRule(Rule.lookup(Rtnl.RT_TABLE_MAIN).priority(10).iif("ferry0"));
            nl.addRule(Rule.lookup(200).priority(20).iif("nc"));
            nl.addRule(Rule.lookup(200).priority(21).iif("ns"));
            AtomicBoolean stop = new AtomicBoolean();
            Thread reflector;
            AutoCloseable device;
            if (mode == Mode.TUN) {
                TunDevice tun = NetworkNamespace.call(node, () -> TunDevice.open("ferry0"));
                device = tun;
                nl.setUp("ferry0", true);
                nl.addRoute(Route.defaultRoute(false).dev(nl.ifindex("ferry0")).table(200));
                reflector = Thread.ofPlatform().start(() -> {
                    try (Arena arena = Arena.ofConfined()) {
                        MemorySegment buf = arena.allocate(65536);
                        while (!stop.get()) {
                            int n = tun.read(buf, 0, 65536);
                            if (n > 0) {
                                tun.write(buf, 0, n);
                            } else {
                                tun.awaitReadable(10);
                            }
                        }
                    }
                });
            } else {
                nl.createVeth("ferry0", "ferry0p", NetworkNamespace.named(port));
                String portMac;
                try (RtNetlink pnl = NetworkNamespace.call(port, RtNetlink::open)) {
                    NetworkNamespace.run(port, () -> Sysctl.write("net.ipv6.conf.all.disable_ipv6", "1"));
                    pnl.setUp("ferry0p", true);
                    portMac = pnl.link("ferry0p").mac();
                }
                nl.setUp("ferry0", true);
                int dev = nl.ifindex("ferry0");
                nl.addNeighbour(Neighbour.permanent(dev, InetAddress.getByName("169.254.77.1"), portMac));
                nl.addRoute(Route.defaultRoute(false).via(InetAddress.getByName("169.254.77.1")).dev(dev).withOnlink().table(200));
                if (mode == Mode.OFFLOADS_OFF) {
                    NetworkNamespace.run(node, () -> Ethtool.offloadsOff("ferry0"));
                }
                boolean vnet = mode == Mode.VNET;
                PacketSocket ps = NetworkNamespace.call(port,
                        () -> PacketSocket.open(new PacketSocketConfig().interfaceName("ferry0p").vnetHeader(vnet)));
                device = ps;
                reflector = Thread.ofPlatform().start(() -> {
                    int hdr = vnet ? 10 : 0;
                    while (!stop.get()) {
                        int n = ps.receiveBatch((mem, off, len, st) -> {
                            long eth = off + hdr;
                            for (int i = 0; i < 6; i++) {
                                byte d = mem.get(ValueLayout.JAVA_BYTE, eth + i);
                                mem.set(ValueLayout.JAVA_BYTE, eth + i, mem.get(ValueLayout.JAVA_BYTE, eth + 6 + i));
                                mem.set(ValueLayout.JAVA_BYTE, eth + 6 + i, d);
                            }
                            ps.queueTx(mem, off, len);
                        }, 64);
                        if (n > 0) {
                            ps.flushTx();
                        } else {
                            ps.awaitReadable(10);
                        }
                    }
                });
            }
            try {
                return transfer(client, server, mib);
            } finally {
                stop.set(true);
                reflector.join();
                device.close();
            }
        }
    }

    private static String transfer(String client, String server, int mib) throws Exception {
        ServerSocket ss = NetworkNamespace.call(server, () -> {
            ServerSocket s = new ServerSocket();
            s.bind(new InetSocketAddress("10.250.2.2", 5001));
            return s;
        });
        Thread sender = Thread.ofPlatform().start(() -> {
            try (ss; Socket s = ss.accept(); OutputStream out = s.getOutputStream()) {
                byte[] chunk = new byte[1 << 20];
                for (int i = 0; i < mib; i++) {
                    out.write(chunk);
                }
            } catch (Exception ignored) {
                // the receiver reports
            }
        });
        try {
            return NetworkNamespace.call(client, () -> {
                try (Socket s = new Socket()) {
                    s.connect(new InetSocketAddress("10.250.2.2", 5001), 5000);
                    s.setSoTimeout(5000);
                    InputStream in = s.getInputStream();
                    byte[] buf = new byte[1 << 20];
                    long total = 0;
                    long t0 = System.nanoTime();
                    int n;
                    while ((n = in.read(buf)) > 0) {
                        total += n;
                    }
                    double secs = (System.nanoTime() - t0) / 1e9;
                    return String.format("%,.0f Mbit/s (%d MiB in %.2f s)", total * 8 / secs / 1e6, total >> 20, secs);
                } catch (java.net.SocketTimeoutException e) {
                    return "FAILED: the connection stalled (no data for 5 s)";
                }
            });
        } finally {
            ss.close();
            sender.join(10_000);
        }
    }

    private static void wire(RtNetlink nl, String far, String nodeSide, String farSide, String net) throws Exception {
        try (RtNetlink farNl = NetworkNamespace.call(far, RtNetlink::open)) {
            NetworkNamespace.run(far, () -> Sysctl.write("net.ipv6.conf.all.disable_ipv6", "1"));
            nl.createVeth(nodeSide, farSide, NetworkNamespace.named(far));
            nl.addAddress(nodeSide, InetAddress.getByName(net + ".1"), 24);
            nl.setUp(nodeSide, true);
            farNl.addAddress(farSide, InetAddress.getByName(net + ".2"), 24);
            farNl.setUp(farSide, true);
            farNl.addRoute(Route.defaultRoute(false).via(InetAddress.getByName(net + ".1")).dev(farNl.ifindex(farSide)));
        }
    }

    // ---- helpers ----

    /** Legacy SIOCETHTOOL set-feature ioctls (linux/ethtool.h), only for the offloads-off comparison. */
    static final class Ethtool {
        static final long SIOCETHTOOL = 0x8946;
        static final int ETHTOOL_STXCSUM = 0x17;
        static final int ETHTOOL_SSG = 0x19;
        static final int ETHTOOL_STSO = 0x1f;
        static final int ETHTOOL_SGSO = 0x24;

        static void offloadsOff(String ifname) {
            int fd = LibC.check("socket(AF_INET)", LibC.socket(LibC.AF_INET, LibC.SOCK_DGRAM | LibC.SOCK_CLOEXEC, 0));
            try (Arena arena = Arena.ofConfined()) {
                for (int cmd : new int[] {ETHTOOL_STSO, ETHTOOL_SGSO, ETHTOOL_STXCSUM, ETHTOOL_SSG}) {
                    MemorySegment value = arena.allocate(8);
                    value.set(ValueLayout.JAVA_INT, 0, cmd);
                    value.set(ValueLayout.JAVA_INT, 4, 0);
                    MemorySegment ifr = IfReq.allocate(arena, ifname);
                    ifr.set(ValueLayout.ADDRESS, IfReq.DATA, value);
                    LibC.check("ioctl(SIOCETHTOOL 0x" + Integer.toHexString(cmd) + " " + ifname + ")",
                            LibC.ioctl(fd, SIOCETHTOOL, ifr));
                }
            } finally {
                LibC.close(fd);
            }
        }
    }

    private static String netns() throws Exception {
        String name = PREFIX + (++counter);
        ip("netns", "add", name);
        CREATED.add(name);
        ip("-n", name, "link", "set", "lo", "up");
        return name;
    }

    private static void ip(String... args) throws Exception {
        List<String> cmd = new ArrayList<>(List.of("ip"));
        cmd.addAll(List.of(args));
        Process p = new ProcessBuilder(cmd).inheritIO().start();
        if (p.waitFor() != 0) {
            throw new IllegalStateException(String.join(" ", cmd) + " failed");
        }
    }

    private static void ipQuietly(String... args) {
        try {
            ip(args);
        } catch (Exception ignored) {
            // cleanup
        }
    }

    private static byte[] mac(String s) {
        String[] p = s.split(":");
        byte[] out = new byte[6];
        for (int i = 0; i < 6; i++) {
            out[i] = (byte) Integer.parseInt(p[i], 16);
        }
        return out;
    }

    /** A {@code total}-byte IPv4/UDP packet (checksum 0: none, valid for IPv4). */
    private static byte[] udp(String src, String dst, int total) throws Exception {
        ByteBuffer b = ByteBuffer.allocate(total);
        b.put((byte) 0x45).put((byte) 0).putShort((short) total).putShort((short) 1).putShort((short) 0x4000)
                .put((byte) 64).put((byte) 17).putShort((short) 0)
                .put(InetAddress.getByName(src).getAddress()).put(InetAddress.getByName(dst).getAddress());
        int sum = 0;
        for (int i = 0; i < 20; i += 2) {
            sum += ((b.get(i) & 0xff) << 8) | (b.get(i + 1) & 0xff);
        }
        while ((sum >> 16) != 0) {
            sum = (sum & 0xffff) + (sum >> 16);
        }
        b.putShort(10, (short) ~sum);
        b.putShort((short) 5000).putShort((short) 6000).putShort((short) (total - 20)).putShort((short) 0);
        return b.array();
    }
}
