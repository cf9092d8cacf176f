package dev.ferry.control.config;

import com.fasterxml.jackson.databind.JsonNode;
import dev.ferry.control.tree.DocumentException;
import dev.ferry.control.tree.DocumentReader;
import dev.ferry.control.tree.Field;
import dev.ferry.control.tree.FieldException;
import dev.ferry.dataplane.addr.Ipv4;
import dev.ferry.dataplane.addr.Ipv4Cidr;
import dev.ferry.dataplane.addr.Ipv6Cidr;
import dev.ferry.dataplane.service.NodeSpec;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Set;
import java.util.function.Function;

/**
 * Reads and validates a node config YAML file. Every field is checked and every problem is
 * reported at once; unknown keys are errors because a misspelt key would otherwise silently
 * fall back to its default. Beyond each field, the ranges must fit together: service CIDRs
 * overlap neither the cluster CIDRs nor the pod CIDR, and no node IP lies inside a service or
 * cluster CIDR. {@link NodeConfigOptions} runs the same checks on flags merged over a file.
 *
 * <p>A dual-stack node lists IPv6 addresses and ranges beside the IPv4 ones. Until the IPv6 data
 * path exists they are accepted and left out, with one log line, as a single-stack kube-proxy
 * ignores the other family; only a node with no IPv4 address at all is refused.
 */
public final class NodeConfigLoader {
    static final List<String> KEYS = List.of("nodeName", "nodeIPs", "clusterCIDRs", "podCIDR", "serviceCIDRs",
        "nodePortRange", "nodePortAddresses", "masqueradeAll", "portType", "masqueradeAddress", "zone");
    private static final Set<String> KNOWN = Set.copyOf(KEYS);

    private final String file;
    private final Function<String, String> origin;
    private final List<String> problems = new ArrayList<>();
    /** IPv6 entries seen and left out (path and text), for the one log line. */
    private final List<String> ignoredIpv6 = new ArrayList<>();
    private static final java.util.logging.Logger LOG = java.util.logging.Logger.getLogger(NodeConfigLoader.class.getName());

    /** @param origin what a problem with a top-level key is prefixed with: the file, or the flag that set the key */
    private NodeConfigLoader(final String file, final Function<String, String> origin) {
        this.file = file;
        this.origin = origin;
    }

    /** Loads {@code path}; throws listing every problem, each naming the file and the field. */
    public static NodeConfig load(final Path path) throws NodeConfigException {
        return parse(path.toString(), readDocument(path));
    }

    /** Validates an already parsed document; {@code file} names it in messages. */
    public static NodeConfig parse(final String file, final JsonNode document) throws NodeConfigException {
        return parse(file, document, key -> file);
    }

    /** Validates a document whose keys may come from different places; {@code origin} names the place of each top-level key. */
    static NodeConfig parse(final String file, final JsonNode document, final Function<String, String> origin)
        throws NodeConfigException {
        return new NodeConfigLoader(file, origin).parse(Field.root(document));
    }

    /** The one document of a node config file; throws naming the file (and line) when there is not exactly one. */
    static JsonNode readDocument(final Path path) throws NodeConfigException {
        final List<JsonNode> documents;
        try {
            documents = DocumentReader.readAll(path);
        } catch (final DocumentException e) {
            throw new NodeConfigException(List.of(e.getMessage()));
        }
        if (documents.size() != 1) {
            throw new NodeConfigException(List.of(path + ": expected one YAML document with the node config, found "
                + documents.size()));
        }
        return documents.get(0);
    }

