package dev.ferry.control.model;

import dev.ferry.dataplane.addr.Ipv4Cidr;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * A v1 Service as Ferry uses it, validated and with the API's defaults applied. Addresses are
 * {@link dev.ferry.dataplane.addr.Ipv4} ints; IPv6 entries of dual-stack services are left out.
 *
 * @param ref                           file, namespace and name
 * @param type                          spec.type (ClusterIP when absent)
 * @param headless                      spec.clusterIP is "None": DNS only, no data path
 * @param clusterIps                    spec.clusterIPs (or spec.clusterIP), IPv4 only; empty when not allocated
 * @param ports                         spec.ports
 * @param externalIps                   spec.externalIPs
 * @param loadBalancerSourceRanges      spec.loadBalancerSourceRanges
 * @param loadBalancerIps               status.loadBalancer.ingress[].ip
 * @param externalTrafficPolicy         Cluster when absent
 * @param internalTrafficPolicy         Cluster when absent
 * @param sessionAffinity               None when absent
 * @param affinityTimeoutSeconds        sessionAffinityConfig.clientIP.timeoutSeconds (10800 when absent)
 * @param healthCheckNodePort           spec.healthCheckNodePort, 0 when none
 * @param selector                      spec.selector; empty when absent, and then the Service's
 *                                      endpoints are written by hand rather than derived from pods
 * @param publishNotReadyAddresses      spec.publishNotReadyAddresses: derived endpoints are ready
 *                                      whatever their pods' readiness
 * @param allocateLoadBalancerNodePorts spec.allocateLoadBalancerNodePorts (true when absent)
 * @param clusterIpUnset                neither spec.clusterIP nor spec.clusterIPs gave an address,
 *                                      the service has a data path and wants the IPv4 family:
 *                                      manifest mode allocates one
 * @param trafficDistribution           spec.trafficDistribution (PreferClose, PreferSameZone,
 *                                      PreferSameNode), null when absent: the endpoint slice
 *                                      controller's input for topology hints, which the proxy reads
 * @param externalName                  spec.externalName of an ExternalName service, lower case without a
 *                                      trailing dot (the name its DNS CNAME points to); null for other types
 */
public record Service(
    ObjectRef ref,
    ServiceType type,
    boolean headless,
    List<Integer> clusterIps,
    List<ServicePort> ports,
    List<Integer> externalIps,
    List<Ipv4Cidr> loadBalancerSourceRanges,
    List<Integer> loadBalancerIps,
    TrafficPolicy externalTrafficPolicy,
    TrafficPolicy internalTrafficPolicy,
    SessionAffinity sessionAffinity,
    int affinityTimeoutSeconds,
    int healthCheckNodePort,
    Map<String, String> selector,
    boolean publishNotReadyAddresses,
    boolean allocateLoadBalancerNodePorts,
    boolean clusterIpUnset,
    String trafficDistribution,
    String externalName) implements KubeObject {

    /** The trafficDistribution values the API accepts. */
    public static final List<String> TRAFFIC_DISTRIBUTIONS = List.of("PreferClose", "PreferSameZone", "PreferSameNode");

    public Service {
        clusterIps = List.copyOf(clusterIps);
        ports = List.copyOf(ports);
        externalIps = List.copyOf(externalIps);
        loadBalancerSourceRanges = List.copyOf(loadBalancerSourceRanges);
        loadBalancerIps = List.copyOf(loadBalancerIps);
        selector = Map.copyOf(selector);
    }

    /** ExternalName and headless services are names only: no packet is ever sent to them. */
    public boolean hasDataPath() {
        return type != ServiceType.ExternalName && !headless;
    }

    /** True when the endpoints controller derives this Service's endpoints from the pods its selector matches. */
    public boolean hasSelector() {
        return !selector.isEmpty() && type != ServiceType.ExternalName;
    }

    /** The API server allocates node ports for NodePort services, and for LoadBalancer ones unless told not to. */
    public boolean allocatesNodePorts() {
        return type == ServiceType.NodePort || type == ServiceType.LoadBalancer && allocateLoadBalancerNodePorts;
    }

    /** kube-proxy serves a health check node port for LoadBalancer services with externalTrafficPolicy Local. */
    public boolean needsHealthCheckNodePort() {
        return type == ServiceType.LoadBalancer && externalTrafficPolicy == TrafficPolicy.Local;
    }

    /** This service with allocated values filled in; {@code clusterIpUnset} becomes false once it has a ClusterIP. */
    public Service withAllocations(final List<Integer> newClusterIps, final List<Integer> nodePorts,
                                   final int newHealthCheckNodePort) {
        if (nodePorts.size() != ports.size()) {
            throw new IllegalArgumentException("one node port per service port: " + nodePorts + " for " + ports);
        }
        final List<ServicePort> newPorts = new ArrayList<>(ports.size());
        for (int i = 0; i < ports.size(); i++) {
            newPorts.add(ports.get(i).withNodePort(nodePorts.get(i)));
        }
        return new Service(ref, type, headless, newClusterIps, newPorts, externalIps, loadBalancerSourceRanges,
            loadBalancerIps, externalTrafficPolicy, internalTrafficPolicy, sessionAffinity, affinityTimeoutSeconds,
            newHealthCheckNodePort, selector, publishNotReadyAddresses, allocateLoadBalancerNodePorts,
            clusterIpUnset && newClusterIps.isEmpty(), trafficDistribution, externalName);
    }
}
