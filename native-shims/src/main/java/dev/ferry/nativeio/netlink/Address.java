package dev.ferry.nativeio.netlink;

import java.net.InetAddress;

/** An interface address: {@code address/prefixLength} on interface {@code ifindex}. */
public record Address(int ifindex, InetAddress address, int prefixLength) {
    @Override
    public String toString() {
        return address.getHostAddress() + "/" + prefixLength + " dev " + ifindex;
    }
}
