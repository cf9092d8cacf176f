package dev.ferry.dataplane.service;

/**
 * The kind of address a packet reached a service port through. ClusterIP traffic is "internal"
 * (internalTrafficPolicy applies); the others except the health check are "external"
 * (externalTrafficPolicy applies).
 */
public enum Frontend {
    CLUSTER_IP("ClusterIP"),
    EXTERNAL_IP("externalIP"),
    LOAD_BALANCER_IP("LoadBalancer IP"),
    NODE_PORT("NodePort"),
    HEALTH_CHECK_NODE_PORT("healthCheckNodePort");

    static final Frontend[] VALUES = values();

    private final String label;

    Frontend(final String label) {
        this.label = label;
    }

    /** True for traffic governed by externalTrafficPolicy. */
    public boolean external() {
        return this == EXTERNAL_IP || this == LOAD_BALANCER_IP || this == NODE_PORT;
    }

    /** As Kubernetes users spell it. */
    public String label() {
        return label;
    }
}
