package dev.ferry.control.model;

import java.util.List;
import java.util.Map;

/**
 * A v1 Pod as the endpoints controller sees it: labels to match Service selectors, where it
 * runs, its address, its named ports and its readiness. Everything else of a pod (images,
 * volumes, ...) is ignored.
 *
 * @param ref         file, namespace and name
 * @param labels      metadata.labels
 * @param nodeName    spec.nodeName, null when not scheduled
 * @param ip          the first IPv4 address of status.podIPs (or status.podIP) as an
 *                    {@link dev.ferry.dataplane.addr.Ipv4} int; {@link #NO_IP} when it has none yet
 * @param ports       spec.containers[].ports[] and those of restartable (sidecar) init containers
 * @param ready       status.conditions has type Ready with status "True"
 * @param terminating metadata.deletionTimestamp is set
 * @param terminal    status.phase is Succeeded or Failed: the pod will never serve again
 * @param hostname    spec.hostname, null when absent
 * @param subdomain   spec.subdomain, null when absent: with a hostname, the headless Service of this name
 *                    (in the pod's namespace) gives the pod's endpoint that hostname, as the
 *                    EndpointSlice controller does
 */
public record Pod(ObjectRef ref, Map<String, String> labels, String nodeName, int ip, List<ContainerPort> ports,
                  boolean ready, boolean terminating, boolean terminal, String hostname, String subdomain) implements KubeObject {
    /** 0.0.0.0 is never a pod's address, so it stands for "none yet". */
    public static final int NO_IP = 0;

    public Pod {
        labels = Map.copyOf(labels);
        ports = List.copyOf(ports);
    }

    /** The hostname of this pod's endpoint in {@code serviceName}'s slices, null when none (EndpointSlice controller's rule). */
    public String hostnameFor(final String serviceName) {
        return hostname != null && serviceName.equals(subdomain) ? hostname : null;
    }

    public boolean hasIp() {
        return ip != NO_IP;
    }

    /** True when every key of {@code selector} is a label of this pod with the same value. */
    public boolean matches(final Map<String, String> selector) {
        for (final Map.Entry<String, String> term : selector.entrySet()) {
            if (!term.getValue().equals(labels.get(term.getKey()))) {
                return false;
            }
        }
        return true;
    }
}
