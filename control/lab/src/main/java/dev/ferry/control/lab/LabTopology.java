package dev.ferry.control.lab;

import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * The lab's cluster, derived from its node count alone, so that every command (up, down,
 * status, exec, the readiness controller, the tests) computes the same names and addresses
 * without reading anything but {@code nodes}.
 *
 * <pre>
 *   client 198.18.1.10 (+ .11-.30 as extra clients)        external server 198.18.2.10:8080
 *      |  198.18.1.0/24                                      (router's loopback)
 *   [router] br0 198.18.0.1/24 ── routes 10.244.K.0/24 via node K;
 *      |                           ECMP 10.96.0.0/12 and 198.18.100.0/24 over all nodes
 *      +──────────────────+─────────────────── 198.18.0.0/24
 *   [node-1] 198.18.0.11  [node-2] 198.18.0.12 ...   each runs its own ferry agent,
 *    masquerades to .111    masquerades to .112         masquerading to an address of its own
 *    pods 10.244.1.0/24    pods 10.244.2.0/24         pods: /32, default via 169.254.1.1
 *    web-1 .11 web-2 .12   web-3 .11
 *    local-1 .13
 * </pre>
 *
 * Every namespace starts with the lab's prefix ({@link #PREFIX} for {@code ferry lab}); {@code ferry
 * lab down} removes whatever has it.
 */
public record LabTopology(String prefix, int nodeCount) {
    /** The prefix of every namespace {@code ferry lab} creates; tests use their own. */
    public static final String PREFIX = "ferry-lab-";
    public static final int MIN_NODES = 2;
    public static final int MAX_NODES = 9;

    public static final String ROUTER_IP = "198.18.0.1";
    public static final String NODE_NETWORK = "198.18.0.0/24";
    public static final String CLIENT_GATEWAY = "198.18.1.1";
    public static final String CLIENT_IP = "198.18.1.10";
    /** Extra client addresses, for "many clients": 198.18.1.11 .. 198.18.1.30. */
    public static final int EXTRA_CLIENTS = 20;
    public static final String EXTERNAL_IP = "198.18.2.10";
    public static final String EXTERNAL_NAME = "external";
    public static final String CLUSTER_CIDR = "10.244.0.0/16";
    public static final String SERVICE_CIDR = "10.96.0.0/12";
    public static final String LB_POOL = "198.18.100.0/24";
    public static final int HTTP_PORT = 8080;
    public static final int UDP_PORT = 5353;
    /** Every agent answers DNS on its node's address, port 53; the pods' resolv.conf points there. */
    public static final int DNS_PORT = 53;
    public static final String CLUSTER_DOMAIN = "cluster.local";
    /** The Kubernetes namespace of the lab's pods and services. */
    public static final String POD_NAMESPACE = "default";

    /**
     * One node: a namespace with an uplink to the router's bridge, its pod range, its agent.
     * {@code masqueradeIp} is the address on the node network its agent masquerades to
     * (198.18.0.11X for node X): the node's own, used by nothing else, so every port is free.
     */
    public record Node(int index, String name, String netns, String ip, String podCidr, String routerPort, String masqueradeIp) {
    }

    /** One pod: a namespace wired to its node, running a {@link PodServer}. */
    public record Pod(String name, Node node, String ip, Map<String, String> labels, String netns, String hostIf) {
    }

    public LabTopology {
        if (!prefix.matches("[a-z][a-z0-9-]*-")) {
            throw new IllegalArgumentException("a lab prefix is lower-case letters, digits and dashes ending in a dash, not '" + prefix + "'");
        }
        if (nodeCount < MIN_NODES || nodeCount > MAX_NODES) {
            throw new IllegalArgumentException("the lab has " + MIN_NODES + " to " + MAX_NODES + " nodes, not " + nodeCount);
        }
    }

    /** Where {@code node}'s agent answers DNS (its own address: a pod reaches it through its default route). */
    public static String dnsAddress(final Node node) {
        return node.ip();
    }

    /** The default lab ({@link #PREFIX}) with {@code nodeCount} nodes. */
    public LabTopology(final int nodeCount) {
        this(PREFIX, nodeCount);
    }

