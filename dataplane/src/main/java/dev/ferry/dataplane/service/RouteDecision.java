package dev.ferry.dataplane.service;

/**
 * The result of {@link ServiceRouter#route}, a mutable holder each worker reuses so that routing
 * allocates nothing. Valid until the next route() into the same holder.
 *
 * <p>The candidate set is the eligible endpoint set the packet could have gone to (the cluster or
 * the local set of its service port); it is reported for REJECT/DROP of empty sets too (then
 * empty), and is empty when no service port applies.
 */
public final class RouteDecision {
    Verdict verdict = Verdict.PASS;
    RouteReason reason = RouteReason.NOT_SERVICE_TRAFFIC;
    ServicePort servicePort;
    Frontend frontend;
    EndpointSet candidates = EndpointSet.EMPTY;
    boolean localEndpointsOnly;
    int backendIndex = -1;
    int backendAddress;
    int backendPort;
    boolean masquerade;
    MasqueradeReason masqueradeReason = MasqueradeReason.NONE;

    void reset() {
        verdict = Verdict.PASS;
        reason = RouteReason.NOT_SERVICE_TRAFFIC;
        servicePort = null;
        frontend = null;
        candidates = EndpointSet.EMPTY;
        localEndpointsOnly = false;
        backendIndex = -1;
        backendAddress = 0;
        backendPort = 0;
        masquerade = false;
        masqueradeReason = MasqueradeReason.NONE;
    }

    public Verdict verdict() {
        return verdict;
    }

    public RouteReason reason() {
        return reason;
    }

    /** The service port the destination belongs to; null when not service traffic. */
    public ServicePort servicePort() {
        return servicePort;
    }

    /** How the destination reached the service port; null when not service traffic. */
    public Frontend frontend() {
        return frontend;
    }

    /** The selected backend's address (DNAT only). */
    public int backendAddress() {
        return backendAddress;
    }

    /** The selected backend's port (DNAT only). */
    public int backendPort() {
        return backendPort;
    }

    /** Index of the selected backend in {@link #candidates()}, -1 unless DNAT. */
    public int backendIndex() {
        return backendIndex;
    }

    /** SNAT the connection to the node as well (DNAT only). */
    public boolean masquerade() {
        return masquerade;
    }

    public MasqueradeReason masqueradeReason() {
        return masqueradeReason;
    }

    /** True when the candidate set is the local one (a Local traffic policy applied). */
    public boolean localEndpointsOnly() {
        return localEndpointsOnly;
    }

    public EndpointSet candidates() {
        return candidates;
    }

    public int candidateCount() {
        return candidates.size();
    }

    public int candidateAddress(final int i) {
        return candidates.address(i);
    }

    public int candidatePort(final int i) {
        return candidates.port(i);
    }

    @Override
    public String toString() {
        return "RouteDecision{" + verdict + " " + reason
            + (servicePort == null ? "" : " " + servicePort.displayName() + " via " + frontend.label())
            + (verdict == Verdict.DNAT ? " -> " + dev.ferry.dataplane.addr.Ipv4.format(backendAddress, backendPort)
                + (masquerade ? " masquerade (" + masqueradeReason + ")" : "") : "")
            + " candidates=" + candidates + (localEndpointsOnly ? " (local)" : "") + '}';
    }
}
