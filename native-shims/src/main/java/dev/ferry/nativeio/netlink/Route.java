package dev.ferry.nativeio.netlink;

import java.net.Inet4Address;
import java.net.InetAddress;

/**
 * A route, e.g. {@code 10.96.0.0/12 dev ferry0} or
 * {@code default via 169.254.77.1 dev ferry0 onlink table 200}. Build with
 * {@link #to(InetAddress, int)} or {@link #defaultRoute(boolean)} and {@link #via}, {@link #dev}, {@link #table(int)}, {@link #withOnlink()}.
 *
 * @param destination null for a default route
 * @param gateway null for a directly connected route
 * @param ifindex the output interface, 0 when none is given
 * @param table the table id ({@link Rtnl#RT_TABLE_MAIN} by default; ids above 255 are fine)
 * @param onlink RTNH_F_ONLINK: the gateway is reachable on the link even without a matching prefix
 * @param type RTN_* ({@link Rtnl#RTN_UNICAST} by default)
 * @param metric RTA_PRIORITY: among routes to the same prefix the lowest wins (0 by default)
 */
public record Route(boolean ipv6, InetAddress destination, int prefixLength, InetAddress gateway, int ifindex,
                    int table, boolean onlink, int type, int metric) {

    public static Route to(InetAddress destination, int prefixLength) {
        return new Route(!(destination instanceof Inet4Address), destination, prefixLength, null, 0,
                Rtnl.RT_TABLE_MAIN, false, Rtnl.RTN_UNICAST, 0);
    }

    public static Route defaultRoute(boolean ipv6) {
        return new Route(ipv6, null, 0, null, 0, Rtnl.RT_TABLE_MAIN, false, Rtnl.RTN_UNICAST, 0);
    }

    public Route via(InetAddress gw) {
        return new Route(ipv6, destination, prefixLength, gw, ifindex, table, onlink, type, metric);
    }

    public Route dev(int index) {
        return new Route(ipv6, destination, prefixLength, gateway, index, table, onlink, type, metric);
    }

    public Route table(int id) {
        return new Route(ipv6, destination, prefixLength, gateway, ifindex, id, onlink, type, metric);
    }

    public Route withOnlink() {
        return new Route(ipv6, destination, prefixLength, gateway, ifindex, table, true, type, metric);
    }

    public Route type(int rtnType) {
        return new Route(ipv6, destination, prefixLength, gateway, ifindex, table, onlink, rtnType, metric);
    }

    /** A route that loses to every other route to its prefix: a fallback. */
    public Route metric(int priority) {
        return new Route(ipv6, destination, prefixLength, gateway, ifindex, table, onlink, type, priority);
    }

    /** The scope the kernel expects: link for a gatewayless unicast route, host for local, else universe. */
    int scope() {
        if (type == Rtnl.RTN_LOCAL) {
            return Rtnl.RT_SCOPE_HOST;
        }
        return gateway == null && type == Rtnl.RTN_UNICAST && ifindex != 0 ? Rtnl.RT_SCOPE_LINK : Rtnl.RT_SCOPE_UNIVERSE;
    }

    /** Whether this route describes the same route as {@code other} (ignoring fields other leaves unset). */
    public boolean matches(Route other) {
        return ipv6 == other.ipv6 && prefixLength == other.prefixLength && table == other.table
                && java.util.Objects.equals(destination, other.destination)
                && java.util.Objects.equals(gateway, other.gateway)
                && (other.ifindex == 0 || ifindex == other.ifindex) && type == other.type && metric == other.metric;
    }

    @Override
    public String toString() {
        StringBuilder sb = new StringBuilder(destination == null ? "default" : destination.getHostAddress() + "/" + prefixLength);
        if (gateway != null) {
            sb.append(" via ").append(gateway.getHostAddress());
        }
        if (ifindex != 0) {
            sb.append(" dev ").append(ifindex);
        }
        if (onlink) {
            sb.append(" onlink");
        }
        if (table != Rtnl.RT_TABLE_MAIN) {
            sb.append(" table ").append(table);
        }
        if (type != Rtnl.RTN_UNICAST) {
            sb.append(" type ").append(type);
        }
        if (metric != 0) {
            sb.append(" metric ").append(Integer.toUnsignedString(metric));
        }
        return sb.toString();
    }
}
