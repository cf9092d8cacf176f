package dev.ferry.perf.lab;

/** What serves the ClusterIP in a lab benchmark run; the order is the report's. */
public enum Dataplane {
    /** No service: the client talks to the pods' own addresses (the path's ceiling). */
    DIRECT("direct", null),
    NFTABLES("nftables", null),
    IPTABLES("iptables", null),
    FERRY_TUN("ferry tun", "tun"),
    FERRY_PACKET("ferry packet", "packet"),
    /**
     * The agent with the tun port fed from a Kubernetes API server (fabric8's mock server, see
     * {@link BenchApi}) instead of manifests: its programming times only, since its packets take
     * the same path as {@link #FERRY_TUN}'s (no loads are run for it).
     */
    FERRY_TUN_API("ferry tun, api", "tun"),
    /** As {@link #FERRY_TUN_API}, with the packet port. */
    FERRY_PACKET_API("ferry packet, api", "packet"),
    /**
     * Pod to pod as in {@link #DIRECT}, with Ferry's agent running on the node (tun port) and
     * serving Services whose endpoints answer on other ports: what the agent costs traffic it
     * does not translate.
     */
    POD_TO_POD_FERRY_TUN("pod to pod, ferry tun running", "tun"),
    /** As {@link #POD_TO_POD_FERRY_TUN}, with the packet port. */
    POD_TO_POD_FERRY_PACKET("pod to pod, ferry packet running", "packet");

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

    /** Whether the agent reads its Services from the mock API server rather than manifest files. */
    public boolean api() {
        return this == FERRY_TUN_API || this == FERRY_PACKET_API;
    }

    /** Whether the load goes to the pods' own addresses, no Service involved (one run stands for every service count). */
    public boolean direct() {
        return this == DIRECT || this == POD_TO_POD_FERRY_TUN || this == POD_TO_POD_FERRY_PACKET;
    }

    /** Whether the label names a direct dataplane ({@link #direct()}). */
    public static boolean isDirect(final String label) {
        for (final Dataplane d : values()) {
            if (d.label.equals(label)) {
                return d.direct();
            }
        }
        return false;
    }

    public static Dataplane parse(final String text) {
        for (final Dataplane d : values()) {
            if (d.label.replace(' ', '-').equals(text) || d.name().equalsIgnoreCase(text.replace('-', '_')) || d.label.equals(text)) {
                return d;
            }
        }
        throw new IllegalArgumentException("no dataplane '" + text + "' (direct, nftables, iptables, ferry-tun, ferry-packet, "
            + "ferry-tun-api, ferry-packet-api, pod-to-pod-ferry-tun, pod-to-pod-ferry-packet)");
    }
}
