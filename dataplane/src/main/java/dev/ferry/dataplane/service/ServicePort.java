package dev.ferry.dataplane.service;

import dev.ferry.dataplane.addr.Ipv4Cidr;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;

/**
 * One compiled service port: its spec plus everything {@link ServiceRouter} needs precomputed,
 * chiefly the two eligible endpoint sets of kube-proxy's CategorizeEndpoints:
 * <ul>
 *   <li>cluster set: the ready endpoints that topology leaves to this node
 *       ({@link EndpointSpec#inTopology()}); when there is none, the serving-and-terminating ones,
 *       whatever the topology (kube-proxy decides the topology mode only when some endpoint is
 *       ready, so an empty topology set means none is ready anywhere);</li>
 *   <li>local set: the same rule applied to this node's endpoints only.</li>
 * </ul>
 * Created only by {@link ServiceTable#compile}; immutable.
 */
public final class ServicePort {
    private final int id;
    private final ServicePortSpec spec;
    private final String displayName;
    private final EndpointSet clusterEndpoints;
    private final EndpointSet localEndpoints;
    private final boolean hasUsableEndpoints;
    private final boolean internalPolicyLocal;
    private final boolean externalPolicyLocal;
    private final int[] sourceRangeBases;
    private final int[] sourceRangeMasks;
    private final boolean filtersSources;
    private final int[] loadBalancerIpSources;
    private final boolean affinityClientIp;
    private final long affinityTimeoutMs;
    private final int affinityKey;

    ServicePort(final int id, final ServicePortSpec spec, final NodeSpec node) {
        this.id = id;
        this.spec = spec;
        this.displayName = spec.displayName();
        this.clusterEndpoints = EndpointSet.of(eligible(spec.endpoints(), false));
        this.localEndpoints = EndpointSet.of(eligible(spec.endpoints(), true));
        boolean usable = false;
        for (final EndpointSpec ep : spec.endpoints()) {
            usable |= ep.ready() || (ep.serving() && ep.terminating());
        }
        this.hasUsableEndpoints = usable;
        this.internalPolicyLocal = spec.internalPolicyLocal();
        this.externalPolicyLocal = spec.externalPolicyLocal();

        final List<Ipv4Cidr> ranges = spec.loadBalancerSourceRanges();
        this.filtersSources = !ranges.isEmpty();
        this.sourceRangeBases = new int[ranges.size()];
        this.sourceRangeMasks = new int[ranges.size()];
        boolean rangeHoldsNode = false;
        for (int i = 0; i < ranges.size(); i++) {
            sourceRangeBases[i] = ranges.get(i).base();
            sourceRangeMasks[i] = Ipv4Cidr.mask(ranges.get(i).prefixLen());
            for (final int nodeIp : node.nodeIps()) {
                rangeHoldsNode |= ranges.get(i).contains(nodeIp);
            }
        }
        // kube-proxy: when a source range holds the node IP, the node may reach the LB IP; such
        // a request loops back with the LB IP itself as its source, so the LB IPs are allowed too.
        this.loadBalancerIpSources = rangeHoldsNode
            ? spec.loadBalancerIps().stream().mapToInt(Integer::intValue).toArray()
            : new int[0];

        this.affinityClientIp = spec.affinityClientIp();
        final int timeoutSeconds = spec.affinityTimeoutSeconds() > 0
            ? spec.affinityTimeoutSeconds()
            : ServicePortSpec.DEFAULT_AFFINITY_TIMEOUT_SECONDS;
        this.affinityTimeoutMs = timeoutSeconds * 1000L;
        this.affinityKey = stableKey(spec);
    }

    /** {@code from}'s compiled state under another id: everything but the id is derived from the spec and the node alone. */
    private ServicePort(final int id, final ServicePort from) {
        this.id = id;
        this.spec = from.spec;
        this.displayName = from.displayName;
        this.clusterEndpoints = from.clusterEndpoints;
        this.localEndpoints = from.localEndpoints;
        this.hasUsableEndpoints = from.hasUsableEndpoints;
        this.internalPolicyLocal = from.internalPolicyLocal;
        this.externalPolicyLocal = from.externalPolicyLocal;
        this.sourceRangeBases = from.sourceRangeBases;
        this.sourceRangeMasks = from.sourceRangeMasks;
        this.filtersSources = from.filtersSources;
        this.loadBalancerIpSources = from.loadBalancerIpSources;
        this.affinityClientIp = from.affinityClientIp;
        this.affinityTimeoutMs = from.affinityTimeoutMs;
        this.affinityKey = from.affinityKey;
    }

