package dev.ferry.control.config;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import picocli.CommandLine.Option;

import java.nio.file.Path;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Function;

/**
 * The node config as command-line flags, for a command to {@code @Mixin}: an optional
 * {@code --node-config FILE} and one flag per key of the file, which wins over the file's
 * value. {@link #resolve()} merges the two and validates the result with the same checks and
 * messages as a file alone, naming the flag instead of the file for values that came from flags:
 * <pre>
 * --service-cidr: serviceCIDRs[0]: '10.96.0.0' is not a CIDR (write it as address/prefix, such as 10.96.0.0/12)
 * </pre>
 * List flags repeat or take commas ({@code --node-ip 198.18.0.11 --node-ip 198.18.0.12},
 * {@code --cluster-cidr 10.244.0.0/16,10.245.0.0/16}); an empty value ({@code --node-port-address=})
 * sets the list to empty.
 */
public final class NodeConfigOptions {
    /** The flag of each node config key, for messages. */
    static final Map<String, String> FLAGS = Map.ofEntries(
        Map.entry("nodeName", "--node-name"),
        Map.entry("nodeIPs", "--node-ip"),
        Map.entry("clusterCIDRs", "--cluster-cidr"),
        Map.entry("podCIDR", "--pod-cidr"),
        Map.entry("serviceCIDRs", "--service-cidr"),
        Map.entry("nodePortRange", "--node-port-range"),
        Map.entry("nodePortAddresses", "--node-port-address"),
        Map.entry("masqueradeAll", "--masquerade-all"),
        Map.entry("portType", "--port-type"),
        Map.entry("masqueradeAddress", "--masquerade-address"),
        Map.entry("zone", "--zone"));

    @Option(names = "--node-config", paramLabel = "FILE",
        description = "Node config YAML file (nodeName, nodeIPs, ...); the flags below override its keys.")
    Path nodeConfigFile;

    @Option(names = "--node-name", paramLabel = "NAME", description = "This node's name (nodeName): endpoints on it are local.")
    String nodeName;

    @Option(names = "--node-ip", paramLabel = "IP", split = ",", description = "An address of this node (nodeIPs); repeatable.")
    List<String> nodeIps;

    @Option(names = "--cluster-cidr", paramLabel = "CIDR", split = ",",
        description = "A pod range of the cluster (clusterCIDRs); repeatable.")
    List<String> clusterCidrs;

    @Option(names = "--pod-cidr", paramLabel = "CIDR", description = "This node's pod range (podCIDR).")
    String podCidr;

    @Option(names = "--service-cidr", paramLabel = "CIDR", split = ",",
        description = "A range ClusterIPs come from (serviceCIDRs); repeatable.")
    List<String> serviceCidrs;

    @Option(names = "--node-port-range", paramLabel = "MIN-MAX",
        description = "NodePort range (nodePortRange), default " + NodeConfig.DEFAULT_NODE_PORT_RANGE + ".")
    String nodePortRange;

    @Option(names = "--node-port-address", paramLabel = "CIDR", split = ",",
        description = "Node addresses in this range accept NodePorts (nodePortAddresses); repeatable. Default: all node IPs.")
    List<String> nodePortAddresses;

    @Option(names = "--masquerade-all", paramLabel = "BOOL", arity = "0..1", fallbackValue = "true",
        description = "Masquerade every service connection (masqueradeAll); --masquerade-all=false overrides the file.")
    Boolean masqueradeAll;

    @Option(names = "--port-type", paramLabel = "tun|packet", description = "How packets reach the dataplane (portType), default tun.")
    String portType;

    @Option(names = "--masquerade-address", paramLabel = "IP", description = {
        "An address routed to this node that nothing else uses (masqueradeAddress): masqueraded flows leave from it with "
            + "ports 1024-65535. Default: the first node IP with ports 61000-65534 (see docs/OPERATIONS.md, Sizing the SNAT space)."})
    String masqueradeAddress;

