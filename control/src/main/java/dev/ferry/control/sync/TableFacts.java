package dev.ferry.control.sync;

import dev.ferry.control.model.ChangedSpan;
import dev.ferry.dataplane.addr.Ipv4Cidr;
import dev.ferry.dataplane.service.EndpointSet;
import dev.ferry.dataplane.service.EndpointSpec;
import dev.ferry.dataplane.service.Protocol;
import dev.ferry.dataplane.service.ServicePort;
import dev.ferry.dataplane.service.ServiceTable;

import java.util.AbstractList;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;

/**
 * What the host side needs from the table a sync swaps in, kept up to date from one table to the
 * next by the service ports that changed, not by walking 10,000 of them (and their endpoints) at
 * every sync: each fact is a count of the service ports (or endpoints) holding it, so that one
 * going away leaves a value that another still holds. The tables' service ports are lined up by
 * spec identity from both ends ({@link ChangedSpan}): the control side hands the unchanged ones
 * as the very same instances. {@link ServiceSync} owns one and calls {@link #update} once per
 * swapped-in table; the results equal {@link ServiceSync}'s full computations (tested).
 */
final class TableFacts {
    /** (protocol, port) of every endpoint, ready or not: where replies of DNATed flows come from. */
    private final Map<Integer, Integer> endpointPorts = new HashMap<>();
    /** (address, port) of the UDP ports' eligible endpoints, whose flows are flushed when the last one goes. */
    private final Map<Long, Integer> udpEndpoints = new HashMap<>();
    /** ClusterIPs, externalIPs and LoadBalancer IPs outside every service range: each routed into ferry0 as a /32. */
    private final Map<Integer, Integer> outsideAddresses = new HashMap<>();
    private final Map<Integer, Integer> healthCheckNodePorts = new HashMap<>();
    private ServiceTable counted;
    private final List<Long> udpEndpointsGone = new ArrayList<>();

    /**
     * Counts {@code next} instead of the table counted before. Returns the UDP endpoints that no
     * service port of {@code next} has any more, whose conntrack entries the sync flushes.
     */
    List<Long> update(final ServiceTable next) {
        udpEndpointsGone.clear();
        if (counted == null || !counted.node().equals(next.node())) {
            // the first table, or other service ranges (what lies outside them is another set): count it all
            final Set<Long> udpBefore = new HashSet<>(udpEndpoints.keySet());
            endpointPorts.clear();
            udpEndpoints.clear();
            outsideAddresses.clear();
            healthCheckNodePorts.clear();
            for (final ServicePort port : next.ports()) {
                count(next, port, 1);
            }
            udpBefore.removeAll(udpEndpoints.keySet());
            counted = next;
            return List.copyOf(udpBefore);
        }
        final ChangedSpan span = ChangedSpan.between(specs(counted), specs(next));
        for (int i = span.start(); i < span.oldEnd(); i++) {
            count(counted, counted.byId(i), -1);
        }
        for (int i = span.start(); i < span.newEnd(); i++) {
            count(next, next.byId(i), 1);
        }
        udpEndpointsGone.removeIf(udpEndpoints::containsKey); // gone from one port, still another's
        counted = next;
        return List.copyOf(new LinkedHashSet<>(udpEndpointsGone));
    }

    EndpointPorts endpointPorts() {
        final EndpointPorts.Builder out = EndpointPorts.builder();
        endpointPorts.keySet().forEach(key -> out.add(Protocol.values()[key >>> 16], key & 0xFFFF));
        return out.build();
    }

    Set<Integer> healthCheckNodePorts() {
        return Set.copyOf(new TreeSet<>(healthCheckNodePorts.keySet()));
    }

    /** The counted table's service ranges beyond {@code installed}, whole, and its addresses outside every range as /32s. */
    Set<Ipv4Cidr> routedPrefixes(final List<Ipv4Cidr> installed) {
        final Set<Ipv4Cidr> out = new LinkedHashSet<>();
        for (final Ipv4Cidr range : counted.node().serviceCidrs()) {
            if (installed.stream().noneMatch(own -> own.covers(range))) {
                out.add(range);
            }
        }
        outsideAddresses.keySet().forEach(address -> out.add(new Ipv4Cidr(address, 32)));
        return Set.copyOf(out);
    }

    private void count(final ServiceTable table, final ServicePort port, final int delta) {
        for (final EndpointSpec endpoint : port.spec().endpoints()) {
            add(endpointPorts, (port.protocol().ordinal() << 16) | endpoint.port(), delta);
        }
        if (port.protocol() == Protocol.UDP) {
            countUdp(port.clusterEndpoints(), delta);
            countUdp(port.localEndpoints(), delta);
        }
        countOutside(table, port.spec().clusterIps(), delta);
        countOutside(table, port.spec().externalIps(), delta);
        countOutside(table, port.spec().loadBalancerIps(), delta);
        if (port.spec().healthCheckNodePort() > 0) {
            add(healthCheckNodePorts, port.spec().healthCheckNodePort(), delta);
        }
    }

    private void countUdp(final EndpointSet set, final int delta) {
        for (int i = 0; i < set.size(); i++) {
            final long endpoint = ((set.address(i) & 0xFFFFFFFFL) << 16) | set.port(i);
            if (add(udpEndpoints, endpoint, delta) == 0) {
                udpEndpointsGone.add(endpoint);
            }
        }
    }

    private void countOutside(final ServiceTable table, final List<Integer> addresses, final int delta) {
        for (final int address : addresses) {
            if (!table.inServiceCidrs(address)) {
                add(outsideAddresses, address, delta);
            }
        }
    }

    /** Adds {@code delta} to {@code key}'s count, forgetting it at 0; returns the new count. */
    private static <K> int add(final Map<K, Integer> counts, final K key, final int delta) {
        final Integer n = counts.merge(key, delta, Integer::sum);
        if (n == 0) {
            counts.remove(key);
            return 0;
        }
        return n;
    }

    /** The specs of {@code table}'s service ports, in id order, without copying. */
    private static List<Object> specs(final ServiceTable table) {
        return new AbstractList<>() {
            @Override
            public Object get(final int index) {
                return table.byId(index).spec();
            }

            @Override
            public int size() {
                return table.size();
            }
        };
    }
}
