package dev.ferry.perf.lab;

/** What serves the ClusterIP in a lab benchmark run; the order is the report's. */
public enum Dataplane {
    /** No service: the client talks to the pods' own addresses (the path's ceiling). */
    DIRECT("direct", null),
    NFTABLES("nftables", null),
    IPTABLES("iptables", null),
    FERRY_TUN("ferry tun", "tun"),
    FERRY_PACKET("ferry packet", "packet");

    private final String label;
    private final String portType;

    Dataplane(final String label, final String portType) {
        this.label = label;
        this.portType = portType;
    }

    public String label() {
        return label;
    }

    /** The agent's port type, or null for the kernel and direct runs. */
    public String portType() {
        return portType;
    }

    public boolean kernel() {
        return this == NFTABLES || this == IPTABLES;
    }

    public static Dataplane parse(final String text) {
        for (final Dataplane d : values()) {
            if (d.label.replace(' ', '-').equals(text) || d.name().equalsIgnoreCase(text.replace('-', '_')) || d.label.equals(text)) {
                return d;
            }
        }
        throw new IllegalArgumentException("no dataplane '" + text + "' (direct, nftables, iptables, ferry-tun, ferry-packet)");
    }
}
