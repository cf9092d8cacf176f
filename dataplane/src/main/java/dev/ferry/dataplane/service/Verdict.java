package dev.ferry.dataplane.service;

/**
 * What the dataplane does with the first packet of a new flow, as kube-proxy's nftables rules
 * would decide it: leave it alone, translate it to a backend, answer with an error (TCP RST or
 * ICMP port unreachable), drop it silently, or hand it to the node itself.
 */
public enum Verdict {
    /** Not service traffic: forward unchanged. */
    PASS,
    /** Destination NAT to the selected backend (and SNAT when {@link RouteDecision#masquerade()}). */
    DNAT,
    /** Answer with TCP RST / ICMP port unreachable: the service port has no usable endpoint. */
    REJECT,
    /** Discard silently. */
    DROP,
    /** The node itself answers (the healthCheckNodePort of an externalTrafficPolicy Local service). */
    LOCAL
}
