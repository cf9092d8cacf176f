package dev.ferry.dataplane.service;

/** Transport protocols a Service port can carry, with their IP protocol numbers. */
public enum Protocol {
    TCP(6),
    UDP(17),
    SCTP(132);

    public static final int ICMP_NUMBER = 1;

    private final int number;

    Protocol(final int number) {
        this.number = number;
    }

    /** The IPv4 header's protocol field for this protocol. */
    public int number() {
        return number;
    }

    /** The protocol for an IP protocol number, or null when it is not a Service protocol. */
    public static Protocol fromNumber(final int number) {
        return switch (number) {
            case 6 -> TCP;
            case 17 -> UDP;
            case 132 -> SCTP;
            default -> null;
        };
    }

    /** Parses "TCP", "udp", ...; throws naming the text. */
    public static Protocol parse(final String text) {
        for (final Protocol p : values()) {
            if (p.name().equalsIgnoreCase(text.trim())) {
                return p;
            }
        }
        throw new IllegalArgumentException("unknown protocol '" + text + "' (expected TCP, UDP or SCTP)");
    }
}
