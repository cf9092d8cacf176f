package dev.ferry.control.admin;

import dev.ferry.control.health.SyncTracker;

import dev.ferry.conntrack.ConntrackTable;
import dev.ferry.control.dns.DnsCounters;
import dev.ferry.control.host.ReplySteering;
import dev.ferry.dataplane.counters.DataplaneCounters;
import dev.ferry.dataplane.service.LocalAddresses;
import dev.ferry.dataplane.service.ServiceTable;

import java.util.Objects;
import java.util.function.Supplier;

/**
 * What the admin endpoints read from a running agent. Called from the admin server's threads
 * on every request, so each method returns the live object (the current snapshot, the shared
 * table), never a copy. The dataplane parts may be null while the agent is still starting:
 * the endpoints that need them answer 503 until they appear.
 */
public interface AgentStatus {
    /** The service snapshot the workers use now; null before the first one is compiled. */
    ServiceTable serviceTable();

    /** The live conntrack table; null before it is opened. */
    ConntrackTable conntrack();

    /** The dataplane's counters; null before the pipeline exists. */
    DataplaneCounters counters();

    /** Sync times and change counts; never null. */
    SyncTracker syncTracker();

    /** The host's endpoint-reply steering; null without a host (tests, trace). */
    default ReplySteering replySteering() {
        return null;
    }

    /** The node's local addresses as the agent follows them; empty without a host (tests, trace). */
    default LocalAddresses localAddresses() {
        return new LocalAddresses();
    }

    /** The DNS server's counters; null when it is off. */
    default DnsCounters dnsCounters() {
        return null;
    }

    /** This status with the DNS server's counters ({@code null}: DNS off). */
    default AgentStatus withDns(final DnsCounters dns) {
        final AgentStatus base = this;
        return new AgentStatus() {
            @Override
            public ServiceTable serviceTable() {
                return base.serviceTable();
            }

            @Override
            public ConntrackTable conntrack() {
                return base.conntrack();
            }

            @Override
            public DataplaneCounters counters() {
                return base.counters();
            }

            @Override
            public SyncTracker syncTracker() {
                return base.syncTracker();
            }

            @Override
            public ReplySteering replySteering() {
                return base.replySteering();
            }

            @Override
            public LocalAddresses localAddresses() {
                return base.localAddresses();
            }

            @Override
            public DnsCounters dnsCounters() {
                return dns;
            }
        };
    }

    /**
     * Status over fixed parts and a changing service snapshot, e.g. {@code holder::get} of the
     * pipeline's {@code ServiceTableHolder}.
     */
    static AgentStatus of(
        final Supplier<ServiceTable> serviceTable,
        final ConntrackTable conntrack,
        final DataplaneCounters counters,
        final SyncTracker syncTracker) {
        return of(serviceTable, conntrack, counters, syncTracker, () -> null, new LocalAddresses());
    }

    /**
     * As {@link #of(Supplier, ConntrackTable, DataplaneCounters, SyncTracker)}, with the host's
     * reply steering and the local addresses the routers consult.
     */
    static AgentStatus of(
        final Supplier<ServiceTable> serviceTable,
        final ConntrackTable conntrack,
        final DataplaneCounters counters,
        final SyncTracker syncTracker,
        final Supplier<ReplySteering> replySteering,
        final LocalAddresses localAddresses) {
        Objects.requireNonNull(serviceTable, "serviceTable");
        Objects.requireNonNull(syncTracker, "syncTracker");
        Objects.requireNonNull(localAddresses, "localAddresses");
        return new AgentStatus() {
            @Override
            public ServiceTable serviceTable() {
                return serviceTable.get();
            }

            @Override
            public ConntrackTable conntrack() {
                return conntrack;
            }

            @Override
            public DataplaneCounters counters() {
                return counters;
            }

            @Override
            public SyncTracker syncTracker() {
                return syncTracker;
            }

            @Override
            public ReplySteering replySteering() {
                return replySteering.get();
            }

            @Override
            public LocalAddresses localAddresses() {
                return localAddresses;
            }
        };
    }
}
