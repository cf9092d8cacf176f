package dev.ferry.control.dns;

import dev.ferry.control.model.ChangedSpan;
import dev.ferry.control.model.EndpointSlice;
import dev.ferry.control.model.ObjectRef;
import dev.ferry.control.model.Service;
import dev.ferry.control.model.ServicePort;
import dev.ferry.control.model.ServiceType;
import dev.ferry.control.model.SliceEndpoint;
import dev.ferry.control.model.SlicePort;
import dev.ferry.dataplane.service.Protocol;
import dev.ferry.dataplane.service.ServicePortSpec;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * The facts DNS answers from, one entry per Service, taken from the same objects (after
 * allocation, endpoint derivation and the compiler's checks) that the dataplane's service ports
 * are compiled from, and delivered beside them in every desired state. It holds what the
 * dataplane's {@code ServicePortSpec}s do not: headless and ExternalName services (no data path,
 * so no spec), ExternalName targets, endpoint hostnames. Immutable; the DNS server turns it into
 * a {@link Zone} for its cluster domain.
 *
 * <p>Which services are here: every ClusterIP, NodePort and LoadBalancer service the compiler
 * served (a service it rejected, say for a ClusterIP another one holds, has no name either, so
 * DNS never names an address the dataplane does not serve), every headless service, and every
 * ExternalName service. The entries come in the order of the services given (file order in
 * manifest mode, age in API mode): a zone does not depend on it, and not sorting them keeps a
 * change to one of 10,000 services from costing a sort of all of them.
 */
public record ServiceNames(List<Entry> entries) {
    public static final ServiceNames EMPTY = new ServiceNames(List.of());

    public ServiceNames {
        entries = List.copyOf(entries);
    }

    /** What a service's name resolves to. */
    public enum Kind {
        /** A records for its ClusterIPs, SRV for its named ports, PTR for each ClusterIP. */
        CLUSTER_IP,
        /** A records for its ready endpoints, SRV per ready endpoint and named port, a name and PTR per endpoint. */
        HEADLESS,
        /** A CNAME to spec.externalName. */
        EXTERNAL_NAME
    }

    /**
     * One service.
     *
     * @param namespace    metadata.namespace
     * @param name         metadata.name
     * @param kind         which records it has
     * @param clusterIps   IPv4 ClusterIPs (CLUSTER_IP only)
     * @param ports        spec.ports (for CLUSTER_IP's SRV records)
     * @param endpoints    the ready endpoints (HEADLESS only), one per address
     * @param externalName the CNAME target (EXTERNAL_NAME only), lower case without a trailing dot
     */
    public record Entry(String namespace, String name, Kind kind, List<Integer> clusterIps, List<Port> ports,
                        List<Endpoint> endpoints, String externalName) {
        public Entry {
            clusterIps = List.copyOf(clusterIps);
            ports = List.copyOf(ports);
            endpoints = List.copyOf(endpoints);
        }
    }

    /**
     * A port: a service's spec.ports entry, or an endpoint's port from its slice.
     *
     * @param name     "" when unnamed (no SRV record)
     * @param protocol TCP, UDP or SCTP
     * @param port     the number an SRV record gives
     */
    public record Port(String name, Protocol protocol, int port) {
    }

    /**
     * A ready endpoint of a headless service.
     *
     * @param address  IPv4 address ({@link dev.ferry.dataplane.addr.Ipv4} int)
     * @param hostname endpoints[].hostname, null when it has none (the zone then names it by its address)
     * @param ports    its slices' ports, for the SRV records
     */
    public record Endpoint(int address, String hostname, List<Port> ports) {
        public Endpoint {
            ports = List.copyOf(ports);
        }
    }

    /**
     * The names of a source's services, kept across calls: a source recomputes its state at
     * every change (the manifest pipeline, the API source), and a service whose instance, served
     * state and (headless) slices are those of the last call keeps its entry, so that a change to
     * one of 10,000 services names one again, not 10,000. The services are lined up with the last
     * call's by identity ({@link ChangedSpan}), without a map; a first call names every one. Not
     * thread-safe.
     */
    public static final class Incremental {
        /** What one service was named from, and its entry (null when it has no name). */
        private record Named(boolean served, List<EndpointSlice> slices, Entry entry) {
        }

        private List<Service> lastServices = List.of();
        private List<Named> lastNamed = List.of();

