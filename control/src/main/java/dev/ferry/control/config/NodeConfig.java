package dev.ferry.control.config;

import dev.ferry.dataplane.addr.Ipv4Cidr;
import dev.ferry.dataplane.nat.SnatRange;
import dev.ferry.dataplane.service.NodeSpec;

import java.util.List;

/**
 * The validated node config (docs/OPERATIONS.md, "Configure"): what this node is and
 * which ranges matter to it, and how the agent attaches. Built by {@link NodeConfigLoader}.
 * The dataplane's part is a {@link NodeSpec} ({@link #toNodeSpec()}), held as it is rather than
 * copied field by field: the accessors below read through it.
 *
 * @param node              the node as the dataplane sees it: name, addresses, pod, cluster and
 *                          service ranges (in API mode the floor: the cluster's ServiceCIDR
 *                          objects add theirs, {@link #withExtraServiceCidrs}), NodePort range
 *                          and addresses, masquerade-all
 * @param portType          how packets reach the dataplane
 * @param masqueradeAddress an address of the node's own that masqueraded flows leave from, with
 *                          the whole port space 1024-65535 (see {@link #snatRange()}); 0 when
 *                          none is given and they leave from the first node IP
 * @param zone              this node's topology zone (its topology.kubernetes.io/zone label), for
 *                          topology-aware routing hints; null when it has none
 */
public record NodeConfig(NodeSpec node, PortType portType, int masqueradeAddress, String zone) {

    public static final String DEFAULT_NODE_PORT_RANGE = NodeSpec.DEFAULT_NODE_PORT_MIN + "-" + NodeSpec.DEFAULT_NODE_PORT_MAX;
    public static final PortType DEFAULT_PORT_TYPE = PortType.TUN;

    public NodeConfig {
        java.util.Objects.requireNonNull(node, "node");
    }

    /** A config without a masquerade address or zone: masqueraded flows leave from the first node IP. */
    public NodeConfig(final NodeSpec node, final PortType portType) {
        this(node, portType, 0, null);
    }

    /** This node's name; endpoints with this nodeName are local. */
    public String nodeName() {
        return node.nodeName();
    }

    /** This node's addresses ({@link dev.ferry.dataplane.addr.Ipv4} ints), at least one. */
    public List<Integer> nodeIps() {
        return node.nodeIps();
    }

    /** Pod ranges of the cluster; empty means no source is treated as a pod. */
    public List<Ipv4Cidr> clusterCidrs() {
        return node.clusterCidrs();
    }

    /** This node's pod range, or null. */
    public Ipv4Cidr podCidr() {
        return node.podCidr();
    }

    /** Ranges ClusterIPs come from. */
    public List<Ipv4Cidr> serviceCidrs() {
        return node.serviceCidrs();
    }

    /** First NodePort (inclusive). */
    public int nodePortMin() {
        return node.nodePortMin();
    }

    /** Last NodePort (inclusive). */
    public int nodePortMax() {
        return node.nodePortMax();
    }

    /** CIDRs of node addresses that accept NodePorts; empty means all nodeIps. */
    public List<Ipv4Cidr> nodePortAddresses() {
        return node.nodePortAddresses();
    }

    /** Masquerade every service connection. */
    public boolean masqueradeAll() {
        return node.masqueradeAll();
    }

    /**
     * Where masqueraded flows get their new source (docs/ARCHITECTURE.md, "Masquerade"): the
     * masquerade address with every port from 1024 up, when one is given; else the first node IP
     * with the ports above the kernel's ephemeral range ({@link SnatRange#defaults}).
     */
    public SnatRange snatRange() {
        return hasMasqueradeAddress() ? SnatRange.wholeAddress(masqueradeAddress) : SnatRange.defaults(nodeIps().getFirst());
    }

    public boolean hasMasqueradeAddress() {
        return masqueradeAddress != 0;
    }

    /** The part of the config the dataplane compiles its tables against. */
    public NodeSpec toNodeSpec() {
        return node;
    }

    /**
     * This config with {@code extra} service ranges beside its own (API mode: the ranges of the
     * cluster's ServiceCIDR objects), so that a ClusterIP from one of them is accepted
     * ({@link #clusterIpProblem}); its own stay first, a range listed twice counts once.
     */
    public NodeConfig withExtraServiceCidrs(final List<Ipv4Cidr> extra) {
        return extra.isEmpty() ? this : new NodeConfig(node.withExtraServiceCidrs(extra), portType, masqueradeAddress, zone);
    }

    /** "30000-32767". */
    public String nodePortRange() {
        return nodePortMin() + "-" + nodePortMax();
    }

    /** True when {@code address} lies in one of the service CIDRs. */
    public boolean inServiceCidrs(final int address) {
        return serviceCidrs().stream().anyMatch(c -> c.contains(address));
    }

    /**
     * Why {@code clusterIp} cannot be a ClusterIP on this node (outside the serviceCIDRs), or
     * null when it can; no serviceCIDRs configured means any address can.
     */
    public String clusterIpProblem(final int clusterIp) {
        if (serviceCidrs().isEmpty() || inServiceCidrs(clusterIp)) {
            return null;
        }
        return dev.ferry.dataplane.addr.Ipv4.format(clusterIp) + " is outside the serviceCIDRs " + serviceCidrs();
    }
}
