package dev.ferry.dataplane.service;

import dev.ferry.dataplane.lb.BackendSelector;
import dev.ferry.nativeio.IpProtocol;

/**
 * Decides the fate of the first packet of a new flow the way kube-proxy's nftables mode does:
 * which service port it hits, which endpoint set applies under the traffic policies, whether the
 * connection is masqueraded, and which backend the selector picks. Trace runs the same code.
 *
 * <p>Hot path: no allocation, no lock. One instance per worker thread (the selector it holds may
 * keep per-thread state such as a random generator); the {@link ServiceTable} is shared.
 *
 * <p>Order of decisions, mirroring the rule order of kube-proxy:
 * <ol>
 *   <li>non TCP/UDP/SCTP: PASS;</li>
 *   <li>no frontend match: REJECT for another port of a ClusterIP, DROP inside the service
 *       CIDRs, otherwise PASS;</li>
 *   <li>healthCheckNodePort: LOCAL;</li>
 *   <li>loadBalancerSourceRanges (LoadBalancer IPs only): DROP on a miss;</li>
 *   <li>endpoint set by traffic policy; empty: REJECT when the port has no usable endpoint
 *       anywhere, else (Local policy) DROP;</li>
 *   <li>select a backend; DNAT, with masquerade per {@link MasqueradeReason}.</li>
 * </ol>
 */
public final class ServiceRouter {
    private final BackendSelector selector;
    private final LocalAddresses localAddresses;

    /** A router that knows the node only by its config's nodeIPs (offline trace, benchmarks). */
    public ServiceRouter(final BackendSelector selector) {
        this(selector, new LocalAddresses());
    }

    /**
     * @param localAddresses the node's local addresses as the kernel has them, shared and kept
     *                       current by the agent; with the nodeIPs they tell node-originated flows
     */
    public ServiceRouter(final BackendSelector selector, final LocalAddresses localAddresses) {
        if (selector == null || localAddresses == null) {
            throw new IllegalArgumentException("selector and localAddresses must not be null");
        }
        this.selector = selector;
        this.localAddresses = localAddresses;
    }

    public BackendSelector selector() {
        return selector;
    }

