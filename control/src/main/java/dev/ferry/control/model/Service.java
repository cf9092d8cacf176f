package dev.ferry.control.model;

import dev.ferry.dataplane.addr.Ipv4Cidr;

import java.util.List;

/**
 * A v1 Service as Ferry uses it, validated and with the API's defaults applied. Addresses are
 * {@link dev.ferry.dataplane.addr.Ipv4} ints; IPv6 entries of dual-stack services are left out.
 *
 * @param ref                      file, namespace and name
 * @param type                     spec.type (ClusterIP when absent)
 * @param headless                 spec.clusterIP is "None": DNS only, no data path
 * @param clusterIps               spec.clusterIPs (or spec.clusterIP), IPv4 only; empty when not allocated
 * @param ports                    spec.ports
 * @param externalIps              spec.externalIPs
 * @param loadBalancerSourceRanges spec.loadBalancerSourceRanges
 * @param loadBalancerIps          status.loadBalancer.ingress[].ip
 * @param externalTrafficPolicy    Cluster when absent
 * @param internalTrafficPolicy    Cluster when absent
 * @param sessionAffinity          None when absent
 * @param affinityTimeoutSeconds   sessionAffinityConfig.clientIP.timeoutSeconds (10800 when absent)
 * @param healthCheckNodePort      spec.healthCheckNodePort, 0 when none
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
    int healthCheckNodePort) {

    public Service {
        clusterIps = List.copyOf(clusterIps);
        ports = List.copyOf(ports);
        externalIps = List.copyOf(externalIps);
        loadBalancerSourceRanges = List.copyOf(loadBalancerSourceRanges);
        loadBalancerIps = List.copyOf(loadBalancerIps);
    }

    /** ExternalName and headless services are names only: no packet is ever sent to them. */
    public boolean hasDataPath() {
        return type != ServiceType.ExternalName && !headless;
    }
}
