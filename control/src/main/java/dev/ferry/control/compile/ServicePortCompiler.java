package dev.ferry.control.compile;

import dev.ferry.control.config.NodeConfig;
import dev.ferry.control.manifest.ManifestError;
import dev.ferry.control.manifest.ManifestSet;
import dev.ferry.control.model.ChangedSpan;
import dev.ferry.control.model.EndpointSlice;
import dev.ferry.control.model.Service;
import dev.ferry.control.model.ServiceName;
import dev.ferry.control.model.ServicePort;
import dev.ferry.control.model.SliceEndpoint;
import dev.ferry.control.model.SessionAffinity;
import dev.ferry.control.model.SlicePort;
import dev.ferry.control.model.TrafficPolicy;
import dev.ferry.dataplane.addr.Ipv4;
import dev.ferry.dataplane.service.EndpointSpec;
import dev.ferry.dataplane.service.Protocol;
import dev.ferry.dataplane.service.ServicePortSpec;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.IdentityHashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Compiles validated Services and EndpointSlices into the dataplane's {@link ServicePortSpec}s,
 * one per service port, the way kube-proxy's change trackers do:
 * <ul>
 *   <li>a slice belongs to the Service named by its kubernetes.io/service-name label in its namespace;</li>
 *   <li>a slice port serves the service port with the same name and protocol, and its number is the
 *       endpoints' port (targetPort is the EndpointSlice controller's business, not the proxy's);</li>
 *   <li>the endpoints of several slices merge; the same address and port twice counts once;</li>
 *   <li>an endpoint is local when its nodeName is this node's name;</li>
 *   <li>topology hints decide which endpoints the cluster set may use on this node ({@link Topology}).</li>
 * </ul>
 * It also does the API server's checks that need the node config: a given nodePort must lie in
 * the node port range and not be taken, a ClusterIP must lie in a service CIDR and not be taken;
 * and it makes sure that no two services claim the same address, protocol and port through any
 * frontend (ClusterIP, externalIP, LoadBalancer IP, node port, health check node port), which the
 * dataplane's service table would refuse as a whole. A Service failing one is rejected whole; the
 * first one read keeps a contested port or address.
 *
 * <p>A compiler remembers its last compile, so that one kept across reloads does at a one-service
 * change work for that service only: a Service that is the very instance compiled last time (as
 * the objects of a manifest file that did not change are) keeps its frontends, and its specs
 * too while its slices are the same; and when the last compile rejected nothing, only the new and
 * changed services are checked for clashes ({@link #compileChanges}). The result is always what
 * compiling everything afresh gives. Not thread-safe: one caller.
 */
public final class ServicePortCompiler {
    private final NodeConfig config;
    /** This node's topology zone, for hints (null: none). */
    private final String zone;
    /**
     * The last compile: its services, what each compiled to, and the frontends the accepted
     * ones hold. A compiler kept across reloads reuses them; see {@link #compileChanges}.
     */
    private List<Service> lastServices = List.of();
    /** Element i: what {@code lastServices.get(i)} compiled to, or null (no data path, or rejected). */
    private List<Compiled> last = List.of();
    private boolean lastClean;
    private Map<Integer, Service> clusterIpOwners = new HashMap<>();
    private Map<String, Frontend> frontends = new HashMap<>();

    /** A compiler for manifest mode: the zone is the node config's. */
    public ServicePortCompiler(final NodeConfig config) {
        this(config, config.zone());
    }

    /** @param zone this node's zone (API mode: its Node's topology.kubernetes.io/zone label), null when it has none */
    public ServicePortCompiler(final NodeConfig config, final String zone) {
        this.config = config;
        this.zone = zone;
    }

    public CompiledServices compile(final ManifestSet manifests) {
        return compile(manifests.services(), slicesOf(manifests.services(), manifests.endpointSlices()));
    }

    /** Element i: the slices of {@code services.get(i)} (those labelled with its name, in its namespace), in the order given. */
    public static List<List<EndpointSlice>> slicesOf(final List<Service> services, final List<EndpointSlice> slices) {
        final Map<ServiceName, List<EndpointSlice>> slicesByService = new HashMap<>();
        for (final EndpointSlice slice : slices) {
            slicesByService.computeIfAbsent(ServiceName.of(slice), k -> new ArrayList<>()).add(slice);
        }
        final List<List<EndpointSlice>> slicesOf = new ArrayList<>(services.size());
        for (final Service service : services) {
            slicesOf.add(slicesByService.getOrDefault(ServiceName.of(service), List.of()));
        }
        return slicesOf;
    }

    /**
     * Compiles services whose slices are already matched to them, as
     * {@link dev.ferry.control.endpoints.EndpointsController#slicesOf} does: element i of
     * {@code slicesOf} holds the slices of {@code services.get(i)}. The same as
     * {@link #compile(ManifestSet)} with those slices, without matching them again.
     */
    public CompiledServices compile(final List<Service> services, final List<List<EndpointSlice>> slicesOf) {
        if (slicesOf.size() != services.size()) {
            throw new IllegalArgumentException("one list of slices per service: " + slicesOf.size() + " for " + services.size());
        }
        final boolean clean = lastClean;
        lastClean = false; // until this compile completes: one that throws leaves no half-updated frontends behind
        final List<Compiled> compiled = new ArrayList<>(services.size());
        CompiledServices result = clean ? compileChanges(services, slicesOf, compiled) : null;
        if (result == null) {
            compiled.clear();
            result = compileAll(services, slicesOf, compiled);
        }
        lastServices = List.copyOf(services); // the same list when it is immutable already
        last = compiled;
        lastClean = result.errors().isEmpty();
        return result;
    }

    /**
     * What one Service compiled to, with what it was compiled from: the very Service instance
     * and its slices. Its frontends depend on the Service alone, its specs also on the slices.
     */
    private record Compiled(Service service, List<EndpointSlice> slices, List<Frontend> claims, List<ServicePortSpec> specs) {
    }

    /** {@code service}'s compiled form, reusing {@code before} (what the last compile made of it, or null) where its inputs are the same. */
    private Compiled compiled(final Service service, final List<EndpointSlice> serviceSlices, final Compiled before) {
        final List<EndpointSlice> slices = byName(serviceSlices);
        if (before != null && before.service() == service) {
            if (sameInstances(before.slices(), slices)) {
                return before; // the slices of a file (an informer object) that did not change are the same instances
            }
            if (before.slices().equals(slices)) {
                // equal slices read anew (an informer's relist): keep the specs, remember the new
                // instances, so that the next compile finds them by identity instead of comparing
                // every endpoint again
                return new Compiled(service, List.copyOf(slices), before.claims(), before.specs());
            }
        }
        final List<Frontend> claims = before != null && before.service() == service ? before.claims() : frontends(service);
        final List<ServicePortSpec> specs = new ArrayList<>(service.ports().size());
        for (final ServicePort port : service.ports()) {
            specs.add(toSpec(service, port, endpoints(port, slices)));
        }
        return new Compiled(service, List.copyOf(slices), claims, List.copyOf(specs));
    }

    /** Whether the two lists hold the very same objects in the same order: no deep comparison of unchanged slices. */
    private static boolean sameInstances(final List<EndpointSlice> a, final List<EndpointSlice> b) {
        if (a.size() != b.size()) {
            return false;
        }
        for (int i = 0; i < a.size(); i++) {
            if (a.get(i) != b.get(i)) {
                return false;
            }
        }
        return true;
    }

    /** The slices of one service in name order: the first slice's version of an endpoint listed twice is the one used. */
    private static List<EndpointSlice> byName(final List<EndpointSlice> slices) {
        if (slices.size() < 2) {
            return slices;
        }
        final List<EndpointSlice> sorted = new ArrayList<>(slices);
        sorted.sort(Comparator.comparing(s -> s.ref().name()));
        return sorted;
    }

    /**
     * Every service in order: the first one read keeps a contested frontend. Leaves the frontends
     * of the accepted services in {@link #frontends} and {@link #clusterIpOwners} for the next
     * compile's {@link #compileChanges}.
     */
    private CompiledServices compileAll(final List<Service> services, final List<List<EndpointSlice>> slicesOf,
                                        final List<Compiled> compiled) {
        final Map<Service, Compiled> before = new IdentityHashMap<>(last.size());
        last.forEach(c -> {
            if (c != null) {
                before.put(c.service(), c);
            }
        });
        final List<ServicePortSpec> ports = new ArrayList<>();
        final List<ManifestError> errors = new ArrayList<>();
        clusterIpOwners = new HashMap<>();
        frontends = new HashMap<>();
        for (int i = 0; i < services.size(); i++) {
            final Service service = services.get(i);
            compiled.add(null); // until accepted
            if (!service.hasDataPath()) {
                continue;
            }
            final Compiled c = compiled(service, slicesOf.get(i), before.get(service));
            final ManifestError clash = clash(service, c.claims(), clusterIpOwners, frontends);
            if (clash != null) {
                errors.add(clash);
                continue;
            }
            claim(c);
            compiled.set(i, c);
            ports.addAll(c.specs());
        }
        return new CompiledServices(ports, errors);
    }

    /**
     * The same result as {@link #compileAll}, when the last compile had no error, judging again
     * only the services in the span where the list changed ({@link ChangedSpan}: new ones, new
     * versions, and whatever else lies between them):
     * <ul>
     *   <li>the services before and after the span are the very instances accepted last time, so
     *       their frontends do not clash with each other; when no service in the span claims any
     *       of their frontends (checked first), they are all accepted again, whatever their order,
     *       and keep their specs (new ones only where their slices changed);</li>
     *   <li>a service in the span then meets, of what came before it, only the frontends of the
     *       span's services, as in a full compile.</li>
     * </ul>
     * Returns null when that does not hold (one in the span claims a frontend of one outside it,
     * or one instance is listed twice): a full compile decides, in file order.
     */
    private CompiledServices compileChanges(final List<Service> services, final List<List<EndpointSlice>> slicesOf,
                                            final List<Compiled> compiled) {
        final ChangedSpan span = ChangedSpan.between(lastServices, services);
        final Map<Service, Compiled> replaced = new IdentityHashMap<>();
        for (int i = span.start(); i < span.oldEnd(); i++) {
            final Compiled before = last.get(i);
            if (before != null) {
                release(before); // removed, replaced by a new version, or judged again with those
                replaced.put(before.service(), before);
            }
        }
        for (int i = span.start(); i < span.newEnd(); i++) {
            final Service service = services.get(i);
            if (!service.hasDataPath()) {
                continue;
            }
            final Compiled before = replaced.get(service);
            for (final Frontend claim : before != null ? before.claims() : frontends(service)) {
                if (frontends.containsKey(claim.key())) {
                    return null;
                }
            }
            for (final int ip : service.clusterIps()) {
                if (clusterIpOwners.containsKey(ip)) {
                    return null;
                }
            }
        }
        final List<ServicePortSpec> ports = new ArrayList<>();
        final List<ManifestError> errors = new ArrayList<>();
        for (int i = 0; i < services.size(); i++) {
            final Service service = services.get(i);
            compiled.add(null); // until accepted
            if (!service.hasDataPath()) {
                continue;
            }
            final boolean judged = i >= span.start() && i < span.newEnd();
            final Compiled c = compiled(service, slicesOf.get(i), judged ? replaced.get(service) : last.get(span.oldIndex(i)));
            if (judged) {
                final ManifestError clash = clash(service, c.claims(), clusterIpOwners, frontends);
                if (clash != null) {
                    errors.add(clash);
                    continue;
                }
                claim(c);
            }
            compiled.set(i, c);
            ports.addAll(c.specs());
        }
        return new CompiledServices(ports, errors);
    }

    /** Registers an accepted service's frontends: the first claim of a key keeps it. */
    private void claim(final Compiled c) {
        c.service().clusterIps().forEach(ip -> clusterIpOwners.put(ip, c.service()));
        c.claims().forEach(claim -> frontends.putIfAbsent(claim.key(), claim));
    }

    /** Forgets the frontends a service claimed. */
    private void release(final Compiled c) {
        c.service().clusterIps().forEach(ip -> clusterIpOwners.remove(ip, c.service()));
        c.claims().forEach(claim -> frontends.remove(claim.key(), claim));
    }

    /**
     * One (address, protocol, port) the dataplane will route to a service: the same key twice
     * across services would make the service table ambiguous.
     *
     * @param key   "10.96.0.10:53/UDP", or "node:30080/TCP" for the node ports, which all node addresses share
     * @param owner the service
     * @param field the field that claims it
     * @param what  "the ClusterIP", "an externalIP", ... for messages
     */
    private record Frontend(String key, Service owner, String field, String what) {
    }

    private static List<Frontend> frontends(final Service service) {
        final List<Frontend> claims = new ArrayList<>();
        for (int p = 0; p < service.ports().size(); p++) {
            final ServicePort port = service.ports().get(p);
            final String suffix = ":" + port.port() + "/" + port.protocol();
            for (int i = 0; i < service.clusterIps().size(); i++) {
                claims.add(new Frontend(Ipv4.format(service.clusterIps().get(i)) + suffix, service,
                    i == 0 ? "spec.clusterIP" : "spec.clusterIPs[" + i + "]", "the ClusterIP"));
            }
            for (int i = 0; i < service.externalIps().size(); i++) {
                claims.add(new Frontend(Ipv4.format(service.externalIps().get(i)) + suffix, service,
                    "spec.externalIPs[" + i + "]", "an externalIP"));
            }
            for (int i = 0; i < service.loadBalancerIps().size(); i++) {
                claims.add(new Frontend(Ipv4.format(service.loadBalancerIps().get(i)) + suffix, service,
                    "status.loadBalancer.ingress[" + i + "].ip", "a LoadBalancer IP"));
            }
            if (port.nodePort() != 0) {
                claims.add(new Frontend("node:" + port.nodePort() + "/" + port.protocol(), service,
                    "spec.ports[" + p + "].nodePort", "the node port"));
            }
        }
        if (service.healthCheckNodePort() != 0) {
            claims.add(new Frontend("node:" + service.healthCheckNodePort() + "/" + Protocol.TCP, service,
                "spec.healthCheckNodePort", "the health check node port"));
        }
        return claims;
    }

    private ManifestError clash(final Service service, final List<Frontend> claims, final Map<Integer, Service> clusterIpOwners,
                                final Map<String, Frontend> frontends) {
        final String object = service.ref().describe();
        final String file = service.ref().file();
        for (int i = 0; i < service.ports().size(); i++) {
            final ServicePort port = service.ports().get(i);
            if (port.nodePort() == 0) {
                continue;
            }
            if (port.nodePort() < config.nodePortMin() || port.nodePort() > config.nodePortMax()) {
                return new ManifestError(file, object, "spec.ports[" + i + "].nodePort", port.nodePort()
                    + " is outside the node's nodePortRange " + config.nodePortRange());
            }
        }
        for (int i = 0; i < service.clusterIps().size(); i++) {
            final int ip = service.clusterIps().get(i);
            final String field = i == 0 ? "spec.clusterIP" : "spec.clusterIPs[" + i + "]";
            final String problem = config.clusterIpProblem(ip);
            if (problem != null) {
                return new ManifestError(file, object, field, problem);
            }
            final Service owner = clusterIpOwners.get(ip);
            if (owner != null) {
                return new ManifestError(file, object, field, Ipv4.format(ip) + " is already the ClusterIP of " + owner.ref());
            }
        }
        final Map<String, Frontend> own = new HashMap<>();
        for (final Frontend claim : claims) {
            final Frontend first = own.putIfAbsent(claim.key(), claim);
            if (first != null && claim.key().startsWith("node:") && !first.field().equals(claim.field())) {
                return new ManifestError(file, object, claim.field(), claim.key().substring("node:".length()) + " is already "
                    + first.what() + " of " + first.field());
            }
            final Frontend owner = frontends.get(claim.key());
            if (owner != null) {
                final String value = claim.key().startsWith("node:") ? claim.key().substring("node:".length()) : claim.key();
                return new ManifestError(file, object, claim.field(), value + " is already " + owner.what() + " of "
                    + owner.owner().ref());
            }
        }
        return null;
    }

    private List<EndpointSpec> endpoints(final ServicePort port, final List<EndpointSlice> slices) {
        // keyed by address and port (the low 16 bits), the first slice's version of each
        final Map<Long, SliceEndpoint> endpoints = new LinkedHashMap<>();
        for (final EndpointSlice slice : slices) {
            for (final SlicePort slicePort : slice.ports()) {
                if (slicePort.port() == 0 || !slicePort.name().equals(port.name()) || slicePort.protocol() != port.protocol()) {
                    continue;
                }
                for (final SliceEndpoint endpoint : slice.endpoints()) {
                    final long key = ((long) endpoint.address() << 16) | slicePort.port();
                    endpoints.putIfAbsent(key, endpoint);
                }
            }
        }
        final Topology.Mode mode = Topology.mode(endpoints.values(), config.nodeName(), zone);
        final List<EndpointSpec> specs = new ArrayList<>(endpoints.size());
        endpoints.forEach((key, endpoint) -> specs.add(new EndpointSpec(endpoint.address(), (int) (key & 0xFFFF), endpoint.ready(),
            endpoint.serving(), endpoint.terminating(), config.nodeName().equals(endpoint.nodeName()),
            Topology.available(endpoint, mode, config.nodeName(), zone))));
        return List.copyOf(specs);
    }

    private static ServicePortSpec toSpec(final Service service, final ServicePort port, final List<EndpointSpec> endpoints) {
        return new ServicePortSpec(
            service.ref().namespace(),
            service.ref().name(),
            port.name(),
            port.protocol(),
            port.port(),
            port.nodePort(),
            service.clusterIps(),
            service.externalIps(),
            service.loadBalancerIps(),
            service.loadBalancerSourceRanges(),
            service.externalTrafficPolicy() == TrafficPolicy.Local,
            service.internalTrafficPolicy() == TrafficPolicy.Local,
            service.sessionAffinity() == SessionAffinity.ClientIP,
            service.affinityTimeoutSeconds(),
            service.healthCheckNodePort(),
            endpoints);
    }
}