    /** This port under {@code newId} (itself when the id is the same), for a table recompiled around it. Shares the immutable arrays. */
    ServicePort withId(final int newId) {
        return newId == id ? this : new ServicePort(newId, this);
    }

    /** kube-proxy's rule: ready endpoints (for the cluster set: in topology), else serving-and-terminating ones. */
    private static List<EndpointSpec> eligible(final List<EndpointSpec> endpoints, final boolean localOnly) {
        final List<EndpointSpec> ready = new ArrayList<>();
        final List<EndpointSpec> terminating = new ArrayList<>();
        for (final EndpointSpec ep : endpoints) {
            if (localOnly && !ep.local()) {
                continue;
            }
            if (ep.ready()) {
                if (localOnly || ep.inTopology()) { // topology is for Cluster policy; Local ignores it
                    ready.add(ep);
                }
            } else if (ep.serving() && ep.terminating()) {
                terminating.add(ep);
            }
        }
        return ready.isEmpty() ? terminating : ready;
    }

    /**
     * A 32-bit key for the service port that survives snapshot swaps (unlike {@link #id()}), so
     * that affinity records stay with their service when the table is recompiled. FNV-1a over
     * namespace, name, port name and protocol; never 0.
     */
    private static int stableKey(final ServicePortSpec spec) {
        final byte[] bytes = (spec.namespace() + '/' + spec.name() + ':' + spec.portName() + '/'
            + spec.port() + '/' + spec.protocol().name()).getBytes(StandardCharsets.UTF_8);
        long h = 0xcbf29ce484222325L;
        for (final byte b : bytes) {
            h ^= b & 0xFF;
            h *= 0x100000001b3L;
        }
        final int folded = (int) (h ^ (h >>> 32));
        return folded == 0 ? 1 : folded;
    }

    /** Dense id within its snapshot, 0..n-1; not stable across snapshots. */
    public int id() {
        return id;
    }

    public ServicePortSpec spec() {
        return spec;
    }

    /** "namespace/name:port". */
    public String displayName() {
        return displayName;
    }

    public Protocol protocol() {
        return spec.protocol();
    }

    /** Ready endpoints, or serving-and-terminating ones when none is ready. */
    public EndpointSet clusterEndpoints() {
        return clusterEndpoints;
    }

    /** The same rule applied to this node's endpoints only. */
    public EndpointSet localEndpoints() {
        return localEndpoints;
    }

    /** True when some endpoint anywhere is ready, or serving and terminating (kube-proxy's hasAnyEndpoints). */
    public boolean hasUsableEndpoints() {
        return hasUsableEndpoints;
    }

    public boolean internalPolicyLocal() {
        return internalPolicyLocal;
    }

    public boolean externalPolicyLocal() {
        return externalPolicyLocal;
    }

    public boolean affinityClientIp() {
        return affinityClientIp;
    }

    /** The ClientIP affinity timeout (spec, default 10800 s) in milliseconds. */
    public long affinityTimeoutMs() {
        return affinityTimeoutMs;
    }

    /** Stable (across snapshots) non-zero key of this service port for affinity records. */
    public int affinityKey() {
        return affinityKey;
    }

    /** True when traffic from {@code source} to a LoadBalancer IP of this port passes loadBalancerSourceRanges. */
    public boolean loadBalancerSourceAllowed(final int source) {
        if (!filtersSources) {
            return true;
        }
        for (int i = 0; i < sourceRangeBases.length; i++) {
            if ((source & sourceRangeMasks[i]) == sourceRangeBases[i]) {
                return true;
            }
        }
        for (final int lbIp : loadBalancerIpSources) {
            if (lbIp == source) {
                return true;
            }
        }
        return false;
    }

    @Override
    public String toString() {
        return "ServicePort{" + id + " " + displayName + "/" + spec.protocol() + " cluster=" + clusterEndpoints
            + " local=" + localEndpoints + '}';
    }
}