    /**
     * Routes one packet. Addresses are {@link dev.ferry.dataplane.addr.Ipv4} ints, ports 0..65535.
     *
     * @param table          the current snapshot
     * @param protocolNumber the IPv4 protocol field
     * @param nowMs          the worker's clock, milliseconds (affinity expiry)
     * @param out            reused holder, overwritten
     */
    public void route(
        final ServiceTable table,
        final int protocolNumber,
        final int srcAddr,
        final int srcPort,
        final int dstAddr,
        final int dstPort,
        final long nowMs,
        final RouteDecision out) {
        out.reset();
        if (!IpProtocol.hasPorts(protocolNumber)) {
            out.reason = RouteReason.NOT_A_SERVICE_PROTOCOL;
            return;
        }
        final int entry = table.lookup(dstAddr, protocolNumber, dstPort);
        if (entry == ServiceTable.NO_ENTRY) {
            if (table.isClusterIp(dstAddr)) {
                finish(out, Verdict.REJECT, RouteReason.UNKNOWN_PORT_ON_CLUSTER_IP);
            } else if (table.inServiceCidrs(dstAddr)) {
                finish(out, Verdict.DROP, RouteReason.UNALLOCATED_SERVICE_IP);
            } else if (table.isServiceAddress(dstAddr)) {
                // Routed into ferry0 for the ports that are claimed; passed back, the rest
                // would come straight back in until its TTL ran out.
                finish(out, Verdict.DROP, RouteReason.UNCLAIMED_SERVICE_ADDRESS);
            }
            return;
        }

        final ServicePort sp = table.byId(ServiceTable.entryPortId(entry));
        final Frontend frontend = ServiceTable.entryFrontend(entry);
        out.servicePort = sp;
        out.frontend = frontend;

        if (frontend == Frontend.HEALTH_CHECK_NODE_PORT) {
            finish(out, Verdict.LOCAL, RouteReason.HEALTH_CHECK_NODE_PORT);
            return;
        }

        final EndpointSet set;
        final boolean local;
        MasqueradeReason masq = MasqueradeReason.NONE;
        if (frontend == Frontend.CLUSTER_IP) {
            local = sp.internalPolicyLocal();
            set = local ? sp.localEndpoints() : sp.clusterEndpoints();
            if (table.masqueradeAll()) {
                masq = MasqueradeReason.MASQUERADE_ALL;
            } else if (table.detectsPods() && !table.inClusterCidrs(srcAddr)) {
                masq = MasqueradeReason.OFF_CLUSTER_SOURCE;
            } else if (!table.detectsPods() && fromNode(table, srcAddr)) {
                // Without clusterCIDRs kube-proxy would not masquerade the node, and netfilter
                // would see the backend's reply anyway; Ferry sees only what is steered into
                // ferry0, and replies to the node's own ports are not: masquerade into the
                // SNAT range, whose replies are. (With clusterCIDRs the node is outside them and
                // masqueraded above; a local address inside them, a pod bridge's, is a pod
                // source to kube-proxy too, and its replies are steered by the pod rules.)
                masq = MasqueradeReason.NODE_SOURCE;
            }
        } else {
            if (frontend == Frontend.LOAD_BALANCER_IP && !sp.loadBalancerSourceAllowed(srcAddr)) {
                finish(out, Verdict.DROP, RouteReason.SOURCE_RANGE_MISS);
                return;
            }
            if (!sp.externalPolicyLocal()) {
                local = false;
                set = sp.clusterEndpoints();
                masq = table.masqueradeAll() ? MasqueradeReason.MASQUERADE_ALL : MasqueradeReason.EXTERNAL_CLUSTER_POLICY;
            } else if (!sp.clusterEndpoints().isEmpty() && table.inClusterCidrs(srcAddr)) {
                // Pod traffic to an external address is exempt from the Local policy, as if it
                // had gone out to a load balancer and come back; its source is kept. Not even
                // masqueradeAll masquerades it: kube-proxy's masqueradeAll rule matches the
                // ClusterIP, and this traffic is addressed to the external address.
                local = false;
                set = sp.clusterEndpoints();
                masq = MasqueradeReason.NONE;
            } else if (!sp.clusterEndpoints().isEmpty() && fromNode(table, srcAddr)) {
                // The node itself goes the Cluster way and is masqueraded (its source would be
                // a local address the backend cannot answer): kube-proxy's "fib saddr type
                // local", after the pod check as there.
                local = false;
                set = sp.clusterEndpoints();
                masq = table.masqueradeAll() ? MasqueradeReason.MASQUERADE_ALL : MasqueradeReason.NODE_SOURCE;
            } else {
                // externalTrafficPolicy Local keeps the client's address, masqueradeAll or not
                // (kube-proxy's external chain for Local policy never marks it).
                local = true;
                set = sp.localEndpoints();
                masq = MasqueradeReason.NONE;
            }
        }
        out.candidates = set;
        out.localEndpointsOnly = local;

        if (set.isEmpty()) {
            if (sp.hasUsableEndpoints()) {
                finish(out, Verdict.DROP, RouteReason.NO_LOCAL_ENDPOINTS);
            } else {
                finish(out, Verdict.REJECT, RouteReason.NO_ENDPOINTS);
            }
            return;
        }

        final int index = selector.select(sp, set, srcAddr, nowMs);
        final int backendAddress = set.address(index);
        if (masq == MasqueradeReason.NONE && backendAddress == srcAddr) {
            masq = MasqueradeReason.HAIRPIN;
        }
        out.backendIndex = index;
        out.backendAddress = backendAddress;
        out.backendPort = set.port(index);
        out.masquerade = masq != MasqueradeReason.NONE;
        out.masqueradeReason = masq;
        finish(out, Verdict.DNAT, RouteReason.ENDPOINT_SELECTED);
    }

    /**
     * Whether a flow comes from the node itself: its source is one of the config's nodeIPs or a
     * local address of the kernel's (another interface's, a bridge's, a local route's).
     */
    private boolean fromNode(final ServiceTable table, final int srcAddr) {
        return table.isNodeIp(srcAddr) || localAddresses.contains(srcAddr);
    }

    private static void finish(final RouteDecision out, final Verdict verdict, final RouteReason reason) {
        out.verdict = verdict;
        out.reason = reason;
    }
}
