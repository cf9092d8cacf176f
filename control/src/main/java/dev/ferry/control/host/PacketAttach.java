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

/**
 * Creates ferry0 and the {@link PacketPort} over it, for either port type:
 * <ul>
 *   <li>{@code tun}: a persistent TUN device named ferry0 (TUNSETPERSIST); one read or write per
 *       packet. It outlives the agent: while no agent reads it the kernel drops what is routed
 *       into it, and the next agent attaches to it again.</li>
 *   <li>{@code packet}: a veth pair ferry0/ferry0p. ferry0p lives in a private, unnamed network
 *       namespace with no addresses and IPv6 off, so the kernel there drops what arrives while
 *       the AF_PACKET socket opened inside it sees every frame. The namespace is held only by
 *       this process (a descriptor and the socket): if the agent dies, the namespace, ferry0p
 *       and with it ferry0 go away by themselves. The node reaches ferry0p through the
 *       on-link next hop {@link #GATEWAY}, pinned to ferry0p's MAC.</li>
 * </ul>
 */
public final class PacketAttach {
    /** The on-link next hop for routes into the packet port (link-local, never on the wire beyond ferry0). */
    public static final int GATEWAY = Ipv4.parse("169.254.77.1");
    public static final String PEER = "ferry0p";

    private PacketAttach() {
    }

    /** ferry0 as created: the port, and for the packet type the peer's MAC (null for TUN). */
    public record Link(PacketPort port, String peerMac) {
    }

    public static Link create(final PortType type, final RtNetlink netlink) {
        return switch (type) {
            case TUN -> new Link(new TunPort(openPersistentTun(netlink)), null);
            case PACKET -> createPacket(netlink);
        };
    }

    /** Attaches to the ferry0 a previous agent left, or creates it; anything else named ferry0 is replaced. */
    private static TunDevice openPersistentTun(final RtNetlink netlink) {
        TunDevice device;
        try {
            device = TunDevice.open(HostRouting.DEVICE);
        } catch (final NativeException e) {
            if (netlink.findLink(HostRouting.DEVICE).isEmpty()) {
                throw e;
            }
            netlink.deleteLink(HostRouting.DEVICE); // not a TUN of ours (other flags, or a veth)
            device = TunDevice.open(HostRouting.DEVICE);
        }
        try {
            device.persist(true);
        } catch (final NativeException e) {
            device.close();
            throw e;
        }
        return device;
    }

    private static Link createPacket(final RtNetlink netlink) {
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
                    final PacketSocket socket = PacketSocket.open(new PacketSocketConfig()
                        .interfaceName(PEER)
                        .vnetHeader(true)
                        .qdiscBypass(true)
                        .conclude());
                    return new PeerSide(mac, socket);
                }
            });
            // closing the port closes the last reference to the namespace: it, ferry0p and ferry0 go away
            return new Link(new PacketSocketPort(peer.socket(), () -> LibC.close(nsFd)), peer.mac());
        } catch (final RuntimeException e) {
            LibC.close(nsFd);
            throw e;
        }
    }

    private record PeerSide(String mac, PacketSocket socket) {
    }
}
