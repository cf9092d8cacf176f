package dev.ferry.control.compile;

import dev.ferry.control.manifest.ManifestError;
import dev.ferry.dataplane.service.ServicePortSpec;

import java.util.List;

/**
 * The dataplane's service input, and the services rejected while producing it (those that
 * clash with the node config or with another service).
 */
public record CompiledServices(List<ServicePortSpec> ports, List<ManifestError> errors) {
    public CompiledServices {
        ports = List.copyOf(ports);
        errors = List.copyOf(errors);
    }
}
