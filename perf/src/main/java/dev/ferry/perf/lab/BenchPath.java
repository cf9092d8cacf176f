package dev.ferry.perf.lab;

/**
 * Which way the lab benchmark's load reaches the bench service, and so which translation it
 * measures. Every path ends at the load servers on node-1; only node-1 runs a dataplane.
 * <pre>
 *   cluster-ip     pod local-1 (node-1)      → 10.96.100.10:PORT     DNAT, no masquerade (two backends)
 *   node-port      the lab client (external) → node-1's IP:NODEPORT  DNAT + masquerade (one backend, web-1)
 *   load-balancer  the lab client (external) → 198.18.100.10:PORT    DNAT + masquerade (one backend, web-1)
 *   hairpin        pod web-1                 → 10.96.100.10:PORT     DNAT + masquerade: web-1 reaches itself
 * </pre>
 * The three masqueraded paths (externalTrafficPolicy Cluster, and kube-proxy's hairpin rule)
 * are what the SNAT port space carries; with one backend every new connection needs a new
 * source port towards the same backend address and port, the hardest case for it.
 */
public enum BenchPath {
    CLUSTER_IP("cluster-ip", false, "pod local-1 → ClusterIP 10.96.100.10 → pods web-1 and web-2"),
    NODE_PORT("node-port", true, "the lab's external client → node-1's IP:NodePort → pod web-1, masqueraded"),
    LOAD_BALANCER("load-balancer", true, "the lab's external client → LoadBalancer IP 198.18.100.10 → pod web-1, masqueraded"),
    HAIRPIN("hairpin", true, "pod web-1 → ClusterIP 10.96.100.10 → pod web-1 itself, masqueraded");

    /** The LoadBalancer IP of the bench service (in the lab's pool), routed by the lab's router to node-1 for the bench. */
    public static final String LOAD_BALANCER_IP = "198.18.100.10";
    /** NodePort of a bench service port: this plus the service port (7000-7003 become 30700-30703). */
    public static final int NODE_PORT_BASE = 23700;

    private final String label;
    private final boolean masqueraded;
    private final String description;

    BenchPath(final String label, final boolean masqueraded, final String description) {
        this.label = label;
        this.masqueraded = masqueraded;
        this.description = description;
    }

    /** Who sends where, for the report. */
    public String describe() {
        return description;
    }

    /** The path a run's settings line names ("path node-port; ..."); runs from before paths existed were ClusterIP runs. */
    public static BenchPath fromSettings(final String settings) {
        final java.util.regex.Matcher m = java.util.regex.Pattern.compile("^path ([a-z-]+);").matcher(settings);
        return m.find() ? parse(m.group(1)) : CLUSTER_IP;
    }

    public String label() {
        return label;
    }

    /** Whether every connection on this path is masqueraded (and the bench service then has one backend). */
    public boolean masqueraded() {
        return masqueraded;
    }

    /** Whether the client is the lab's external client (else a pod on node-1). */
    public boolean external() {
        return this == NODE_PORT || this == LOAD_BALANCER;
    }

    public static int nodePort(final int servicePort) {
        return NODE_PORT_BASE + servicePort;
    }

    public static BenchPath parse(final String text) {
        for (final BenchPath p : values()) {
            if (p.label.equals(text) || p.name().equalsIgnoreCase(text.replace('-', '_'))) {
                return p;
            }
        }
        throw new IllegalArgumentException("no path '" + text + "' (cluster-ip, node-port, load-balancer, hairpin)");
    }
}
