package dev.ferry.control.model;

/**
 * One entry of an EndpointSlice's endpoints[], with the API defaults applied to its conditions.
 * Only the first address is kept: the API declares the addresses of one endpoint fungible and
 * kube-proxy uses the first.
 *
 * @param address     endpoints[].addresses[0] ({@link dev.ferry.dataplane.addr.Ipv4} int)
 * @param ready       conditions.ready, true when absent
 * @param serving     conditions.serving, equal to ready when absent
 * @param terminating conditions.terminating, false when absent
 * @param nodeName    endpoints[].nodeName, null when absent
 */
public record SliceEndpoint(int address, boolean ready, boolean serving, boolean terminating, String nodeName) {
}
