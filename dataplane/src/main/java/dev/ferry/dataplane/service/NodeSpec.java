package dev.ferry.dataplane.service;

import dev.ferry.dataplane.addr.Ipv4;
import dev.ferry.dataplane.addr.Ipv4Cidr;

import java.util.List;

/**
 * What the dataplane must know about the node it runs on, already validated by the control
 * side (the node config of docs/ARCHITECTURE.md). Addresses are {@link dev.ferry.dataplane.addr.Ipv4} ints.
 *
 * @param nodeName          endpoints whose nodeName equals this are local
 * @param nodeIps           this node's addresses
 * @param clusterCidrs      pod ranges of the whole cluster; empty means no source counts as a pod
 * @param podCidr           this node's pod range, or null
 * @param serviceCidrs      ranges ClusterIPs come from; unallocated addresses inside are dropped. The node
 *                          config's, plus in API mode those of the cluster's ServiceCIDR objects
 *                          ({@link #withExtraServiceCidrs})
 * @param nodePortMin       first port of the NodePort range (inclusive)
 * @param nodePortMax       last port of the NodePort range (inclusive)
 * @param nodePortAddresses node addresses that accept NodePorts; empty means all of {@code nodeIps}
 * @param masqueradeAll     masquerade every service connection
 */
public record NodeSpec(
    String nodeName,
    List<Integer> nodeIps,
    List<Ipv4Cidr> clusterCidrs,
    Ipv4Cidr podCidr,
    List<Ipv4Cidr> serviceCidrs,
    int nodePortMin,
    int nodePortMax,
    List<Ipv4Cidr> nodePortAddresses,
    boolean masqueradeAll) {

    public static final int DEFAULT_NODE_PORT_MIN = 30000;
    public static final int DEFAULT_NODE_PORT_MAX = 32767;

    public NodeSpec {
        nodeIps = List.copyOf(nodeIps);
        clusterCidrs = List.copyOf(clusterCidrs);
        serviceCidrs = List.copyOf(serviceCidrs);
        nodePortAddresses = List.copyOf(nodePortAddresses);
    }

    /**
     * This node with {@code extra} service ranges beside its own (the ranges of the cluster's
     * ServiceCIDR objects): its own stay first, a range listed twice counts once.
     */
    public NodeSpec withExtraServiceCidrs(final List<Ipv4Cidr> extra) {
        return extra.isEmpty() ? this : new NodeSpec(nodeName, nodeIps, clusterCidrs, podCidr, Ipv4Cidr.union(serviceCidrs, extra),
            nodePortMin, nodePortMax, nodePortAddresses, masqueradeAll);
    }

    /**
     * Why {@code range} cannot be a service range of this node, or null when it can: a service
     * range is routed into ferry0 and its unallocated addresses dropped, so one overlapping the
     * pod ranges would swallow pod traffic, and one holding a node IP the node's own.
     */
    public String serviceRangeClash(final Ipv4Cidr range) {
        for (final Ipv4Cidr cluster : clusterCidrs) {
            if (range.overlaps(cluster)) {
                return range + " overlaps the clusterCIDR " + cluster;
            }
        }
        if (podCidr != null && range.overlaps(podCidr)) {
            return range + " overlaps the podCIDR " + podCidr;
        }
        for (final int nodeIp : nodeIps) {
            if (range.contains(nodeIp)) {
                return range + " holds the node IP " + Ipv4.format(nodeIp);
            }
        }
        return null;
    }

    /** The node addresses that accept NodePorts: nodeIps filtered by nodePortAddresses. */
    public List<Integer> nodePortIps() {
        if (nodePortAddresses.isEmpty()) {
            return nodeIps;
        }
        return nodeIps.stream().filter(ip -> nodePortAddresses.stream().anyMatch(c -> c.contains(ip))).toList();
    }
}
