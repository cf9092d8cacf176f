package dev.ferry.nativeio;

/**
 * IP protocol numbers (IANA's, the kernel's {@code IPPROTO_*}): the one definition that the
 * packet parser, conntrack, the Service model and the policy rules all use.
 */
public final class IpProtocol {
    public static final int ICMP = 1;
    public static final int TCP = 6;
    public static final int UDP = 17;
    public static final int ICMPV6 = 58;
    public static final int SCTP = 132;

    // IPv6 extension headers: next-header values from the same registry (RFC 8200 section 4)
    public static final int IPV6_HOP_BY_HOP = 0;
    public static final int IPV6_ROUTING = 43;
    public static final int IPV6_FRAGMENT = 44;
    public static final int AH = 51;
    public static final int IPV6_NO_NEXT_HEADER = 59;
    public static final int IPV6_DESTINATION_OPTIONS = 60;

    private IpProtocol() {
    }

    /** True for the protocols whose first 4 L4 bytes are source and destination port. */
    public static boolean hasPorts(final int protocol) {
        return protocol == TCP || protocol == UDP || protocol == SCTP;
    }

    /**
     * True for the IPv6 next-header values that netfilter's {@code ipv6_skip_exthdr} walks past
     * to reach the upper-layer header: hop-by-hop, routing, fragment, AH, destination options
     * (and no-next-header, which ends the walk with no upper layer). ESP is an upper layer here.
     */
    public static boolean isIpv6ExtensionHeader(final int nextHeader) {
        return nextHeader == IPV6_HOP_BY_HOP || nextHeader == IPV6_ROUTING || nextHeader == IPV6_FRAGMENT
            || nextHeader == AH || nextHeader == IPV6_NO_NEXT_HEADER || nextHeader == IPV6_DESTINATION_OPTIONS;
    }

    /** "TCP", "UDP", "ICMP", "ICMPv6", "SCTP", or "proto-N" for another number. */
    public static String name(final int protocol) {
        return switch (protocol) {
            case ICMP -> "ICMP";
            case TCP -> "TCP";
            case UDP -> "UDP";
            case ICMPV6 -> "ICMPv6";
            case SCTP -> "SCTP";
            default -> "proto-" + protocol;
        };
    }
}
