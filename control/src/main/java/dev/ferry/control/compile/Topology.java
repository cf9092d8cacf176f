package dev.ferry.control.compile;

import dev.ferry.control.model.SliceEndpoint;

import java.util.Collection;

/**
 * Topology-aware routing as kube-proxy decides it (pkg/proxy/topology.go,
 * topologyModeFromHints and availableForTopology), from the hints the EndpointSlice controller
 * wrote: the mode is PreferSameNode when every ready endpoint has a node hint and one names this
 * node; else PreferSameZone when every ready endpoint has a zone hint and one names this node's
 * zone; else none, and every endpoint is available. Under a mode only the endpoints hinted for
 * this node (or zone) are. The dataplane applies the result to the cluster set only
 * ({@link dev.ferry.dataplane.service.EndpointSpec#inTopology()}), falling back to
 * serving-terminating endpoints regardless of topology when no ready one is left, as kube-proxy
 * does.
 */
final class Topology {
    enum Mode { NONE, SAME_NODE, SAME_ZONE }

    private Topology() {
    }

    /** The mode for one service port's endpoints on {@code nodeName} in {@code zone} (null when the node has no zone label). */
    static Mode mode(final Collection<SliceEndpoint> endpoints, final String nodeName, final String zone) {
        boolean anyReady = false;
        boolean allNodeHints = true;
        boolean hintedForNode = false;
        boolean allZoneHints = true;
        boolean hintedForZone = false;
        for (final SliceEndpoint endpoint : endpoints) {
            if (!endpoint.ready()) {
                continue;
            }
            anyReady = true;
            if (endpoint.nodeHints().isEmpty()) {
                allNodeHints = false;
            } else if (endpoint.nodeHints().contains(nodeName)) {
                hintedForNode = true;
            }
            if (endpoint.zoneHints().isEmpty()) {
                allZoneHints = false;
            } else if (zone != null && endpoint.zoneHints().contains(zone)) {
                hintedForZone = true;
            }
        }
        if (!anyReady) {
            return Mode.NONE;
        }
        if (allNodeHints && hintedForNode) {
            return Mode.SAME_NODE;
        }
        if (allZoneHints && hintedForZone) {
            return Mode.SAME_ZONE;
        }
        return Mode.NONE;
    }

    /** Whether the mode leaves {@code endpoint} to this node. */
    static boolean available(final SliceEndpoint endpoint, final Mode mode, final String nodeName, final String zone) {
        return switch (mode) {
            case NONE -> true;
            case SAME_NODE -> endpoint.nodeHints().contains(nodeName);
            case SAME_ZONE -> zone != null && endpoint.zoneHints().contains(zone);
        };
    }
}
