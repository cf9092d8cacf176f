package dev.ferry.control.sync;

import dev.ferry.conntrack.ConntrackTable;
import dev.ferry.conntrack.FlowKey;
import dev.ferry.control.dns.ServiceNames;
import dev.ferry.dataplane.addr.Ipv4;
import dev.ferry.dataplane.pipeline.ServiceTableHolder;
import dev.ferry.dataplane.service.EndpointSet;
import dev.ferry.dataplane.service.EndpointSpec;
import dev.ferry.dataplane.service.NodeSpec;
import dev.ferry.dataplane.service.Protocol;
import dev.ferry.dataplane.service.ServicePort;
import dev.ferry.dataplane.service.ServicePortSpec;
import dev.ferry.dataplane.service.ServiceTable;

import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;
import java.util.function.Consumer;
import java.util.logging.Logger;

/**
 * Turns the latest desired state into the dataplane's state, once per run of the
 * {@link BoundedFrequencyRunner}: compile a new {@link ServiceTable}, swap it in with one
 * volatile write, flush the conntrack entries of UDP flows whose endpoint went away (as
 * kube-proxy's conntrack cleanup does; TCP flows drain on their own), and hand the host side
 * the addresses that must be routed into ferry0 (externalIPs, LoadBalancer IPs) and the
 * healthCheckNodePorts the node answers itself; and, right after the swap, hand the DNS server
 * the services' names that came with the same desired state, so that a name resolves once
 * the table serves its address and within the sync that applied it.
 *
 * <p>A desired state that fails to compile (two services claiming one address and port) is
 * logged and skipped: the last good table keeps serving.
 */
public final class ServiceSync {
    private static final Logger LOG = Logger.getLogger(ServiceSync.class.getName());

    /** Told about each sync, for metrics and health. */
    public interface Listener {
        /**
         * @param durationNs      time the sync took
         * @param queuedAtMs      wall-clock time the oldest change in it was queued (0 when periodic)
         * @param succeeded       false when the desired state did not compile
         */
        void onSync(long durationNs, long queuedAtMs, boolean succeeded);
    }

    private final NodeSpec node;
    private final ServiceTableHolder holder;
    private final ConntrackTable conntrack;
    private final HostState host;
    private final Listener listener;

    private volatile List<ServicePortSpec> desired;
    private volatile ServiceNames desiredNames = ServiceNames.EMPTY;
    private Consumer<ServiceNames> nameSink = names -> { };
    private ServiceNames lastNames;
    private volatile long oldestUnsyncedChangeMs;
    private Set<Integer> lastRoutedAddresses = Set.of();
    private Set<Integer> lastHealthCheckPorts = Set.of();
    private EndpointPorts lastSteeredReplies = EndpointPorts.NONE;
    private boolean firstSync = true;

    public ServiceSync(final NodeSpec node, final ServiceTableHolder holder, final ConntrackTable conntrack,
                       final HostState host, final Listener listener) {
        this.node = node;
        this.holder = holder;
        this.conntrack = conntrack;
        this.host = host;
        this.listener = listener;
        this.desired = List.of();
    }

    /** Hands each sync's names to {@code sink} (the DNS server) after the swap, when they changed. Before the first sync. */
    public ServiceSync names(final Consumer<ServiceNames> sink) {
        this.nameSink = sink;
        return this;
    }

    /** Records a new desired state without names (a sync that serves no DNS); the next {@link #sync()} applies it. Any thread. */
    public void setDesired(final List<ServicePortSpec> specs, final long changedAtMs) {
        setDesired(specs, ServiceNames.EMPTY, changedAtMs);
    }

    /** Records a new desired state; the next {@link #sync()} applies it. Any thread. */
    public void setDesired(final List<ServicePortSpec> specs, final ServiceNames names, final long changedAtMs) {
        synchronized (this) {
            if (oldestUnsyncedChangeMs == 0) {
                oldestUnsyncedChangeMs = changedAtMs;
            }
            desired = List.copyOf(specs);
            desiredNames = names;
        }
    }