    @Option(names = "--zone", paramLabel = "ZONE", description = {
        "This node's topology zone (zone; its topology.kubernetes.io/zone label), for topology-aware routing hints. "
            + "In API mode the Node's label is used."})
    String zone;

    /** The --node-config file, or null. */
    public Path nodeConfigFile() {
        return nodeConfigFile;
    }

    /** The node config from --node-config (if given) with the flags over it; throws listing every problem. */
    public NodeConfig resolve() throws NodeConfigException {
        return merge(nodeConfigFile);
    }

    /**
     * Like {@link #resolve()}, but keys that neither the file nor a flag set come from {@code fill}
     * when it has them: the Kubernetes API source fills nodeName, nodeIPs and podCIDR from this
     * node's Node object, as kube-proxy does. {@code fill} sees a copy of the merged document (to
     * read nodeName, say) and returns values by key; problems with them name {@code fillOrigin}.
     */
    public NodeConfig resolve(final String fillOrigin, final Function<JsonNode, Map<String, JsonNode>> fill)
        throws NodeConfigException {
        return merge(nodeConfigFile, fillOrigin, fill);
    }

    /**
     * The node config from {@code file} (or from flags alone when null) with the flags over it,
     * validated; throws listing every problem, each naming the file or the flag, and the field.
     */
    public NodeConfig merge(final Path file) throws NodeConfigException {
        return merge(file, null, null);
    }

    private NodeConfig merge(final Path file, final String fillOrigin, final Function<JsonNode, Map<String, JsonNode>> fill)
        throws NodeConfigException {
        final ObjectNode document;
        if (file == null) {
            document = JsonNodeFactory.instance.objectNode();
        } else {
            final JsonNode read = NodeConfigLoader.readDocument(file);
            if (!read.isObject()) {
                // Let the loader say what is wrong with it.
                return NodeConfigLoader.parse(file.toString(), read);
            }
            document = ((ObjectNode) read).deepCopy();
        }
        final Map<String, String> fromFlags = new HashMap<>();
        text(document, fromFlags, "nodeName", nodeName);
        list(document, fromFlags, "nodeIPs", nodeIps);
        list(document, fromFlags, "clusterCIDRs", clusterCidrs);
        text(document, fromFlags, "podCIDR", podCidr);
        list(document, fromFlags, "serviceCIDRs", serviceCidrs);
        text(document, fromFlags, "nodePortRange", nodePortRange);
        list(document, fromFlags, "nodePortAddresses", nodePortAddresses);
        if (masqueradeAll != null) {
            document.put("masqueradeAll", masqueradeAll.booleanValue());
            fromFlags.put("masqueradeAll", FLAGS.get("masqueradeAll"));
        }
        text(document, fromFlags, "portType", portType);
        text(document, fromFlags, "masqueradeAddress", masqueradeAddress);
        text(document, fromFlags, "zone", zone);
        if (fill != null) {
            fill.apply(document.deepCopy()).forEach((key, value) -> {
                if (!document.has(key)) {
                    document.set(key, value);
                    fromFlags.put(key, fillOrigin);
                }
            });
        }

        final String fileName = file == null ? "the node config flags" : file.toString();
        return NodeConfigLoader.parse(fileName, document, key -> {
            final String flag = fromFlags.get(key);
            if (flag != null) {
                return flag;
            }
            return file != null ? file.toString() : FLAGS.getOrDefault(key, fileName);
        });
    }

    private static void text(final ObjectNode document, final Map<String, String> fromFlags, final String key, final String value) {
        if (value != null) {
            document.put(key, value);
            fromFlags.put(key, FLAGS.get(key));
        }
    }

    private static void list(final ObjectNode document, final Map<String, String> fromFlags, final String key,
                             final List<String> values) {
        if (values != null) {
            final ArrayNode array = document.putArray(key);
            values.stream().map(String::trim).filter(v -> !v.isEmpty()).forEach(array::add);
            fromFlags.put(key, FLAGS.get(key));
        }
    }
}
