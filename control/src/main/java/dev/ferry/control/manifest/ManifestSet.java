package dev.ferry.control.manifest;

import dev.ferry.control.model.EndpointSlice;
import dev.ferry.control.model.Endpoints;
import dev.ferry.control.model.Pod;
import dev.ferry.control.model.Service;

import java.util.List;

/**
 * What a set of manifest files held: the objects that passed validation, by kind in file order,
 * and one error per rejected object or unreadable file.
 */
public record ManifestSet(List<Service> services, List<EndpointSlice> endpointSlices, List<Endpoints> endpoints,
                          List<Pod> pods, List<ManifestError> errors) {
    public ManifestSet {
        services = List.copyOf(services);
        endpointSlices = List.copyOf(endpointSlices);
        endpoints = List.copyOf(endpoints);
        pods = List.copyOf(pods);
        errors = List.copyOf(errors);
    }

    /** Services and slices only, as a cluster's API server would hand them to kube-proxy. */
    public static ManifestSet of(final List<Service> services, final List<EndpointSlice> endpointSlices) {
        return new ManifestSet(services, endpointSlices, List.of(), List.of(), List.of());
    }
}
