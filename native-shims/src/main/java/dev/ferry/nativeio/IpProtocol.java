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

    private IpProtocol() {
    }

    /** True for the protocols whose first 4 L4 bytes are source and destination port. */
    public static boolean hasPorts(final int protocol) {
        return protocol == TCP || protocol == UDP || protocol == SCTP;
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
