package dev.ferry.dataplane.service;

/**
 * Why {@link ServiceRouter} reached its verdict. The names are stable codes: {@link #code()} doubles
 * as a metric label and a drop-reason counter name; {@link #description()} is the sentence
 * {@code ferry trace} prints.
 */
public enum RouteReason {
    NOT_SERVICE_TRAFFIC("the destination is not a service address and port"),
    NOT_A_SERVICE_PROTOCOL("the protocol is not TCP, UDP or SCTP, so no service applies"),
    ENDPOINT_SELECTED("an endpoint was selected"),
    NO_ENDPOINTS("the service port has no ready or serving endpoints anywhere in the cluster"),
    NO_LOCAL_ENDPOINTS("the traffic policy is Local and this node has no usable endpoint"),
    SOURCE_RANGE_MISS("the source is outside the service's loadBalancerSourceRanges"),
    UNKNOWN_PORT_ON_CLUSTER_IP("the destination is a ClusterIP but no service port matches the protocol and port"),
    UNALLOCATED_SERVICE_IP("the destination is inside the service CIDRs but is not the ClusterIP of any service"),
    HEALTH_CHECK_NODE_PORT("the destination is this node's healthCheckNodePort of a service; the node answers"),
    UNCLAIMED_SERVICE_ADDRESS("the destination is an externalIP or LoadBalancer IP but no service port matches the protocol and port");

    private final String description;
    private final String code;

    RouteReason(final String description) {
        this.description = description;
        this.code = name().toLowerCase(java.util.Locale.ROOT);
    }

    /** The human sentence trace prints. */
    public String description() {
        return description;
    }

    /** Stable lower-case code, e.g. {@code no_local_endpoints}, for metric labels. */
    public String code() {
        return code;
    }
}
