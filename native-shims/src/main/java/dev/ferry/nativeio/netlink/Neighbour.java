package dev.ferry.nativeio.netlink;

import java.net.InetAddress;

/**
 * A neighbour (ARP/NDP) entry, e.g. the permanent entry for the packet port's next hop:
 * {@code 169.254.77.1 lladdr <ferry0p MAC> dev ferry0 nud permanent}.
 *
 * @param state NUD_* bits ({@link Rtnl#NUD_PERMANENT})
 */
public record Neighbour(int ifindex, InetAddress address, String lladdr, int state) {
    public static Neighbour permanent(int ifindex, InetAddress address, String lladdr) {
        return new Neighbour(ifindex, address, lladdr, Rtnl.NUD_PERMANENT);
    }

    @Override
    public String toString() {
        return address.getHostAddress() + " lladdr " + lladdr + " dev " + ifindex + " nud 0x" + Integer.toHexString(state);
    }
}
