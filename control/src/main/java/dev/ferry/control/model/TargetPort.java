package dev.ferry.control.model;

/**
 * spec.ports[].targetPort: a number or the name of a container port. kube-proxy does not use
 * it (the EndpointSlice controller resolves it into the slice's port numbers), and neither
 * does Ferry's trace; manifest mode resolves it against the matching pods' container ports
 * when it derives a Service's endpoints from its selector.
 *
 * @param number the port number, or 0 when named
 * @param name   the container port name, or null when numeric
 */
public record TargetPort(int number, String name) {
    public static TargetPort of(final int number) {
        return new TargetPort(number, null);
    }

    public static TargetPort named(final String name) {
        return new TargetPort(0, name);
    }

    public boolean isNamed() {
        return name != null;
    }

    @Override
    public String toString() {
        return isNamed() ? name : Integer.toString(number);
    }
}
