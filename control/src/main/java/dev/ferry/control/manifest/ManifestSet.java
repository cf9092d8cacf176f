package dev.ferry.control.manifest;

import dev.ferry.control.model.EndpointSlice;
import dev.ferry.control.model.Service;

import java.util.List;

/**
 * What a set of manifest files held: the objects that passed validation, in file order, and
 * one error per rejected object or unreadable file.
 */
public record ManifestSet(List<Service> services, List<EndpointSlice> endpointSlices, List<ManifestError> errors) {
    public ManifestSet {
        services = List.copyOf(services);
        endpointSlices = List.copyOf(endpointSlices);
        errors = List.copyOf(errors);
    }
}