    private NodeConfig parse(final Field root) throws NodeConfigException {
        if (!root.node().isObject()) {
            throw new NodeConfigException(List.of(file + ": the node config must be a mapping of keys to values, found "
                + root.describe()));
        }
        for (final String key : root.keys()) {
            if (!KNOWN.contains(key)) {
                problems.add(origin.apply(key) + ": " + key + ": unknown key (known keys: " + String.join(", ", KEYS) + ")");
            }
        }
        final String nodeName = check(root.get("nodeName"), f -> {
            final String name = f.text();
            if (name.isBlank()) {
                throw f.error("must not be empty");
            }
            return name;
        });
        final List<Integer> nodeIps = check(root.get("nodeIPs"), f -> {
            if (!f.isPresent() || f.list().isEmpty()) {
                throw f.error("at least one address of this node is required");
            }
            final List<Integer> ipv4 = f.list().stream().filter(this::notIpv6).map(NodeConfigLoader::address).toList();
            if (ipv4.isEmpty()) {
                throw f.error("at least one IPv4 address of this node is required (IPv6 is not served yet)");
            }
            return ipv4;
        });
        final List<Ipv4Cidr> clusterCidrs = check(root.get("clusterCIDRs"), this::cidrs);
        final Ipv4Cidr podCidr = check(root.get("podCIDR"), f -> f.isPresent() && notIpv6(f) ? cidr(f) : null);
        final List<Ipv4Cidr> serviceCidrs = check(root.get("serviceCIDRs"), this::cidrs);
        final int[] nodePortRange = check(root.get("nodePortRange"), NodeConfigLoader::portRange);
        final List<Ipv4Cidr> nodePortAddresses = check(root.get("nodePortAddresses"), this::cidrs);
        final Boolean masqueradeAll = check(root.get("masqueradeAll"), f -> f.boolOr(false));
        final PortType portType = check(root.get("portType"), NodeConfigLoader::portType);
        final Integer masqueradeAddress = check(root.get("masqueradeAddress"), f -> f.isPresent() ? address(f) : 0);
        final String zone = check(root.get("zone"), f -> {
            if (!f.isPresent()) {
                return null;
            }
            if (f.text().isBlank()) {
                throw f.error("must not be empty (leave it out when the node has no zone)");
            }
            return f.text();
        });

        if (serviceCidrs != null) {
            for (int s = 0; s < serviceCidrs.size(); s++) {
                final Ipv4Cidr service = serviceCidrs.get(s);
                if (clusterCidrs != null) {
                    for (int c = 0; c < clusterCidrs.size(); c++) {
                        if (service.overlaps(clusterCidrs.get(c))) {
                            problems.add(origin.apply("serviceCIDRs") + ": serviceCIDRs[" + s + "]: " + service + " overlaps clusterCIDRs[" + c + "] "
                                + clusterCidrs.get(c) + "; service and pod ranges must be disjoint");
                        }
                    }
                }
                if (podCidr != null && service.overlaps(podCidr)) {
                    problems.add(origin.apply("serviceCIDRs") + ": serviceCIDRs[" + s + "]: " + service + " overlaps podCIDR " + podCidr
                        + "; service and pod ranges must be disjoint");
                }
            }
        }
        if (nodeIps != null) {
            for (int i = 0; i < nodeIps.size(); i++) {
                checkOutside(i, nodeIps.get(i), "serviceCIDRs", serviceCidrs);
                checkOutside(i, nodeIps.get(i), "clusterCIDRs", clusterCidrs);
            }
        }
        if (masqueradeAddress != null && masqueradeAddress != 0) {
            checkMasqueradeAddress(masqueradeAddress, nodeIps, serviceCidrs);
        }
        if (!problems.isEmpty()) {
            throw new NodeConfigException(problems);
        }
        if (!ignoredIpv6.isEmpty()) {
            LOG.info(file + ": IPv6 entries left out until Ferry serves IPv6 (IPv4 is served): " + String.join(", ", ignoredIpv6));
        }
        return new NodeConfig(new NodeSpec(nodeName, nodeIps, clusterCidrs, podCidr, serviceCidrs, nodePortRange[0], nodePortRange[1],
            nodePortAddresses, masqueradeAll), portType, masqueradeAddress, zone);
    }

    /**
     * A masquerade address is the node's alone: every packet to it is steered into ferry0, so it
     * can be neither a node IP (the node's own sockets use those) nor a ClusterIP.
     */
    private void checkMasqueradeAddress(final int address, final List<Integer> nodeIps, final List<Ipv4Cidr> serviceCidrs) {
        final String where = origin.apply("masqueradeAddress") + ": masqueradeAddress: " + Ipv4.format(address);
        if (nodeIps != null && nodeIps.contains(address)) {
            problems.add(where + " is one of nodeIPs; it must be an address nothing else on the node uses "
                + "(leave masqueradeAddress out to masquerade to the node IP)");
        }
        if (serviceCidrs != null) {
            serviceCidrs.stream().filter(c -> c.contains(address)).findFirst()
                .ifPresent(c -> problems.add(where + " lies inside serviceCIDRs " + c + "; it must be routed to this node, not be a ClusterIP"));
        }
    }