    public String routerNetns() {
        return prefix + "router";
    }

    public String clientNetns() {
        return prefix + "client";
    }

    public List<Node> nodes() {
        final List<Node> nodes = new ArrayList<>();
        for (int k = 1; k <= nodeCount; k++) {
            nodes.add(new Node(k, "node-" + k, prefix + "node-" + k, "198.18.0." + (10 + k), "10.244." + k + ".0/24", "node-" + k,
                "198.18.0." + (110 + k)));
        }
        return nodes;
    }

    public Node node(final int index) {
        return nodes().get(index - 1);
    }

    /**
     * The pods: node-1 holds web-1 (also the only backend of the "solo" service), web-2 and
     * local-1 (the only backend of the externalTrafficPolicy Local service); every other node
     * K holds web-(K+1). So "web" has a local and a remote backend from either side, and with
     * two nodes exactly three backends.
     */
    public List<Pod> pods() {
        final List<Pod> pods = new ArrayList<>();
        final List<Node> nodes = nodes();
        final Node first = nodes.get(0);
        pods.add(pod("web-1", first, 11, labels("app", "web", "solo", "yes")));
        pods.add(pod("web-2", first, 12, labels("app", "web")));
        pods.add(pod("local-1", first, 13, labels("app", "local")));
        for (int k = 2; k <= nodeCount; k++) {
            pods.add(pod("web-" + (k + 1), nodes.get(k - 1), 11, labels("app", "web")));
        }
        return pods;
    }

    public Optional<Pod> pod(final String name) {
        return pods().stream().filter(p -> p.name().equals(name)).findFirst();
    }

    public Pod requirePod(final String name) {
        return pod(name).orElseThrow(() -> new IllegalArgumentException("the lab has no pod '" + name + "' (pods: "
            + String.join(", ", pods().stream().map(Pod::name).toList()) + ")"));
    }

    /** Pods labelled app=web: the backends of web, sticky, web-nodeport and web-lb. */
    public List<Pod> webPods() {
        return pods().stream().filter(p -> "web".equals(p.labels().get("app"))).toList();
    }

    /** Extra client addresses (198.18.1.11 ...), each a distinct "client". */
    public static List<String> extraClients() {
        final List<String> ips = new ArrayList<>();
        for (int i = 1; i <= EXTRA_CLIENTS; i++) {
            ips.add("198.18.1." + (10 + i));
        }
        return ips;
    }

    /**
     * Short names accepted by {@code ferry lab exec}: router, client, node-K and pod names;
     * full namespace names work too.
     */
    public Map<String, String> namespacesByShortName() {
        final Map<String, String> names = new LinkedHashMap<>();
        names.put("router", routerNetns());
        names.put("client", clientNetns());
        for (final Node node : nodes()) {
            names.put(node.name(), node.netns());
        }
        for (final Pod pod : pods()) {
            names.put(pod.name(), pod.netns());
        }
        return names;
    }

    /** Every namespace of the lab, router first. */
    public List<String> namespaces() {
        return List.copyOf(namespacesByShortName().values());
    }

    /** The namespace for a short or full name, or empty. */
    public Optional<String> resolveNamespace(final String name) {
        final Map<String, String> names = namespacesByShortName();
        if (names.containsKey(name)) {
            return Optional.of(names.get(name));
        }
        return names.containsValue(name) ? Optional.of(name) : Optional.empty();
    }

    private Pod pod(final String name, final Node node, final int host, final Map<String, String> labels) {
        final String ip = node.podCidr().substring(0, node.podCidr().lastIndexOf(".0/")) + "." + host;
        return new Pod(name, node, ip, labels, prefix + "pod-" + name, "veth-" + name);
    }

    private static Map<String, String> labels(final String... keyValues) {
        final Map<String, String> labels = new LinkedHashMap<>();
        for (int i = 0; i < keyValues.length; i += 2) {
            labels.put(keyValues[i], keyValues[i + 1]);
        }
        return Collections.unmodifiableMap(labels);
    }
}
