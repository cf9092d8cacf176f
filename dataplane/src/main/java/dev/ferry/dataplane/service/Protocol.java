package dev.ferry.dataplane.service;

import dev.ferry.nativeio.IpProtocol;

/** Transport protocols a Service port can carry, with their IP protocol numbers. */
public enum Protocol {
    TCP(IpProtocol.TCP),
    UDP(IpProtocol.UDP),
    SCTP(IpProtocol.SCTP);

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
            case IpProtocol.TCP -> TCP;
            case IpProtocol.UDP -> UDP;
            case IpProtocol.SCTP -> SCTP;
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
