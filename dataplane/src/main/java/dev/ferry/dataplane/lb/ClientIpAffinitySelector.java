package dev.ferry.dataplane.lb;

import dev.ferry.dataplane.service.EndpointSet;
import dev.ferry.dataplane.service.ServicePort;

/**
 * sessionAffinity ClientIP: a client keeps reaching the backend it reached last, as long as it
 * opens a new connection within the service's timeout (default 10800 s) and that backend is still
 * eligible. Service ports without ClientIP affinity, and clients with no live record, get the
 * fallback's pick (random by default), which is then recorded.
 *
 * <p>One instance per worker (the fallback holds a generator); the {@link ClientIpAffinityTable}
 * is shared by all of them.
 */
public final class ClientIpAffinitySelector implements BackendSelector {
    private final ClientIpAffinityTable table;
    private final BackendSelector fallback;

    public ClientIpAffinitySelector(final ClientIpAffinityTable table, final BackendSelector fallback) {
        if (table == null || fallback == null) {
            throw new IllegalArgumentException("table and fallback must not be null");
        }
        this.table = table;
        this.fallback = fallback;
    }

    /** With a {@link RandomSelector} of its own as fallback. */
    public ClientIpAffinitySelector(final ClientIpAffinityTable table) {
        this(table, new RandomSelector());
    }

    public ClientIpAffinityTable table() {
        return table;
    }

    @Override
    public int select(final ServicePort port, final EndpointSet endpoints, final int clientAddr, final long nowMs) {
        if (!port.affinityClientIp()) {
            return fallback.select(port, endpoints, clientAddr, nowMs);
        }
        final long expiryMs = nowMs + port.affinityTimeoutMs();
        final int remembered = table.lookup(port.affinityKey(), clientAddr, endpoints, nowMs, expiryMs);
        if (remembered >= 0) {
            return remembered;
        }
        final int index = fallback.select(port, endpoints, clientAddr, nowMs);
        table.record(port.affinityKey(), clientAddr, endpoints.address(index), endpoints.port(index), index, nowMs, expiryMs);
        return index;
    }
}
