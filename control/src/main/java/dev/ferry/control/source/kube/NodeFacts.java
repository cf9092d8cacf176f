package dev.ferry.control.source.kube;

import dev.ferry.dataplane.addr.Ipv4;
import dev.ferry.dataplane.addr.Ipv4Cidr;
import io.fabric8.kubernetes.api.model.Node;
import io.fabric8.kubernetes.api.model.NodeAddress;
import io.fabric8.kubernetes.api.model.Taint;

import java.util.ArrayList;
import java.util.List;

/**
 * What the agent reads from this node's Node object, as kube-proxy does.
 *
 * @param name     metadata.name
 * @param nodeIp   the node's primary IPv4 address: the first IPv4 InternalIP of status.addresses,
 *                 else the first IPv4 ExternalIP ({@link Ipv4} int); null when it has neither
 * @param podCidr  the first IPv4 range of spec.podCIDRs (or spec.podCIDR); null when none is assigned
 * @param zone     metadata.labels[topology.kubernetes.io/zone], null when absent: the zone topology hints name
 * @param eligible false while the node is being deleted or is tainted
 *                 {@value #TO_BE_DELETED_TAINT}: load balancers should stop sending to it
 *                 ({@code /healthz} fails, as kube-proxy's does)
 */
record NodeFacts(String name, Integer nodeIp, Ipv4Cidr podCidr, String zone, boolean eligible) {
    /** The well-known label of a node's zone. */
    static final String ZONE_LABEL = "topology.kubernetes.io/zone";

    /** The cluster autoscaler's taint on a node it is about to remove. */
    static final String TO_BE_DELETED_TAINT = "ToBeDeletedByClusterAutoscaler";

    static NodeFacts of(final Node node) {
        Integer nodeIp = firstIpv4(node, "InternalIP");
        if (nodeIp == null) {
            nodeIp = firstIpv4(node, "ExternalIP");
        }
        Ipv4Cidr podCidr = null;
        if (node.getSpec() != null) {
            final List<String> cidrs = new ArrayList<>();
            if (node.getSpec().getPodCIDRs() != null) {
                cidrs.addAll(node.getSpec().getPodCIDRs());
            }
            if (node.getSpec().getPodCIDR() != null) {
                cidrs.add(node.getSpec().getPodCIDR());
            }
            for (final String cidr : cidrs) {
                if (cidr != null && !ApiObjects.isIpv6(cidr)) {
                    try {
                        podCidr = Ipv4Cidr.parse(cidr);
                        break;
                    } catch (final IllegalArgumentException e) {
                        // not a range this node can use: look at the next one
                    }
                }
            }
        }
        boolean eligible = node.getMetadata().getDeletionTimestamp() == null;
        if (node.getSpec() != null && node.getSpec().getTaints() != null) {
            for (final Taint taint : node.getSpec().getTaints()) {
                if (TO_BE_DELETED_TAINT.equals(taint.getKey())) {
                    eligible = false;
                }
            }
        }
        final String zone = node.getMetadata().getLabels() == null ? null : node.getMetadata().getLabels().get(ZONE_LABEL);
        return new NodeFacts(node.getMetadata().getName(), nodeIp, podCidr, zone, eligible);
    }

    private static Integer firstIpv4(final Node node, final String type) {
        if (node.getStatus() == null || node.getStatus().getAddresses() == null) {
            return null;
        }
        for (final NodeAddress address : node.getStatus().getAddresses()) {
            if (type.equals(address.getType()) && address.getAddress() != null && Ipv4.isValid(address.getAddress())) {
                return Ipv4.parse(address.getAddress());
            }
        }
        return null;
    }
}
