package dev.ferry.control.compile;

import dev.ferry.control.config.NodeConfig;
import dev.ferry.control.manifest.ManifestError;
import dev.ferry.control.manifest.ManifestSet;
import dev.ferry.control.model.EndpointSlice;
import dev.ferry.control.model.Service;
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
 */
public final class ServicePortCompiler {
    private final NodeConfig config;
    /** This node's topology zone, for hints (null: none). */
    private final String zone;

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
        final Map<String, List<EndpointSlice>> slicesByService = new HashMap<>();
        for (final EndpointSlice slice : manifests.endpointSlices()) {
            slicesByService.computeIfAbsent(slice.ref().namespace() + "/" + slice.serviceName(), k -> new ArrayList<>()).add(slice);
        }
        slicesByService.values().forEach(list -> list.sort(Comparator.comparing(s -> s.ref().name())));

        final List<ServicePortSpec> ports = new ArrayList<>();
        final List<ManifestError> errors = new ArrayList<>();
        final Map<Integer, Service> clusterIpOwners = new HashMap<>();
        final Map<String, Frontend> frontends = new HashMap<>();
        for (final Service service : manifests.services()) {
            if (!service.hasDataPath()) {
                continue;
            }
            final List<Frontend> claims = frontends(service);
            final ManifestError clash = clash(service, claims, clusterIpOwners, frontends);
            if (clash != null) {
                errors.add(clash);
                continue;
            }
            service.clusterIps().forEach(ip -> clusterIpOwners.put(ip, service));
            claims.forEach(claim -> frontends.putIfAbsent(claim.key(), claim));
            final List<EndpointSlice> slices = slicesByService.getOrDefault(service.ref().key(), List.of());
            for (final ServicePort port : service.ports()) {
                ports.add(toSpec(service, port, endpoints(port, slices)));
            }
        }
        return new CompiledServices(ports, errors);
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
