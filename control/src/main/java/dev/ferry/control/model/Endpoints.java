package dev.ferry.control.model;

import java.util.List;

/**
 * A v1 Endpoints object: the hand-written backends of a Service without a selector, named like
 * the Service. Its subsets are kept in the shape of EndpointSlices (addresses become endpoints
 * with ready true, notReadyAddresses endpoints with ready false), which is what the endpoint
 * slice mirroring controller turns them into and what kube-proxy then reads.
 *
 * @param ref     file, namespace and name (the Service's name)
 * @param subsets subsets[], IPv4 addresses only
 */
public record Endpoints(ObjectRef ref, List<Subset> subsets) implements KubeObject {
    public Endpoints {
        subsets = List.copyOf(subsets);
    }

    /**
     * One entry of subsets[]: every address serves every port.
     *
     * @param endpoints addresses[] (ready) then notReadyAddresses[] (not ready)
     * @param ports     ports[]
     */
    public record Subset(List<SliceEndpoint> endpoints, List<SlicePort> ports) {
        public Subset {
            endpoints = List.copyOf(endpoints);
            ports = List.copyOf(ports);
        }
    }
}
