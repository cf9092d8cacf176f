package dev.ferry.control.admin;

import dev.ferry.conntrack.FlowKey;
import dev.ferry.dataplane.addr.Ipv4;
import dev.ferry.nativeio.IpProtocol;

import java.net.URLEncoder;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;

/**
 * Which conntrack entries a {@code /conntrack} request (list or delete) means, like
 * {@code conntrack -L/-D}'s {@code -p}, {@code -s}, {@code -d}, {@code --dport}: every given
 * field must match; none given matches every entry. Addresses and the port are those of the
 * original direction (what the client sent: the service's address before DNAT). The service is
 * "namespace/name:port" for one service port or "namespace/name" for all its ports, resolved
 * from the entry's original destination in the current service snapshot.
 *
 * @param protocol IP protocol number, or null for any
 * @param src      original source IPv4 address, or null
 * @param dst      original destination IPv4 address, or null
 * @param dport    original destination port, or null
 * @param service  service or service port name, or null
 */
public record ConntrackFilter(Integer protocol, Integer src, Integer dst, Integer dport, String service) {
    /** Query parameter names, as {@code /conntrack?proto=tcp&dst=10.96.0.10&dport=53}. */
    public static final List<String> PARAMETERS = List.of("proto", "src", "dst", "dport", "service");
    private static final Set<String> KNOWN = Set.copyOf(PARAMETERS);

    /** Matches every entry. */
    public static final ConntrackFilter ALL = new ConntrackFilter(null, null, null, null, null);

    /**
     * Parses query parameters; throws {@link IllegalArgumentException} naming the parameter
     * and the value for an unknown parameter, a repeated one, or a value that does not parse.
     */
    public static ConntrackFilter parse(final Map<String, List<String>> query) {
        for (final Map.Entry<String, List<String>> parameter : query.entrySet()) {
            if (!KNOWN.contains(parameter.getKey())) {
                throw new IllegalArgumentException("unknown parameter '" + parameter.getKey() + "' (known: "
                    + String.join(", ", PARAMETERS) + ")");
            }
            if (parameter.getValue().size() != 1) {
                throw new IllegalArgumentException("parameter '" + parameter.getKey() + "' given "
                    + parameter.getValue().size() + " times; give it once");
            }
        }
        return new ConntrackFilter(
            value(query, "proto") == null ? null : protocolNumber(value(query, "proto")),
            value(query, "src") == null ? null : address("src", value(query, "src")),
            value(query, "dst") == null ? null : address("dst", value(query, "dst")),
            value(query, "dport") == null ? null : port(value(query, "dport")),
            value(query, "service") == null || value(query, "service").isBlank() ? null : value(query, "service").trim());
    }

    /** "tcp", "UDP", "sctp", "icmp" or a protocol number 0..255. */
    public static int protocolNumber(final String text) {
        final String t = text.trim().toLowerCase(Locale.ROOT);
        switch (t) {
            case "tcp":
                return IpProtocol.TCP;
            case "udp":
                return IpProtocol.UDP;
            case "sctp":
                return IpProtocol.SCTP;
            case "icmp":
                return IpProtocol.ICMP;
            default:
                break;
        }
        try {
            final int n = Integer.parseInt(t);
            if (n >= 0 && n <= 255) {
                return n;
            }
        } catch (final NumberFormatException e) {
            // fall through to the message below
        }
        throw new IllegalArgumentException("proto: '" + text + "' is not a protocol (tcp, udp, sctp, icmp or a number 0-255)");
    }

    private static int address(final String parameter, final String text) {
        try {
            return Ipv4.parse(text);
        } catch (final IllegalArgumentException e) {
            throw new IllegalArgumentException(parameter + ": '" + text + "' is not an IPv4 address");
        }
    }

    private static int port(final String text) {
        try {
            final int port = Integer.parseInt(text.trim());
            if (port >= 0 && port <= 65535) {
                return port;
            }
        } catch (final NumberFormatException e) {
            // fall through
        }
        throw new IllegalArgumentException("dport: '" + text + "' is not a port (0-65535)");
    }

    private static String value(final Map<String, List<String>> query, final String name) {
        final List<String> values = query.get(name);
        return values == null ? null : values.getFirst();
    }

    /** True when the entry's original tuple and resolved service (may be null) match every given field. */
    public boolean matches(final FlowKey original, final String resolvedService) {
        if (protocol != null && original.protocol() != protocol) {
            return false;
        }
        if (dport != null && original.dstPort() != dport) {
            return false;
        }
        if ((src != null || dst != null) && !original.isIpv4()) {
            return false;
        }
        if (src != null && original.srcIpv4() != src) {
            return false;
        }
        if (dst != null && original.dstIpv4() != dst) {
            return false;
        }
        if (service != null) {
            if (resolvedService == null) {
                return false;
            }
            // "ns/name" matches every port of the service: "ns/name:port" names start with "ns/name:".
            return resolvedService.equals(service) || (service.indexOf(':') < 0 && resolvedService.startsWith(service + ":"));
        }
        return true;
    }

    /** The query string for this filter ("proto=6&dst=10.96.0.10"), empty when it matches everything. */
    public String toQuery() {
        final List<String> parts = new ArrayList<>();
        if (protocol != null) {
            parts.add("proto=" + protocol);
        }
        if (src != null) {
            parts.add("src=" + Ipv4.format(src));
        }
        if (dst != null) {
            parts.add("dst=" + Ipv4.format(dst));
        }
        if (dport != null) {
            parts.add("dport=" + dport);
        }
        if (service != null) {
            parts.add("service=" + URLEncoder.encode(service, StandardCharsets.UTF_8));
        }
        return String.join("&", parts);
    }
}
