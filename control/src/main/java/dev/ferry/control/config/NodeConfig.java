package dev.ferry.control.config;

import dev.ferry.dataplane.addr.Ipv4Cidr;
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
 * @param serviceCidrs      ranges ClusterIPs come from
 * @param nodePortMin       first NodePort (inclusive)
 * @param nodePortMax       last NodePort (inclusive)
 * @param nodePortAddresses CIDRs of node addresses that accept NodePorts; empty means all nodeIps
 * @param masqueradeAll     masquerade every service connection
 * @param portType          how packets reach the dataplane
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
    PortType portType) {

    public static final String DEFAULT_NODE_PORT_RANGE = NodeSpec.DEFAULT_NODE_PORT_MIN + "-" + NodeSpec.DEFAULT_NODE_PORT_MAX;
    public static final PortType DEFAULT_PORT_TYPE = PortType.TUN;

    public NodeConfig {
        nodeIps = List.copyOf(nodeIps);
        clusterCidrs = List.copyOf(clusterCidrs);
        serviceCidrs = List.copyOf(serviceCidrs);
        nodePortAddresses = List.copyOf(nodePortAddresses);
    }

    /** The part of the config the dataplane compiles its tables against. */
    public NodeSpec toNodeSpec() {
        return new NodeSpec(nodeName, nodeIps, clusterCidrs, podCidr, serviceCidrs, nodePortMin, nodePortMax,
            nodePortAddresses, masqueradeAll);
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
        return dev.ferry.dataplane.addr.Ipv4.format(clusterIp) + " is outside the node config's serviceCIDRs " + serviceCidrs;
    }
}