    /** Wall-clock time of the oldest change not yet synced, 0 when none is pending. */
    public long oldestUnsyncedChangeMs() {
        return oldestUnsyncedChangeMs;
    }

    /** Applies the latest desired state. Serialised: the agent's first sync and the runner's may overlap. */
    public synchronized void sync() {
        final long start = System.nanoTime();
        final List<ServicePortSpec> specs;
        final ServiceNames names;
        final long queuedAt;
        synchronized (this) {
            specs = desired;
            names = desiredNames;
            queuedAt = oldestUnsyncedChangeMs;
            oldestUnsyncedChangeMs = 0;
        }
        final ServiceTable next;
        try {
            next = ServiceTable.compile(node, specs);
        } catch (final IllegalArgumentException e) {
            LOG.severe("sync skipped, the last good state keeps serving: " + e.getMessage());
            listener.onSync(System.nanoTime() - start, queuedAt, false);
            return;
        }
        final ServiceTable previous = holder.get();
        // Replies from a new endpoint port are steered before the table that DNATs to it serves.
        final EndpointPorts endpointPorts = endpointPorts(next);
        final EndpointPorts steeredDuringSwap = lastSteeredReplies.union(endpointPorts);
        if (!steeredDuringSwap.equals(lastSteeredReplies)) {
            host.steerReplies(steeredDuringSwap);
        }
        holder.set(next);
        if (!names.equals(lastNames)) {
            nameSink.accept(names);
            lastNames = names;
        }
        flushRemovedUdpEndpoints(previous, next);
        steerRepliesAfterSwap(endpointPorts, steeredDuringSwap);
        final Set<Integer> routed = routedAddresses(next);
        if (!routed.equals(lastRoutedAddresses)) {
            host.routeAddresses(routed);
            lastRoutedAddresses = routed;
        }
        final Set<Integer> healthPorts = healthCheckNodePorts(next);
        if (!healthPorts.equals(lastHealthCheckPorts)) {
            host.deliverLocally(healthPorts);
            lastHealthCheckPorts = healthPorts;
        }
        listener.onSync(System.nanoTime() - start, queuedAt, true);
    }

    /**
     * Drops the steering of endpoint ports the new table no longer uses, except where
     * established flows still need it: their replies would otherwise leave untranslated and the
     * client would reset them. Such ports are checked again at every sync (the periodic one
     * included) until their last flow ends. The first sync keeps the ports of every flow found
     * in the table, which a restarted agent re-attached.
     */
    private void steerRepliesAfterSwap(final EndpointPorts endpointPorts, final EndpointPorts steeredDuringSwap) {
        final EndpointPorts unused = firstSync ? null : steeredDuringSwap.minus(endpointPorts);
        final EndpointPorts retained = unused != null && unused.isEmpty() ? EndpointPorts.NONE : portsOfLiveFlows(unused);
        final EndpointPorts steered = endpointPorts.union(retained);
        // the first call also reconciles the reply rules adopted from a previous agent
        if (!steered.equals(steeredDuringSwap) || firstSync) {
            host.steerReplies(steered);
        }
        if (!retained.isEmpty() && !retained.equals(lastSteeredReplies.minus(endpointPorts))) {
            LOG.info("endpoint ports still steered for established flows: " + retained);
        }
        lastSteeredReplies = steered;
        firstSync = false;
    }

    /** The reply source ports (endpoint ports) of live conntrack entries, limited to {@code among} unless null. */
    private EndpointPorts portsOfLiveFlows(final EndpointPorts among) {
        final EndpointPorts.Builder out = EndpointPorts.builder();
        final FlowKey reply = new FlowKey();
        conntrack.forEach(handle -> {
            conntrack.readReply(handle, reply);
            final Protocol protocol = Protocol.fromNumber(reply.protocol());
            if (protocol != null && reply.srcPort() > 0 && conntrack.isLive(handle)
                && (among == null || among.contains(protocol, reply.srcPort()))) {
                out.add(protocol, reply.srcPort());
            }
        });
        return out.build();
    }

