package dev.ferry.control.model;

import java.util.List;

/**
 * One entry of an EndpointSlice's endpoints[], with the API defaults applied to its conditions.
 * Only the first address is kept: the API declares the addresses of one endpoint fungible and
 * kube-proxy uses the first.
 *
 * @param address       endpoints[].addresses[0] ({@link dev.ferry.dataplane.addr.Ipv4} int)
 * @param ready         conditions.ready, true when absent
 * @param serving       conditions.serving, equal to ready when absent
 * @param terminating   conditions.terminating, false when absent
 * @param nodeName      endpoints[].nodeName, null when absent
 * @param zoneHints     hints.forZones[].name: the zones whose nodes should use this endpoint (topology-aware routing)
 * @param nodeHints     hints.forNodes[].name: the nodes that should use it (trafficDistribution PreferSameNode)
 * @param hostname      endpoints[].hostname, null when absent: a headless service's DNS gives the endpoint
 *                      the name {@code <hostname>.<service>.<ns>.svc.<zone>}
 */
public record SliceEndpoint(int address, boolean ready, boolean serving, boolean terminating, String nodeName,
                            List<String> zoneHints, List<String> nodeHints, String hostname) {
    public SliceEndpoint {
        zoneHints = List.copyOf(zoneHints);
        nodeHints = List.copyOf(nodeHints);
    }

    /** An endpoint without a hostname. */
    public SliceEndpoint(final int address, final boolean ready, final boolean serving, final boolean terminating, final String nodeName,
                         final List<String> zoneHints, final List<String> nodeHints) {
        this(address, ready, serving, terminating, nodeName, zoneHints, nodeHints, null);
    }

    /** An endpoint without topology hints or hostname. */
    public SliceEndpoint(final int address, final boolean ready, final boolean serving, final boolean terminating, final String nodeName) {
        this(address, ready, serving, terminating, nodeName, List.of(), List.of(), null);
    }
}
