package dev.ferry.control.source;

import dev.ferry.control.model.ChangedSpan;
import dev.ferry.dataplane.service.EndpointSpec;
import dev.ferry.dataplane.service.ServicePortSpec;

import java.util.HashMap;
import java.util.HashSet;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;

/**
 * Counts what changed between two lists of service ports, per Service (namespace/name), the
 * unit kube-proxy's change trackers count in: a service changed when any of its ports was
 * added, removed or changed apart from its endpoints; its endpoints changed when the set of
 * endpoints (with their conditions) of any port differs. Order does not matter.
 */
public final class ChangeCounter {
    private ChangeCounter() {
    }

    /** Changes from {@code before} to {@code after}: [services, endpoints]. */
    public static int[] count(final List<ServicePortSpec> before, final List<ServicePortSpec> after) {
        // Only services with a port spec in one list and not (equal) in the other can have
        // changed: find those first and compare only them below. A source that reuses the specs
        // of unchanged services hands the very same instances again, mostly in the same places:
        // what lines up by identity from both ends pairs off at once (ChangedSpan), the rest is
        // paired off by identity, which costs no deep hash, and only what is left is hashed.
        final ChangedSpan span = ChangedSpan.between(before, after);
        final List<ServicePortSpec> beforeSpan = before.subList(span.start(), span.oldEnd());
        final Map<ServicePortSpec, Integer> same = new IdentityHashMap<>(beforeSpan.size());
        for (final ServicePortSpec spec : beforeSpan) {
            same.merge(spec, 1, Integer::sum);
        }
        final Map<ServicePortSpec, Integer> unmatched = new HashMap<>();
        for (final ServicePortSpec spec : after.subList(span.start(), span.newEnd())) {
            final Integer n = same.get(spec);
            if (n == null) {
                unmatched.merge(spec, -1, Integer::sum);
            } else if (n == 1) {
                same.remove(spec);
            } else {
                same.put(spec, n - 1);
            }
        }
        same.forEach((spec, n) -> unmatched.merge(spec, n, Integer::sum));
        final Set<String> touched = new HashSet<>();
        final Set<String> touchedNames = new HashSet<>();
        unmatched.forEach((spec, balance) -> {
            if (balance != 0) {
                touched.add(spec.namespace() + "/" + spec.name());
                touchedNames.add(spec.name());
            }
        });
        if (touched.isEmpty()) {
            return new int[] {0, 0};
        }
        final Map<String, Map<String, ServicePortSpec>> old = byService(before, touched, touchedNames);
        final Map<String, Map<String, ServicePortSpec>> now = byService(after, touched, touchedNames);
        final Set<String> names = new HashSet<>(old.keySet());
        names.addAll(now.keySet());
        int services = 0;
        int endpoints = 0;
        for (final String name : names) {
            final Map<String, ServicePortSpec> a = old.getOrDefault(name, Map.of());
            final Map<String, ServicePortSpec> b = now.getOrDefault(name, Map.of());
            if (a.equals(b)) {
                continue; // the common case by far: nothing of this service changed
            }
            if (!withoutEndpoints(a).equals(withoutEndpoints(b))) {
                services++;
            }
            if (!endpoints(a).equals(endpoints(b))) {
                endpoints++;
            }
        }
        return new int[] {services, endpoints};
    }

    /**
     * The ports of the services named in {@code names} ("namespace/name"), by service and then
     * port; {@code bareNames} (their names alone) spare building the key of every other spec.
     */
    private static Map<String, Map<String, ServicePortSpec>> byService(final List<ServicePortSpec> specs, final Set<String> names,
                                                                      final Set<String> bareNames) {
        final Map<String, Map<String, ServicePortSpec>> services = new HashMap<>();
        for (final ServicePortSpec spec : specs) {
            if (!bareNames.contains(spec.name())) {
                continue;
            }
            final String name = spec.namespace() + "/" + spec.name();
            if (names.contains(name)) {
                services.computeIfAbsent(name, k -> new TreeMap<>()).put(spec.portName() + "/" + spec.protocol() + "/" + spec.port(), spec);
            }
        }
        return services;
    }

    private static Map<String, ServicePortSpec> withoutEndpoints(final Map<String, ServicePortSpec> ports) {
        final Map<String, ServicePortSpec> stripped = new HashMap<>();
        ports.forEach((key, s) -> stripped.put(key, new ServicePortSpec(s.namespace(), s.name(), s.portName(), s.protocol(),
            s.port(), s.nodePort(), s.clusterIps(), s.externalIps(), s.loadBalancerIps(), s.loadBalancerSourceRanges(),
            s.externalPolicyLocal(), s.internalPolicyLocal(), s.affinityClientIp(), s.affinityTimeoutSeconds(),
            s.healthCheckNodePort(), List.of())));
        return stripped;
    }

    /** Endpoints by port name and protocol: a port whose number changed but whose endpoints did not is not an endpoint change. */
    private static Map<String, Set<EndpointSpec>> endpoints(final Map<String, ServicePortSpec> ports) {
        final Map<String, Set<EndpointSpec>> endpoints = new HashMap<>();
        for (final ServicePortSpec spec : ports.values()) {
            if (!spec.endpoints().isEmpty()) {
                endpoints.computeIfAbsent(spec.portName() + "/" + spec.protocol(), k -> new HashSet<>()).addAll(spec.endpoints());
            }
        }
        return endpoints;
    }
}
