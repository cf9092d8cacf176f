package dev.ferry.control.config;

import dev.ferry.dataplane.addr.Ipv4Cidr;
import dev.ferry.dataplane.nat.SnatRange;
import dev.ferry.dataplane.service.NodeSpec;

import java.util.List;

/**
 * The validated node config (DESIGN.md, "Control"): what this node is and which ranges matter
 * to it. Built by {@link NodeConfigLoader}; {@link #toNodeSpec()} hands the dataplane its part.
 *
 * @param nodeName          this node's name; endpoints with this nodeName are local
 * @param nodeIps           this node's addresses ({@link dev.ferry.dataplane.addr.Ipv4} ints), at least one
 * @param clusterCidrs      pod ranges of the cluster; empty means no source is treated as a pod
 * @param podCidr           this node's pod range, or null
 * @param serviceCidrs      ranges ClusterIPs come from (in API mode the floor: the cluster's ServiceCIDR
 *                          objects add theirs, {@link #withExtraServiceCidrs})
 * @param nodePortMin       first NodePort (inclusive)
 * @param nodePortMax       last NodePort (inclusive)
 * @param nodePortAddresses CIDRs of node addresses that accept NodePorts; empty means all nodeIps
 * @param masqueradeAll     masquerade every service connection
 * @param portType          how packets reach the dataplane
 * @param masqueradeAddress an address of the node's own that masqueraded flows leave from, with
 *                          the whole port space 1024-65535 (see {@link #snatRange()}); 0 when
 *                          none is given and they leave from the first node IP
 * @param zone              this node's topology zone (its topology.kubernetes.io/zone label), for
 *                          topology-aware routing hints; null when it has none
 */
public record NodeConfig(
    String nodeName,
    List<Integer> nodeIps,
    List<Ipv4Cidr> clusterCidrs,
    Ipv4Cidr podCidr,
    List<Ipv4Cidr> serviceCidrs,
    int nodePortMin,
    int nodePortMax,
    List<Ipv4Cidr> nodePortAddresses,
    boolean masqueradeAll,
    PortType portType,
    int masqueradeAddress,
    String zone) {

    public static final String DEFAULT_NODE_PORT_RANGE = NodeSpec.DEFAULT_NODE_PORT_MIN + "-" + NodeSpec.DEFAULT_NODE_PORT_MAX;
    public static final PortType DEFAULT_PORT_TYPE = PortType.TUN;

    public NodeConfig {
        nodeIps = List.copyOf(nodeIps);
        clusterCidrs = List.copyOf(clusterCidrs);
        serviceCidrs = List.copyOf(serviceCidrs);
        nodePortAddresses = List.copyOf(nodePortAddresses);
    }

    /** A config without a masquerade address: masqueraded flows leave from the first node IP. */
    public NodeConfig(final String nodeName, final List<Integer> nodeIps, final List<Ipv4Cidr> clusterCidrs, final Ipv4Cidr podCidr,
                      final List<Ipv4Cidr> serviceCidrs, final int nodePortMin, final int nodePortMax,
                      final List<Ipv4Cidr> nodePortAddresses, final boolean masqueradeAll, final PortType portType) {
        this(nodeName, nodeIps, clusterCidrs, podCidr, serviceCidrs, nodePortMin, nodePortMax, nodePortAddresses, masqueradeAll,
            portType, 0);
    }

    /** A config without a zone. */
    public NodeConfig(final String nodeName, final List<Integer> nodeIps, final List<Ipv4Cidr> clusterCidrs, final Ipv4Cidr podCidr,
                      final List<Ipv4Cidr> serviceCidrs, final int nodePortMin, final int nodePortMax,
                      final List<Ipv4Cidr> nodePortAddresses, final boolean masqueradeAll, final PortType portType,
                      final int masqueradeAddress) {
        this(nodeName, nodeIps, clusterCidrs, podCidr, serviceCidrs, nodePortMin, nodePortMax, nodePortAddresses, masqueradeAll,
            portType, masqueradeAddress, null);
    }

    /**
     * Where masqueraded flows get their new source (docs/ARCHITECTURE.md, "Masquerade"): the
     * masquerade address with every port from 1024 up, when one is given; else the first node IP
     * with the ports above the kernel's ephemeral range ({@link SnatRange#defaults}).
     */
    public SnatRange snatRange() {
        return hasMasqueradeAddress() ? SnatRange.wholeAddress(masqueradeAddress) : SnatRange.defaults(nodeIps.getFirst());
    }

    public boolean hasMasqueradeAddress() {
        return masqueradeAddress != 0;
    }

    /** The part of the config the dataplane compiles its tables against. */
    public NodeSpec toNodeSpec() {
        return new NodeSpec(nodeName, nodeIps, clusterCidrs, podCidr, serviceCidrs, nodePortMin, nodePortMax,
            nodePortAddresses, masqueradeAll);
    }

    /**
     * This config with {@code extra} service ranges beside its own (API mode: the ranges of the
     * cluster's ServiceCIDR objects), so that a ClusterIP from one of them is accepted
     * ({@link #clusterIpProblem}); its own stay first, a range listed twice counts once.
     */
    public NodeConfig withExtraServiceCidrs(final List<Ipv4Cidr> extra) {
        return extra.isEmpty() ? this : new NodeConfig(nodeName, nodeIps, clusterCidrs, podCidr, Ipv4Cidr.union(serviceCidrs, extra),
            nodePortMin, nodePortMax, nodePortAddresses, masqueradeAll, portType, masqueradeAddress, zone);
    }

    /** "30000-32767". */
    public String nodePortRange() {
        return nodePortMin + "-" + nodePortMax;
    }

    /** True when {@code address} lies in one of the service CIDRs. */
    public boolean inServiceCidrs(final int address) {
        return serviceCidrs.stream().anyMatch(c -> c.contains(address));
    }

    /**
     * Why {@code clusterIp} cannot be a ClusterIP on this node (outside the serviceCIDRs), or
     * null when it can; no serviceCIDRs configured means any address can.
     */
    public String clusterIpProblem(final int clusterIp) {
        if (serviceCidrs.isEmpty() || inServiceCidrs(clusterIp)) {
            return null;
        }
        return dev.ferry.dataplane.addr.Ipv4.format(clusterIp) + " is outside the serviceCIDRs " + serviceCidrs;
    }
}
