package dev.ferry.control.model;

import java.util.List;

/**
 * A discovery.k8s.io/v1 EndpointSlice of address type IPv4, defaults applied.
 *
 * @param ref         file, namespace and name
 * @param serviceName metadata.labels["kubernetes.io/service-name"]: the Service in the same namespace
 * @param ports       ports[]
 * @param endpoints   endpoints[]
 */
public record EndpointSlice(ObjectRef ref, String serviceName, List<SlicePort> ports, List<SliceEndpoint> endpoints)
    implements KubeObject {
    public static final String SERVICE_NAME_LABEL = "kubernetes.io/service-name";

    public EndpointSlice {
        ports = List.copyOf(ports);
        endpoints = List.copyOf(endpoints);
    }
}
