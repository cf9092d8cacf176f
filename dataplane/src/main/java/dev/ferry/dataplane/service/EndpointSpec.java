package dev.ferry.dataplane.service;

/**
 * One backend of a service port, with the conditions of an EndpointSlice endpoint after the
 * API's defaults are applied (ready absent = true; serving absent = ready; terminating absent = false).
 *
 * @param address     backend IPv4 address ({@link dev.ferry.dataplane.addr.Ipv4} int)
 * @param port        backend port (the resolved targetPort)
 * @param ready       conditions.ready
 * @param serving     conditions.serving
 * @param terminating conditions.terminating
 * @param local       the endpoint's nodeName is this node
 * @param inTopology  topology-aware routing leaves it to this node: true unless the service's
 *                    hints prefer other endpoints for this node or its zone (kube-proxy's
 *                    availableForTopology, decided by the control side from the hints)
 */
public record EndpointSpec(int address, int port, boolean ready, boolean serving, boolean terminating, boolean local,
                           boolean inTopology) {
    /** An endpoint topology does not rule out. */
    public EndpointSpec(final int address, final int port, final boolean ready, final boolean serving, final boolean terminating,
                        final boolean local) {
        this(address, port, ready, serving, terminating, local, true);
    }
}
