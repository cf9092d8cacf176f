package dev.ferry.control.sync;

import dev.ferry.conntrack.ConntrackTable;
import dev.ferry.conntrack.FlowKey;
import dev.ferry.control.dns.ServiceNames;
import dev.ferry.dataplane.addr.Ipv4;
import dev.ferry.dataplane.addr.Ipv4Cidr;
import dev.ferry.dataplane.pipeline.ServiceTableHolder;
import dev.ferry.dataplane.service.NodeSpec;
import dev.ferry.dataplane.service.Protocol;
import dev.ferry.dataplane.service.ServicePortSpec;
import dev.ferry.dataplane.service.ServiceTable;

import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;
import java.util.function.Consumer;
import java.util.logging.Logger;

/**
 * Turns the latest desired state into the dataplane's state, once per run of the
 * {@link BoundedFrequencyRunner}: compile a new {@link ServiceTable}, swap it in with one
 * volatile write, flush the conntrack entries of UDP flows whose endpoint went away (as
 * kube-proxy's conntrack cleanup does; TCP flows drain on their own), and hand the host side
 * what must be routed into ferry0 beyond the node config's serviceCIDRs (the cluster's other
 * service ranges, externalIPs, LoadBalancer IPs) and the healthCheckNodePorts the node answers
 * itself; and, right after the swap, hand the DNS server the services' names that came with the
 * same desired state, so that a name resolves once the table serves its address and within the
 * sync that applied it.
 *
 * <p>The service ranges of a snapshot are the node config's serviceCIDRs, which the agent routes
 * into ferry0 at start and keeps, plus the extra ranges of the desired state (API mode: the
 * cluster's ServiceCIDR objects). This class keeps the two in step: every range the table drops
 * unallocated addresses of is routed into ferry0, and every range routed there is one the table
 * knows, so a packet to it is never passed back to the kernel only to be routed in again.
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
    private volatile List<Ipv4Cidr> desiredExtraCidrs = List.of();
    private volatile ServiceNames desiredNames = ServiceNames.EMPTY;
    private Consumer<ServiceNames> nameSink = names -> { };
    private ServiceNames lastNames;
    private volatile long oldestUnsyncedChangeMs;
    private Set<Ipv4Cidr> lastRoutedPrefixes = Set.of();
    private Set<Integer> lastHealthCheckPorts = Set.of();
    private EndpointPorts lastSteeredReplies = EndpointPorts.NONE;
    private boolean firstSync = true;
    /** What the host side needs from the table, counted from one table to the next by what changed. */
    private final TableFacts facts = new TableFacts();

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

    /**
     * Records a new desired state without names and with the node config's service ranges alone;
     * the next {@link #sync()} applies it. Any thread.
     */
    public void setDesired(final List<ServicePortSpec> specs, final long changedAtMs) {
        setDesired(specs, ServiceNames.EMPTY, List.of(), changedAtMs);
    }

    /** As {@link #setDesired(List, ServiceNames, List, long)} with the node config's service ranges alone. */
    public void setDesired(final List<ServicePortSpec> specs, final ServiceNames names, final long changedAtMs) {
        setDesired(specs, names, List.of(), changedAtMs);
    }

    /** As {@link #setDesired(List, ServiceNames, List, long)} without names. */
    public void setDesired(final List<ServicePortSpec> specs, final List<Ipv4Cidr> extraServiceCidrs, final long changedAtMs) {
        setDesired(specs, ServiceNames.EMPTY, extraServiceCidrs, changedAtMs);
    }

    /**
     * Records a new desired state; the next {@link #sync()} applies it. Any thread.
     *
     * @param names             the services' DNS names, handed to the DNS server after the swap
     * @param extraServiceCidrs service ranges beside the node config's (the cluster's ServiceCIDR objects)
     */
    public void setDesired(final List<ServicePortSpec> specs, final ServiceNames names, final List<Ipv4Cidr> extraServiceCidrs,
                           final long changedAtMs) {
        synchronized (this) {
            if (oldestUnsyncedChangeMs == 0) {
                oldestUnsyncedChangeMs = changedAtMs;
            }
            desired = List.copyOf(specs);
            desiredExtraCidrs = List.copyOf(extraServiceCidrs);
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
        final List<Ipv4Cidr> extraCidrs;
        final ServiceNames names;
        final long queuedAt;
        synchronized (this) {
            specs = desired;
            extraCidrs = desiredExtraCidrs;
            names = desiredNames;
            queuedAt = oldestUnsyncedChangeMs;
            oldestUnsyncedChangeMs = 0;
        }
        final ServiceTable next;
        try {
            // the service ports whose specs did not change are taken over from the table serving now
            next = ServiceTable.compile(node.withExtraServiceCidrs(extraCidrs), specs, holder.get());
        } catch (final IllegalArgumentException e) {
            LOG.severe("sync skipped, the last good state keeps serving: " + e.getMessage());
            listener.onSync(System.nanoTime() - start, queuedAt, false);
            return;
        }
        final List<Long> udpEndpointsGone = facts.update(next);
        // Replies from a new endpoint port are steered before the table that DNATs to it serves.
        final EndpointPorts endpointPorts = facts.endpointPorts();
        final EndpointPorts steeredDuringSwap = lastSteeredReplies.union(endpointPorts);
        if (!steeredDuringSwap.equals(lastSteeredReplies)) {
            host.steerReplies(steeredDuringSwap);
        }
        // Routes into ferry0 go before the table that no longer claims them serves, and come after
        // the one that does: in between, a packet to them would be passed back and routed in again.
        final Set<Ipv4Cidr> routed = facts.routedPrefixes(node.serviceCidrs());
        final Set<Ipv4Cidr> kept = new LinkedHashSet<>(lastRoutedPrefixes);
        kept.retainAll(routed);
        if (!kept.equals(lastRoutedPrefixes)) {
            host.routePrefixes(Set.copyOf(kept));
            lastRoutedPrefixes = Set.copyOf(kept);
        }
        holder.set(next);
        if (!names.equals(lastNames)) {
            nameSink.accept(names);
            lastNames = names;
        }
        flushUdpFlowsTo(udpEndpointsGone);
        steerRepliesAfterSwap(endpointPorts, steeredDuringSwap);
        if (!routed.equals(lastRoutedPrefixes)) {
            host.routePrefixes(routed);
            lastRoutedPrefixes = routed;
        }
        final Set<Integer> healthPorts = facts.healthCheckNodePorts();
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
            if (!conntrack.readReplyIfLive(handle, reply)) {
                return; // ended while we looked
            }
            final Protocol protocol = Protocol.fromNumber(reply.protocol());
            if (protocol != null && reply.srcPort() > 0 && (among == null || among.contains(protocol, reply.srcPort()))) {
                out.add(protocol, reply.srcPort());
            }
        });
        return out.build();
    }

    /** Flushes the conntrack entries of UDP flows to endpoints no service port has any more (TCP flows drain on their own). */
    private void flushUdpFlowsTo(final List<Long> endpoints) {
        for (final long endpoint : endpoints) {
            final int address = (int) (endpoint >>> 16);
            final int port = (int) (endpoint & 0xFFFF);
            final int flushed = conntrack.flushBackendIpv4(Protocol.UDP.number(), address, port);
            if (flushed > 0) {
                LOG.info("flushed " + flushed + " UDP conntrack entries to removed endpoint " + Ipv4.format(address, port));
            }
        }
    }

    /** The host side of a sync: what must be routed into ferry0, and which node ports stay local. */
    public interface HostState {
        /** For a sync without a host to program (tests, trace). */
        HostState NONE = new HostState() {
            @Override
            public void routePrefixes(final Set<Ipv4Cidr> prefixes) {
            }

            @Override
            public void deliverLocally(final Set<Integer> healthCheckNodePorts) {
            }

            @Override
            public void steerReplies(final EndpointPorts ports) {
            }
        };

        /**
         * Route exactly these prefixes into ferry0, beside the node config's serviceCIDRs (which
         * stay): the cluster's other service ranges, and /32s of ClusterIPs, externalIPs and
         * LoadBalancer IPs outside every service range.
         */
        void routePrefixes(Set<Ipv4Cidr> prefixes);

        /** Deliver TCP to these ports of the NodePort addresses locally instead of through ferry0. */
        void deliverLocally(Set<Integer> healthCheckNodePorts);

        /** Steer into ferry0 exactly the replies coming from these endpoint ports (of local pods, and to local pods). */
        void steerReplies(EndpointPorts ports);
    }
}
