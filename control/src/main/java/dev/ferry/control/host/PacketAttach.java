package dev.ferry.control.host;

import dev.ferry.control.config.PortType;
import dev.ferry.dataplane.addr.Ipv4;
import dev.ferry.dataplane.port.PacketPort;
import dev.ferry.dataplane.port.PacketSocketPort;
import dev.ferry.dataplane.port.TunPort;
import dev.ferry.nativeio.libc.LibC;
import dev.ferry.nativeio.libc.NativeException;
import dev.ferry.nativeio.netlink.RtNetlink;
import dev.ferry.nativeio.netlink.Sysctl;
import dev.ferry.nativeio.netns.NetworkNamespace;
import dev.ferry.nativeio.packet.PacketSocket;
import dev.ferry.nativeio.packet.PacketSocketConfig;
import dev.ferry.nativeio.tun.TunDevice;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * Creates ferry0 and a {@link PacketPort} per queue over it (one queue thread each), for either
 * port type:
 * <ul>
 *   <li>{@code tun}: a persistent TUN device named ferry0 (TUNSETPERSIST: it outlives the agent;
 *       while no agent reads it the kernel drops what is routed into it, and the next agent
 *       attaches to it again) with {@code IFF_VNET_HDR} and offloads on
 *       (checksum, TSO4/6, and USO4/6 where the kernel has them): one read or write per packet,
 *       a GSO super-packet of up to 64 KB counting as one. With several
 *       queues it is a multi-queue device ({@code IFF_MULTI_QUEUE}, one descriptor per queue):
 *       the kernel picks a queue by the packet's symmetric flow hash, and a flow's packets stay
 *       on the queue that last wrote one of its packets.</li>
 *   <li>{@code packet}: a veth pair ferry0/ferry0p. ferry0p lives in a private, unnamed network
 *       namespace with no addresses and IPv6 off, so the kernel there drops what arrives while
 *       the AF_PACKET socket opened inside it sees every frame. The namespace is held only by
 *       this process (a descriptor and the socket): if the agent dies, the namespace, ferry0p
 *       and with it ferry0 go away by themselves. The node reaches ferry0p through the
 *       on-link next hop {@link #GATEWAY}, pinned to ferry0p's MAC. With several queues each is
 *       an AF_PACKET socket of one {@code PACKET_FANOUT_HASH} group: the kernel hands a frame to
 *       the socket its (symmetric) flow hash picks, so both directions of a flow meet on one
 *       queue.</li>
 * </ul>
 */
public final class PacketAttach {
    /** The on-link next hop for routes into the packet port (link-local, never on the wire beyond ferry0). */
    public static final int GATEWAY = Ipv4.parse("169.254.77.1");
    public static final String PEER = "ferry0p";

    private PacketAttach() {
    }

    /** The fanout group of the packet port's sockets (their namespace is private: no other group to meet). */
    static final int FANOUT_GROUP = 1;

    /**
     * ferry0 as created: a port per queue, and for the packet type the peer's MAC (null for TUN).
     * Closing the ports (all of them) removes ferry0.
     */
    public record Link(List<PacketPort> ports, String peerMac) {
        public Link {
            ports = List.copyOf(ports);
        }

        /** "tun:ferry0 × 2 queues". */
        public String describe() {
            return ports.getFirst().name() + (ports.size() == 1 ? "" : " × " + ports.size() + " queues");
        }
    }

    /** Creates ferry0 with {@code queues} queues (1..64). */
    public static Link create(final PortType type, final RtNetlink netlink, final int queues) {
        if (queues < 1) {
            throw new IllegalArgumentException("queues must be at least 1, was " + queues);
        }
        return switch (type) {
            case TUN -> createTun(netlink, queues);
            case PACKET -> createPacket(netlink, queues);
        };
    }

    /**
     * Attaches to the ferry0 a previous agent left, or creates it; a ferry0 that cannot be opened
     * with these flags (another queue count, or a veth) is replaced.
     */
    private static Link createTun(final RtNetlink netlink, final int queues) {
        final List<PacketPort> ports = new ArrayList<>(queues);
        try {
            boolean uso = false;
            for (int q = 0; q < queues; q++) {
                final TunDevice queue = q == 0 ? openFirstQueue(netlink, queues) : TunDevice.open(HostRouting.DEVICE, queues > 1, true);
                if (q == 0) {
                    queue.persist(true);
                    // device-wide: TSO/USO super-packets and partial checksums, kept whole; a kernel
                    // that knows USO also takes the UDP super-packets the ports coalesce on write
                    uso = (queue.enableOffloads() & TunDevice.TUN_F_USO4) != 0;
                }
                ports.add(new TunPort(queue, uso));
            }
            return new Link(ports, null);
        } catch (final RuntimeException e) {
            ports.forEach(PacketPort::close);
            throw e;
        }
    }

    private static TunDevice openFirstQueue(final RtNetlink netlink, final int queues) {
        try {
            return TunDevice.open(HostRouting.DEVICE, queues > 1, true);
        } catch (final NativeException e) {
            if (netlink.findLink(HostRouting.DEVICE).isEmpty()) {
                throw e;
            }
            netlink.deleteLink(HostRouting.DEVICE);
            return TunDevice.open(HostRouting.DEVICE, queues > 1, true);
        }
    }

    private static Link createPacket(final RtNetlink netlink, final int queues) {
        if (netlink.findLink(HostRouting.DEVICE).isPresent()) {
            netlink.deleteLink(HostRouting.DEVICE); // a TUN left by a tun-port agent
        }
        final int nsFd = NetworkNamespace.createAnonymous();
        try {
            final Path ns = NetworkNamespace.fdPath(nsFd);
            netlink.createVeth(HostRouting.DEVICE, PEER, ns);
            final PeerSide peer = NetworkNamespace.call(ns, () -> {
                try (RtNetlink inside = RtNetlink.open()) {
                    if (java.nio.file.Files.isDirectory(java.nio.file.Path.of("/proc/sys/net/ipv6/conf"))) {
                        Sysctl.write("net.ipv6.conf.all.disable_ipv6", "1");
                    }
                    inside.setUp(PEER, true);
                    final String mac = inside.link(PEER).mac();
                    final List<PacketSocket> sockets = new ArrayList<>(queues);
                    try {
                        for (int q = 0; q < queues; q++) {
                            final PacketSocketConfig config = new PacketSocketConfig()
                                .interfaceName(PEER)
                                .vnetHeader(true)
                                .qdiscBypass(true);
                            if (queues > 1) {
                                config.fanout(FANOUT_GROUP, PacketSocketConfig.FanoutMode.HASH);
                            }
                            sockets.add(PacketSocket.open(config.conclude()));
                        }
                    } catch (final RuntimeException e) {
                        sockets.forEach(PacketSocket::close);
                        throw e;
                    }
                    return new PeerSide(mac, sockets);
                }
            });
            // closing the last port closes the last reference to the namespace: it, ferry0p and ferry0 go away
            final AtomicInteger open = new AtomicInteger(queues);
            final Runnable releaseNamespace = () -> {
                if (open.decrementAndGet() == 0) {
                    LibC.close(nsFd);
                }
            };
            final List<PacketPort> ports = new ArrayList<>(queues);
            final boolean udpL4 = kernelAtLeast(System.getProperty("os.version"), 6, 2);
            for (final PacketSocket socket : peer.sockets()) {
                ports.add(new PacketSocketPort(socket, releaseNamespace, udpL4 && socket.vnetHeader()));
            }
            return new Link(ports, peer.mac());
        } catch (final RuntimeException e) {
            LibC.close(nsFd);
            throw e;
        }
    }

    private record PeerSide(String mac, List<PacketSocket> sockets) {
    }

    /**
     * Whether a kernel release string ({@code os.version}, e.g. "6.18.44-fc") is at least
     * major.minor: the packet port coalesces UDP only where the kernel reads virtio's UDP_L4 GSO
     * type in a sent frame's header (Linux 6.2 and later; earlier ones refuse the frame).
     */
    static boolean kernelAtLeast(final String release, final int major, final int minor) {
        final java.util.regex.Matcher m = java.util.regex.Pattern.compile("^(\\d+)\\.(\\d+)").matcher(release == null ? "" : release);
        if (!m.find()) {
            return false;
        }
        final int haveMajor = Integer.parseInt(m.group(1));
        return haveMajor > major || (haveMajor == major && Integer.parseInt(m.group(2)) >= minor);
    }
}
