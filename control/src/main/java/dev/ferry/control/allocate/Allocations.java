package dev.ferry.control.allocate;

import java.util.Map;
import java.util.TreeMap;

/**
 * The values manifest mode has given out, by owner, so that a reload (and, when stored, a
 * restart) gives every service the values it had, however services were added or removed
 * since. Keys: ClusterIPs by "namespace/name", NodePorts by "namespace/name/port" (the service
 * port number, shared by the ports of one number as the API server does), health check node
 * ports by "namespace/name".
 *
 * @param clusterIps           {@link dev.ferry.dataplane.addr.Ipv4} ints
 * @param nodePorts            node port numbers
 * @param healthCheckNodePorts health check node port numbers
 */
public record Allocations(Map<String, Integer> clusterIps, Map<String, Integer> nodePorts,
                          Map<String, Integer> healthCheckNodePorts) {
    public static final Allocations NONE = new Allocations(Map.of(), Map.of(), Map.of());

    public Allocations {
        // Sorted, so that the stored file is stable and diffable (and a copy of a sorted map is linear).
        clusterIps = java.util.Collections.unmodifiableSortedMap(new TreeMap<>(clusterIps));
        nodePorts = java.util.Collections.unmodifiableSortedMap(new TreeMap<>(nodePorts));
        healthCheckNodePorts = java.util.Collections.unmodifiableSortedMap(new TreeMap<>(healthCheckNodePorts));
    }

    static String clusterIpKey(final String namespace, final String name) {
        return namespace + "/" + name;
    }

    static String nodePortKey(final String namespace, final String name, final int servicePort) {
        return namespace + "/" + name + "/" + servicePort;
    }

    static String healthCheckKey(final String namespace, final String name) {
        return namespace + "/" + name;
    }
}
