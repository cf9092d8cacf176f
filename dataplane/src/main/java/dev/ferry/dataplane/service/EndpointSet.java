package dev.ferry.dataplane.service;

import dev.ferry.dataplane.addr.Ipv4;

import java.util.List;

/**
 * An eligible set of backends of one service port (the "cluster" or the "local" set), computed
 * once at compile time. Read by index on the hot path; never changes after construction.
 */
public final class EndpointSet {
    /** The set with no endpoint; shared. */
    public static final EndpointSet EMPTY = new EndpointSet(new int[0], new int[0]);

    private final int[] addresses;
    private final int[] ports;

    private EndpointSet(final int[] addresses, final int[] ports) {
        this.addresses = addresses;
        this.ports = ports;
    }

    /** Copies the given endpoints, in order. */
    public static EndpointSet of(final List<EndpointSpec> endpoints) {
        if (endpoints.isEmpty()) {
            return EMPTY;
        }
        final int[] addresses = new int[endpoints.size()];
        final int[] ports = new int[endpoints.size()];
        for (int i = 0; i < addresses.length; i++) {
            addresses[i] = endpoints.get(i).address();
            ports[i] = endpoints.get(i).port();
        }
        return new EndpointSet(addresses, ports);
    }

    public int size() {
        return addresses.length;
    }

    public boolean isEmpty() {
        return addresses.length == 0;
    }

    public int address(final int index) {
        return addresses[index];
    }

    public int port(final int index) {
        return ports[index];
    }

    /** Index of the endpoint with this address and port, or -1. Linear; sets are small. */
    public int indexOf(final int address, final int port) {
        for (int i = 0; i < addresses.length; i++) {
            if (addresses[i] == address && ports[i] == port) {
                return i;
            }
        }
        return -1;
    }

    @Override
    public String toString() {
        final StringBuilder sb = new StringBuilder("[");
        for (int i = 0; i < addresses.length; i++) {
            if (i > 0) {
                sb.append(", ");
            }
            sb.append(Ipv4.format(addresses[i], ports[i]));
        }
        return sb.append(']').toString();
    }
}