        /**
         * @param services the services as compiled (allocated), data path or not
         * @param slicesOf the slices of each service, in the order of {@code services}
         * @param compiled the compiler's service ports: a service with a data path is named only when it has some
         */
        public ServiceNames of(final List<Service> services, final List<List<EndpointSlice>> slicesOf,
                               final List<ServicePortSpec> compiled) {
            if (slicesOf.size() != services.size()) {
                throw new IllegalArgumentException("one list of slices per service: " + slicesOf.size() + " for " + services.size());
            }
            final boolean[] served = served(services, compiled);
            final ChangedSpan span = ChangedSpan.between(lastServices, services);
            final List<Named> named = new ArrayList<>(services.size());
            final List<Entry> entries = new ArrayList<>(services.size());
            for (int i = 0; i < services.size(); i++) {
                final Service service = services.get(i);
                final List<EndpointSlice> slices = service.headless() ? slicesOf.get(i) : List.of(); // only headless names use them
                final Named before = i < span.start() || i >= span.newEnd() ? lastNamed.get(span.oldIndex(i)) : null;
                final Named now = before != null && before.served() == served[i] && sameSlices(before.slices(), slices)
                    ? before : new Named(served[i], slices, entry(service, served[i], slices));
                named.add(now);
                if (now.entry() != null) {
                    entries.add(now.entry());
                }
            }
            lastServices = List.copyOf(services);
            lastNamed = named;
            return new ServiceNames(entries);
        }

        private static boolean sameSlices(final List<EndpointSlice> a, final List<EndpointSlice> b) {
            if (a.size() != b.size()) {
                return false;
            }
            for (int i = 0; i < a.size(); i++) {
                if (a.get(i) != b.get(i) && !a.get(i).equals(b.get(i))) {
                    return false;
                }
            }
            return true;
        }
    }

    /**
     * Which services have ports among {@code compiled}. The compiler emits each accepted
     * service's ports together and in service order, so one walk over both lists tells; should
     * a list ever come in another order, the names are looked up instead.
     */
    private static boolean[] served(final List<Service> services, final List<ServicePortSpec> compiled) {
        final boolean[] served = new boolean[services.size()];
        int next = 0;
        for (int i = 0; i < services.size() && next < compiled.size(); i++) {
            final ObjectRef ref = services.get(i).ref();
            while (next < compiled.size() && compiled.get(next).name().equals(ref.name())
                && compiled.get(next).namespace().equals(ref.namespace())) {
                served[i] = true;
                next++;
            }
        }
        if (next == compiled.size()) {
            return served;
        }
        final Set<String> keys = new HashSet<>();
        for (final ServicePortSpec port : compiled) {
            keys.add(port.namespace() + "/" + port.name());
        }
        for (int i = 0; i < services.size(); i++) {
            served[i] = keys.contains(services.get(i).ref().key());
        }
        return served;
    }

    /** One service's entry: null for a service with a data path that the compiler did not serve. */
    private static Entry entry(final Service service, final boolean served, final List<EndpointSlice> slices) {
        final String namespace = service.ref().namespace();
        final String name = service.ref().name();
        if (service.type() == ServiceType.ExternalName) {
            return new Entry(namespace, name, Kind.EXTERNAL_NAME, List.of(), List.of(), List.of(), service.externalName());
        }
        if (service.headless()) {
            return new Entry(namespace, name, Kind.HEADLESS, List.of(), ports(service), readyEndpoints(slices), null);
        }
        return served ? new Entry(namespace, name, Kind.CLUSTER_IP, service.clusterIps(), ports(service), List.of(), null) : null;
    }

    private static List<Port> ports(final Service service) {
        final List<Port> ports = new ArrayList<>(service.ports().size());
        for (final ServicePort port : service.ports()) {
            ports.add(new Port(port.name(), port.protocol(), port.port()));
        }
        return ports;
    }

    /**
     * The ready endpoints of a headless service's slices, one per address (the first slice's
     * hostname wins; the ports of every slice holding it are merged), in address order so that
     * equal inputs give equal names whatever the slices' order.
     */
    private static List<Endpoint> readyEndpoints(final List<EndpointSlice> slices) {
        final Map<Integer, String> hostnames = new LinkedHashMap<>();
        final Map<Integer, List<Port>> ports = new HashMap<>();
        final List<EndpointSlice> ordered = new ArrayList<>(slices);
        ordered.sort(Comparator.comparing(s -> s.ref().name()));
        for (final EndpointSlice slice : ordered) {
            for (final SliceEndpoint endpoint : slice.endpoints()) {
                if (!endpoint.ready()) {
                    continue;
                }
                if (!hostnames.containsKey(endpoint.address())) {
                    hostnames.put(endpoint.address(), endpoint.hostname());
                }
                final List<Port> own = ports.computeIfAbsent(endpoint.address(), k -> new ArrayList<>());
                for (final SlicePort port : slice.ports()) {
                    final Port p = new Port(port.name(), port.protocol(), port.port());
                    if (port.port() != 0 && !own.contains(p)) {
                        own.add(p);
                    }
                }
            }
        }
        final List<Endpoint> endpoints = new ArrayList<>(hostnames.size());
        hostnames.forEach((address, hostname) -> endpoints.add(new Endpoint(address, hostname, ports.get(address))));
        endpoints.sort(Comparator.comparing(e -> Integer.toUnsignedLong(e.address())));
        return endpoints;
    }
}
