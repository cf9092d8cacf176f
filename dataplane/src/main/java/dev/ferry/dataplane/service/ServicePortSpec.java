package dev.ferry.dataplane.service;

import dev.ferry.dataplane.addr.Ipv4Cidr;

import java.util.List;

/**
 * One port of one Service as the control side hands it to the dataplane: every address the
 * port is reachable on, its policies, and its endpoints. A Service with three ports is three
 * of these. ExternalName and headless services never become one.
 *
 * @param namespace                  the Service's namespace
 * @param name                       the Service's name
 * @param portName                   spec.ports[].name, "" when unnamed
 * @param protocol                   the port's protocol
 * @param port                       spec.ports[].port
 * @param nodePort                   spec.ports[].nodePort, 0 when none
 * @param clusterIps                 spec.clusterIPs (IPv4 only for now)
 * @param externalIps                spec.externalIPs
 * @param loadBalancerIps            status.loadBalancer.ingress[].ip
 * @param loadBalancerSourceRanges   spec.loadBalancerSourceRanges; empty means any source
 * @param externalPolicyLocal        spec.externalTrafficPolicy == Local
 * @param internalPolicyLocal        spec.internalTrafficPolicy == Local
 * @param affinityClientIp           spec.sessionAffinity == ClientIP
 * @param affinityTimeoutSeconds     sessionAffinityConfig.clientIP.timeoutSeconds (default 10800)
 * @param healthCheckNodePort        spec.healthCheckNodePort, 0 when none
 * @param endpoints                  the port's endpoints, in any order
 */
public record ServicePortSpec(
    String namespace,
    String name,
    String portName,
    Protocol protocol,
    int port,
    int nodePort,
    List<Integer> clusterIps,
    List<Integer> externalIps,
    List<Integer> loadBalancerIps,
    List<Ipv4Cidr> loadBalancerSourceRanges,
    boolean externalPolicyLocal,
    boolean internalPolicyLocal,
    boolean affinityClientIp,
    int affinityTimeoutSeconds,
    int healthCheckNodePort,
    List<EndpointSpec> endpoints) {

    public static final int DEFAULT_AFFINITY_TIMEOUT_SECONDS = 10800;

    public ServicePortSpec {
        clusterIps = List.copyOf(clusterIps);
        externalIps = List.copyOf(externalIps);
        loadBalancerIps = List.copyOf(loadBalancerIps);
        loadBalancerSourceRanges = List.copyOf(loadBalancerSourceRanges);
        endpoints = List.copyOf(endpoints);
    }

    /** "namespace/name:port", as trace reports it: the port's name, or its number when unnamed. */
    public String displayName() {
        return namespace + "/" + name + ":" + (portName.isEmpty() ? Integer.toString(port) : portName);
    }
}
