package dev.ferry.dataplane.nat;

import dev.ferry.dataplane.addr.Ipv4;

/**
 * Where masqueraded flows get their new source: by default the node's address and a port range
 * kept outside the kernel's ip_local_port_range (default 32768-60999), so that the node's own
 * sockets never collide with Ferry's translations and the node's routing can steer replies to
 * this range back into ferry0; or an address of the node's own that nothing else uses, with
 * every port from {@value #WHOLE_ADDRESS_MIN_PORT} up ({@link #wholeAddress}).
 *
 * <p>The ports are numbered {@code 0 .. size() - 1} ({@link #portAt}); a new flow visits them in
 * the order {@code start, start + stride, ...} modulo the size, with a start and a stride drawn
 * from the flow's hash and each stride coprime to the size ({@link #probeStrides}), so every
 * visit is a different port and flows spread over the whole range whatever its occupancy
 * (double hashing; a linear walk from a hashed start piles taken ports into runs). Any size
 * works, up to the whole 1-65535.
 *
 * @param address the node address masqueraded flows leave from
 * @param minPort first port (inclusive)
 * @param maxPort last port (inclusive); on the node address at most 65534, since the kernel refuses
 *                policy-rule port ranges ending at 65535
 */
public record SnatRange(int address, int minPort, int maxPort) {
    public static final int DEFAULT_MIN_PORT = 61000;
    public static final int DEFAULT_MAX_PORT = 65534;
    /** The first port of a masquerade address of its own: below are the well-known ports, as netfilter's masquerade keeps them. */
    public static final int WHOLE_ADDRESS_MIN_PORT = 1024;

    public SnatRange {
        if (minPort < 1 || maxPort > 65535 || minPort > maxPort) {
            throw new IllegalArgumentException("SNAT port range " + minPort + "-" + maxPort + " is not a range inside 1-65535");
        }
    }

    public static SnatRange defaults(final int address) {
        return new SnatRange(address, DEFAULT_MIN_PORT, DEFAULT_MAX_PORT);
    }

    /** Every port from {@value #WHOLE_ADDRESS_MIN_PORT} to 65535 of an address that only masqueraded flows use. */
    public static SnatRange wholeAddress(final int address) {
        return new SnatRange(address, WHOLE_ADDRESS_MIN_PORT, 65535);
    }

    public int size() {
        return maxPort - minPort + 1;
    }

    /** The port numbered {@code index}, {@code 0 <= index < size()}. */
    public int portAt(final int index) {
        return minPort + index;
    }

    /**
     * Steps for walking the port numbers: {@code count} strides spread over {@code 1 .. size() - 1},
     * each coprime to {@link #size()}, so a walk visits {@code size()} different ports before it
     * repeats. A range of one port gets strides of 0. Control side: allocates.
     */
    public int[] probeStrides(final int count) {
        final int size = size();
        final int[] strides = new int[count];
        for (int i = 0; i < count && size > 1; i++) {
            int stride = 1 + (int) ((size - 1L) * (2L * i + 1) / (2L * count)) % (size - 1);
            while (gcd(stride, size) != 1) {
                stride = stride % (size - 1) + 1; // ends at size - 1 at the latest, always coprime
            }
            strides[i] = stride;
        }
        return strides;
    }

    private static int gcd(final int a, final int b) {
        int x = a;
        int y = b;
        while (y != 0) {
            final int t = x % y;
            x = y;
            y = t;
        }
        return x;
    }

    @Override
    public String toString() {
        return Ipv4.format(address) + ":" + minPort + "-" + maxPort;
    }
}
