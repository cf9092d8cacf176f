package dev.ferry.dataplane.packet;

/** IP protocol numbers the dataplane looks at. */
public final class IpProtocol {
    public static final int ICMP = 1;
    public static final int TCP = 6;
    public static final int UDP = 17;
    public static final int SCTP = 132;

    private IpProtocol() {
    }

    /** True for the protocols whose first 4 L4 bytes are source and destination port. */
    public static boolean hasPorts(final int protocol) {
        return protocol == TCP || protocol == UDP || protocol == SCTP;
    }

    public static String name(final int protocol) {
        return switch (protocol) {
            case ICMP -> "ICMP";
            case TCP -> "TCP";
            case UDP -> "UDP";
            case SCTP -> "SCTP";
            default -> "proto-" + protocol;
        };
    }
}
