package dev.ferry.nativeio.netlink;

/**
 * A network interface as rtnetlink reports it.
 *
 * @param kind the IFLA_INFO_KIND ({@code veth}, {@code tun}, ...), or null for devices without one
 * @param peerIndex IFLA_LINK: for a veth, the peer's index (in the peer's namespace), else 0 or own index
 */
public record Link(int index, String name, int flags, int mtu, String mac, String kind, int peerIndex) {
    public boolean up() {
        return (flags & Rtnl.IFF_UP) != 0;
    }
}