    /**
     * The (protocol, port) of every endpoint of the snapshot, ready or not (a readiness flap then
     * changes no rule): where replies of DNATed flows come from.
     */
    static EndpointPorts endpointPorts(final ServiceTable table) {
        final EndpointPorts.Builder out = EndpointPorts.builder();
        for (final ServicePort port : table.ports()) {
            for (final EndpointSpec endpoint : port.spec().endpoints()) {
                out.add(port.protocol(), endpoint.port());
            }
        }
        return out.build();
    }

    private void flushRemovedUdpEndpoints(final ServiceTable previous, final ServiceTable next) {
        if (previous == null) {
            return;
        }
        final Set<Long> before = udpEndpoints(previous);
        before.removeAll(udpEndpoints(next));
        for (final long endpoint : before) {
            final int address = (int) (endpoint >>> 16);
            final int port = (int) (endpoint & 0xFFFF);
            final int flushed = conntrack.flushBackendIpv4(Protocol.UDP.number(), address, port);
            if (flushed > 0) {
                LOG.info("flushed " + flushed + " UDP conntrack entries to removed endpoint " + Ipv4.format(address, port));
            }
        }
    }

    private static Set<Long> udpEndpoints(final ServiceTable table) {
        final Set<Long> out = new HashSet<>();
        for (final ServicePort port : table.ports()) {
            if (port.protocol() != Protocol.UDP) {
                continue;
            }
            addAll(out, port.clusterEndpoints());
            addAll(out, port.localEndpoints());
        }
        return out;
    }

    private static void addAll(final Set<Long> out, final EndpointSet set) {
        for (int i = 0; i < set.size(); i++) {
            out.add(((set.address(i) & 0xFFFFFFFFL) << 16) | set.port(i));
        }
    }

    /** The healthCheckNodePorts of the snapshot: the node itself answers them. */
    static Set<Integer> healthCheckNodePorts(final ServiceTable table) {
        final Set<Integer> out = new TreeSet<>();
        for (final ServicePort port : table.ports()) {
            if (port.spec().healthCheckNodePort() > 0) {
                out.add(port.spec().healthCheckNodePort());
            }
        }
        return Set.copyOf(out);
    }

    /** The host side of a sync: what must be routed into ferry0, and which node ports stay local. */
    public interface HostState {
        /** For a sync without a host to program (tests, trace). */
        HostState NONE = new HostState() {
            @Override
            public void routeAddresses(final Set<Integer> addresses) {
            }

            @Override
            public void deliverLocally(final Set<Integer> healthCheckNodePorts) {
            }

            @Override
            public void steerReplies(final EndpointPorts ports) {
            }
        };

        /** Route exactly these addresses (externalIPs, LoadBalancer IPs) into ferry0. */
        void routeAddresses(Set<Integer> addresses);

        /** Deliver TCP to these ports of the NodePort addresses locally instead of through ferry0. */
        void deliverLocally(Set<Integer> healthCheckNodePorts);

        /** Steer into ferry0 exactly the replies coming from these endpoint ports (of local pods, and to local pods). */
        void steerReplies(EndpointPorts ports);
    }

    /**
     * ClusterIPs, externalIPs and LoadBalancer IPs outside the node's service CIDRs (those are
     * routed as a whole). A ClusterIP outside them comes from a range the cluster added
     * (a ServiceCIDR object, or a serviceCIDRs list that names fewer ranges than the cluster has):
     * without its /32 a pod's packet to it would leave untranslated.
     */
    static Set<Integer> routedAddresses(final ServiceTable table) {
        final Set<Integer> out = new TreeSet<>();
        for (final ServicePort port : table.ports()) {
            for (final int address : port.spec().clusterIps()) {
                if (!table.inServiceCidrs(address)) {
                    out.add(address);
                }
            }
            for (final int address : port.spec().externalIps()) {
                if (!table.inServiceCidrs(address)) {
                    out.add(address);
                }
            }
            for (final int address : port.spec().loadBalancerIps()) {
                if (!table.inServiceCidrs(address)) {
                    out.add(address);
                }
            }
        }
        return Set.copyOf(out);
    }
}