    /** The node's own addresses must not be mistaken for services or pods. */
    private void checkOutside(final int index, final int nodeIp, final String rangesKey, final List<Ipv4Cidr> ranges) {
        if (ranges == null) {
            return;
        }
        for (int r = 0; r < ranges.size(); r++) {
            if (ranges.get(r).contains(nodeIp)) {
                problems.add(origin.apply("nodeIPs") + ": nodeIPs[" + index + "]: " + Ipv4.format(nodeIp) + " lies inside "
                    + rangesKey + "[" + r + "] " + ranges.get(r) + "; the node's own addresses must be outside the service "
                    + "and cluster ranges");
            }
        }
    }

    private <T> T check(final Field field, final Function<Field, T> read) {
        try {
            return read.apply(field);
        } catch (final FieldException e) {
            problems.add(origin.apply(topKey(field.path())) + ": " + e.getMessage());
            return null;
        }
    }

    /** "serviceCIDRs" for "serviceCIDRs[0]". */
    private static String topKey(final String path) {
        int end = path.length();
        for (int i = 0; i < path.length(); i++) {
            if (path.charAt(i) == '.' || path.charAt(i) == '[') {
                end = i;
                break;
            }
        }
        return path.substring(0, end);
    }

    private static int address(final Field field) {
        final String text = field.text();
        try {
            return Ipv4.parse(text);
        } catch (final IllegalArgumentException e) {
            throw field.error("'" + text + "' is not an IPv4 address");
        }
    }

    private static Ipv4Cidr cidr(final Field field) {
        final String text = field.text();
        if (text.indexOf('/') < 0) {
            throw field.error("'" + text + "' is not a CIDR (write it as address/prefix, such as 10.96.0.0/12)");
        }
        try {
            return Ipv4Cidr.parse(text);
        } catch (final IllegalArgumentException e) {
            throw field.error("'" + text + "' is not an IPv4 CIDR (" + e.getMessage() + ")");
        }
    }

    private List<Ipv4Cidr> cidrs(final Field field) {
        return field.list().stream().filter(this::notIpv6).map(NodeConfigLoader::cidr).toList();
    }

    /** False, and the entry recorded as ignored, for an IPv6 address or CIDR; true for anything else (checked as IPv4 later). */
    private boolean notIpv6(final Field field) {
        final String text = field.text().trim();
        if (!isIpv6(text)) {
            return true;
        }
        ignoredIpv6.add(field.path() + " " + text);
        return false;
    }

    /** Whether {@code text} is an IPv6 address, or an IPv6 CIDR with a prefix of 0-128. */
    static boolean isIpv6(final String text) {
        try {
            Ipv6Cidr.parse(text); // a bare address is a /128
            return true;
        } catch (final IllegalArgumentException e) {
            return false;
        }
    }

    private static int[] portRange(final Field field) {
        if (!field.isPresent()) {
            return new int[] {NodeSpec.DEFAULT_NODE_PORT_MIN, NodeSpec.DEFAULT_NODE_PORT_MAX};
        }
        final String text = field.text().trim();
        final String[] parts = text.split("-", -1);
        if (parts.length > 2) {
            throw field.error("'" + text + "' is not a port range (write it as min-max, such as " + NodeConfig.DEFAULT_NODE_PORT_RANGE + ")");
        }
        final int min;
        final int max;
        try {
            min = Integer.parseInt(parts[0].trim());
            max = parts.length == 2 ? Integer.parseInt(parts[1].trim()) : min;
        } catch (final NumberFormatException e) {
            throw field.error("'" + text + "' is not a port range (write it as min-max, such as " + NodeConfig.DEFAULT_NODE_PORT_RANGE + ")");
        }
        if (min < 1 || max > 65535) {
            throw field.error("'" + text + "' reaches outside the port numbers 1-65535");
        }
        if (min > max) {
            throw field.error("'" + text + "' starts after it ends (min " + min + " > max " + max + ")");
        }
        return new int[] {min, max};
    }

    private static PortType portType(final Field field) {
        if (!field.isPresent()) {
            return NodeConfig.DEFAULT_PORT_TYPE;
        }
        final String text = field.text();
        for (final PortType type : PortType.values()) {
            if (type.configName().equals(text.trim().toLowerCase(Locale.ROOT))) {
                return type;
            }
        }
        throw field.error("'" + text + "' is not a port type (tun or packet)");
    }
}
