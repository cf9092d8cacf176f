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
 */
public record EndpointSpec(int address, int port, boolean ready, boolean serving, boolean terminating, boolean local) {
}
