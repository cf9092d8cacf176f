package dev.ferry.dataplane.service;

/**
 * Why a DNATed connection is also masqueraded (SNATed to the node), following kube-proxy's
 * mark-for-masquerade rules; {@link #NONE} when it is not. The first applicable reason is reported.
 */
public enum MasqueradeReason {
    NONE("the client address is kept"),
    MASQUERADE_ALL("masqueradeAll is set on this node"),
    OFF_CLUSTER_SOURCE("ClusterIP traffic from a source outside the cluster CIDRs"),
    EXTERNAL_CLUSTER_POLICY("external traffic under externalTrafficPolicy Cluster may cross nodes"),
    NODE_SOURCE("external traffic from the node itself, sent the Cluster way"),
    HAIRPIN("the selected endpoint is the client itself (hairpin)");

    private final String description;

    MasqueradeReason(final String description) {
        this.description = description;
    }

    public String description() {
        return description;
    }
}
