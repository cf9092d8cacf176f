package dev.ferry.control.model;

/** spec.type of a Service. */
public enum ServiceType {
    ClusterIP,
    NodePort,
    LoadBalancer,
    ExternalName;

    /** NodePort and LoadBalancer services open node ports. */
    public boolean hasNodePorts() {
        return this == NodePort || this == LoadBalancer;
    }
}
