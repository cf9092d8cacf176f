package dev.ferry.control.model;

/**
 * A Service's namespace and name: what its EndpointSlices name it by (the
 * kubernetes.io/service-name label, in the slice's own namespace). A record rather than a
 * "namespace/name" string so that matching 10,000 slices to their services at every reload
 * builds no strings.
 */
public record ServiceName(String namespace, String name) {
    public static ServiceName of(final Service service) {
        return new ServiceName(service.ref().namespace(), service.ref().name());
    }

    /** The Service a slice belongs to. */
    public static ServiceName of(final EndpointSlice slice) {
        return new ServiceName(slice.ref().namespace(), slice.serviceName());
    }
}
