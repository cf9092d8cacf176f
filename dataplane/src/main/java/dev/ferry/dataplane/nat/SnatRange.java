package dev.ferry.dataplane.nat;

import dev.ferry.dataplane.addr.Ipv4;

/**
 * Where masqueraded flows get their new source: the node's address and a port range kept
 * outside the kernel's ip_local_port_range (default 32768-60999), so that the node's own
 * sockets never collide with Ferry's translations and the node's routing can steer replies
 * to this range back into ferry0.
 *
 * @param address the node address masqueraded flows leave from
 * @param minPort first port (inclusive)
 * @param maxPort last port (inclusive); the kernel refuses policy-rule port ranges ending at 65535
 */
public record SnatRange(int address, int minPort, int maxPort) {
    public static final int DEFAULT_MIN_PORT = 61000;
    public static final int DEFAULT_MAX_PORT = 65534;

    public SnatRange {
        if (minPort < 1 || maxPort > 65535 || minPort > maxPort) {
            throw new IllegalArgumentException("SNAT port range " + minPort + "-" + maxPort + " is not a range inside 1-65535");
        }
    }

    public static SnatRange defaults(final int address) {
        return new SnatRange(address, DEFAULT_MIN_PORT, DEFAULT_MAX_PORT);
    }

    public int size() {
        return maxPort - minPort + 1;
    }

    @Override
    public String toString() {
        return Ipv4.format(address) + ":" + minPort + "-" + maxPort;
    }
}
