package dev.ferry.control.source.kube;

import dev.ferry.control.manifest.ManifestError;
import dev.ferry.control.model.EndpointSlice;
import dev.ferry.control.model.ObjectRef;
import dev.ferry.control.model.Service;
import dev.ferry.control.model.ServicePort;
import dev.ferry.control.model.ServiceType;
import dev.ferry.control.model.SessionAffinity;
import dev.ferry.control.model.SliceEndpoint;
import dev.ferry.control.model.SlicePort;
import dev.ferry.control.model.TargetPort;
import dev.ferry.control.model.TrafficPolicy;
import dev.ferry.dataplane.addr.Ipv4;
import dev.ferry.dataplane.addr.Ipv4Cidr;
import dev.ferry.dataplane.service.NodeSpec;
import dev.ferry.dataplane.service.Protocol;
import dev.ferry.dataplane.service.ServicePortSpec;
import io.fabric8.kubernetes.api.model.HasMetadata;
import io.fabric8.kubernetes.api.model.IntOrString;
import io.fabric8.kubernetes.api.model.LoadBalancerIngress;
import io.fabric8.kubernetes.api.model.ServiceSpec;
import io.fabric8.kubernetes.api.model.discovery.v1.Endpoint;
import io.fabric8.kubernetes.api.model.discovery.v1.EndpointConditions;
import io.fabric8.kubernetes.api.model.discovery.v1.EndpointPort;
import io.fabric8.kubernetes.api.model.networking.v1.ServiceCIDR;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Objects;

/**
 * Turns the API server's objects (fabric8's model classes) into control's model records, so that
 * the {@link dev.ferry.control.compile.ServicePortCompiler} that serves manifests serves the
 * cluster too. What kube-proxy skips is skipped here, not rejected:
 * <ul>
 *   <li>Services labelled {@value #SERVICE_PROXY_NAME_LABEL} (they belong to another proxy),
 *       and services with a data path but without an IPv4 ClusterIP (not yet allocated, or IPv6
 *       only: the dataplane is IPv4-only). ExternalName and headless services are kept for the
 *       DNS server's names; the compiler gives them no data path, as kube-proxy gives none;</li>
 *   <li>EndpointSlices that are not of address type IPv4 or do not name their Service;</li>
 *   <li>the IPv6 ranges of ServiceCIDRs.</li>
 * </ul>
 * The API server has validated everything already, so a value that does not parse is a surprise
 * (a newer API, a bug): the object is rejected with an {@link ApiObjectException} naming the
 * object and the field, and the others still apply. Nothing is allocated: ClusterIPs, NodePorts
 * and health check node ports are the API server's.
 */
final class ApiObjects {
    /** Where objects come from, in messages ({@link ManifestError#file()}). */
    static final String ORIGIN = "kubernetes API";
    /** A Service (and its slices, which carry a copy of its labels) meant for another proxy. */
    static final String SERVICE_PROXY_NAME_LABEL = "service.kubernetes.io/service-proxy-name";
    /** Set by the EndpointSlice controller on the slices of headless services. */
    static final String HEADLESS_LABEL = "service.kubernetes.io/headless";
    /** LoadBalancer ingress ipMode under which the load balancer itself forwards to the node: no rule for the IP. */
    private static final String IP_MODE_PROXY = "Proxy";

    private ApiObjects() {
    }

    /** A rejected object: what was wrong, naming the object and the field. */
    static final class ApiObjectException extends RuntimeException {
        private final transient ManifestError error;

        ApiObjectException(final ObjectRef ref, final String field, final String problem) {
            this(ref.describe(), field, problem);
        }

        /** @param object "ServiceCIDR kubernetes": a cluster-scoped object, named without a namespace */
        ApiObjectException(final String object, final String field, final String problem) {
            super(object + ": " + field + ": " + problem);
            this.error = new ManifestError(ORIGIN, object, field, problem);
        }

        ManifestError error() {
            return error;
        }
    }

    static ObjectRef ref(final String kind, final HasMetadata object) {
        final String namespace = object.getMetadata().getNamespace();
        return new ObjectRef(ORIGIN, kind, namespace == null || namespace.isEmpty() ? "default" : namespace,
            object.getMetadata().getName());
    }

    /** True when kube-proxy would leave this Service (and its slices) to another proxy. */
    static boolean forAnotherProxy(final HasMetadata object) {
        final Map<String, String> labels = object.getMetadata().getLabels();
        return labels != null && labels.containsKey(SERVICE_PROXY_NAME_LABEL);
    }

    /**
     * The Service as the compiler takes it, or null when kube-proxy gives it no data path (see the
     * class comment). Throws {@link ApiObjectException} for a value that does not parse.
     */
    static Service service(final io.fabric8.kubernetes.api.model.Service api) {
        final ObjectRef ref = ref("Service", api);
        final ServiceSpec spec = api.getSpec();
        if (spec == null || forAnotherProxy(api)) {
            return null;
        }
        final ServiceType type = serviceType(ref, spec.getType());
        final boolean externalName = type == ServiceType.ExternalName;
        final List<String> clusterIpTexts = spec.getClusterIPs() != null && !spec.getClusterIPs().isEmpty()
            ? spec.getClusterIPs() : spec.getClusterIP() == null ? List.of() : List.of(spec.getClusterIP());
        final boolean headless = !externalName && !clusterIpTexts.isEmpty() && "None".equals(clusterIpTexts.getFirst());
        final List<Integer> clusterIps = new ArrayList<>();
        for (int i = 0; i < clusterIpTexts.size() && !externalName; i++) {
            final String text = clusterIpTexts.get(i);
            if (text == null || text.isEmpty() || "None".equals(text) || isIpv6(text)) {
                continue;
            }
            clusterIps.add(ipv4(ref, i == 0 ? "spec.clusterIP" : "spec.clusterIPs[" + i + "]", text));
        }
        if (clusterIps.isEmpty() && !headless && !externalName) {
            return null; // not allocated yet, or IPv6 only
        }

        final List<ServicePort> ports = new ArrayList<>();
        final List<io.fabric8.kubernetes.api.model.ServicePort> apiPorts = orEmpty(spec.getPorts());
        for (int i = 0; i < apiPorts.size(); i++) {
            final io.fabric8.kubernetes.api.model.ServicePort port = apiPorts.get(i);
            final String field = "spec.ports[" + i + "]";
            final int number = port(ref, field + ".port", port.getPort());
            final Integer nodePort = port.getNodePort();
            ports.add(new ServicePort(orEmpty(port.getName()), protocol(ref, field + ".protocol", port.getProtocol()), number,
                targetPort(port.getTargetPort(), number),
                nodePort == null || nodePort == 0 ? 0 : port(ref, field + ".nodePort", nodePort)));
        }

        final List<Integer> externalIps = new ArrayList<>();
        final List<String> externalIpTexts = orEmpty(spec.getExternalIPs());
        for (int i = 0; i < externalIpTexts.size(); i++) {
            if (!isIpv6(externalIpTexts.get(i))) {
                externalIps.add(ipv4(ref, "spec.externalIPs[" + i + "]", externalIpTexts.get(i)));
            }
        }
        final List<Ipv4Cidr> sourceRanges = new ArrayList<>();
        final List<String> rangeTexts = orEmpty(spec.getLoadBalancerSourceRanges());
        for (int i = 0; i < rangeTexts.size(); i++) {
            if (!isIpv6(rangeTexts.get(i))) {
                sourceRanges.add(cidr(ref, "spec.loadBalancerSourceRanges[" + i + "]", rangeTexts.get(i)));
            }
        }
        final List<Integer> loadBalancerIps = new ArrayList<>();
        if (api.getStatus() != null && api.getStatus().getLoadBalancer() != null) {
            final List<LoadBalancerIngress> ingress = orEmpty(api.getStatus().getLoadBalancer().getIngress());
            for (int i = 0; i < ingress.size(); i++) {
                final String ip = ingress.get(i).getIp();
                // ipMode Proxy: the load balancer delivers to the node itself, kube-proxy writes no rule for its IP
                if (ip != null && !ip.isEmpty() && !isIpv6(ip) && !IP_MODE_PROXY.equals(ingress.get(i).getIpMode())) {
                    loadBalancerIps.add(ipv4(ref, "status.loadBalancer.ingress[" + i + "].ip", ip));
                }
            }
        }

        final TrafficPolicy external = "Local".equals(spec.getExternalTrafficPolicy()) ? TrafficPolicy.Local : TrafficPolicy.Cluster;
        final TrafficPolicy internal = "Local".equals(spec.getInternalTrafficPolicy()) ? TrafficPolicy.Local : TrafficPolicy.Cluster;
        final SessionAffinity affinity = "ClientIP".equals(spec.getSessionAffinity()) ? SessionAffinity.ClientIP : SessionAffinity.None;
        int timeoutSeconds = ServicePortSpec.DEFAULT_AFFINITY_TIMEOUT_SECONDS;
        if (spec.getSessionAffinityConfig() != null && spec.getSessionAffinityConfig().getClientIP() != null
            && spec.getSessionAffinityConfig().getClientIP().getTimeoutSeconds() != null) {
            timeoutSeconds = spec.getSessionAffinityConfig().getClientIP().getTimeoutSeconds();
            if (timeoutSeconds < 1) {
                throw new ApiObjectException(ref, "spec.sessionAffinityConfig.clientIP.timeoutSeconds", timeoutSeconds
                    + " is not a timeout in seconds");
            }
        }
        // kube-proxy serves a health check node port only where the API server allocates one.
        final boolean needsHealthCheck = type == ServiceType.LoadBalancer && external == TrafficPolicy.Local;
        final int healthCheckNodePort = needsHealthCheck && spec.getHealthCheckNodePort() != null && spec.getHealthCheckNodePort() != 0
            ? port(ref, "spec.healthCheckNodePort", spec.getHealthCheckNodePort()) : 0;

        return new Service(ref, type, headless, clusterIps, ports, externalIps, sourceRanges, loadBalancerIps, external, internal,
            affinity, timeoutSeconds, healthCheckNodePort, spec.getSelector() == null ? Map.of() : spec.getSelector(),
            Boolean.TRUE.equals(spec.getPublishNotReadyAddresses()),
            !Boolean.FALSE.equals(spec.getAllocateLoadBalancerNodePorts()), false, spec.getTrafficDistribution(),
            externalName ? externalName(ref, spec.getExternalName()) : null);
    }

    /** spec.externalName as DNS serves it: lower case, no trailing dot (the API server validated it). */
    private static String externalName(final ObjectRef ref, final String text) {
        final String name = text == null ? "" : text.endsWith(".") ? text.substring(0, text.length() - 1) : text;
        if (name.isEmpty()) {
            throw new ApiObjectException(ref, "spec.externalName", "must not be empty for type ExternalName");
        }
        return name.toLowerCase(java.util.Locale.ROOT);
    }

    /**
     * The slice as the compiler takes it, or null when kube-proxy ignores it (not IPv4, no
     * kubernetes.io/service-name label, meant for another proxy). Endpoints without an address are
     * left out; the conditions get the API's defaults (ready when absent, serving as ready,
     * terminating false).
     */
    static EndpointSlice slice(final io.fabric8.kubernetes.api.model.discovery.v1.EndpointSlice api) {
        final ObjectRef ref = ref("EndpointSlice", api);
        if (!"IPv4".equals(api.getAddressType()) || forAnotherProxy(api)) {
            return null;
        }
        final Map<String, String> labels = api.getMetadata().getLabels();
        final String serviceName = labels == null ? null : labels.get(EndpointSlice.SERVICE_NAME_LABEL);
        if (serviceName == null || serviceName.isEmpty()) {
            return null;
        }
        final List<SlicePort> ports = new ArrayList<>();
        final List<EndpointPort> apiPorts = orEmpty(api.getPorts());
        for (int i = 0; i < apiPorts.size(); i++) {
            final EndpointPort port = apiPorts.get(i);
            final String field = "ports[" + i + "]";
            ports.add(new SlicePort(orEmpty(port.getName()), protocol(ref, field + ".protocol", port.getProtocol()),
                port.getPort() == null ? 0 : port(ref, field + ".port", port.getPort())));
        }
        final List<SliceEndpoint> endpoints = new ArrayList<>();
        final List<Endpoint> apiEndpoints = orEmpty(api.getEndpoints());
        for (int i = 0; i < apiEndpoints.size(); i++) {
            final Endpoint endpoint = apiEndpoints.get(i);
            final List<String> addresses = orEmpty(endpoint.getAddresses());
            if (addresses.isEmpty()) {
                continue;
            }
            // The addresses of one endpoint are fungible; kube-proxy uses the first.
            final int address = ipv4(ref, "endpoints[" + i + "].addresses[0]", addresses.getFirst());
            final EndpointConditions conditions = endpoint.getConditions();
            final boolean ready = conditions == null || conditions.getReady() == null || conditions.getReady();
            final boolean serving = conditions == null || conditions.getServing() == null ? ready : conditions.getServing();
            final boolean terminating = conditions != null && Boolean.TRUE.equals(conditions.getTerminating());
            final var hints = endpoint.getHints();
            endpoints.add(new SliceEndpoint(address, ready, serving, terminating, endpoint.getNodeName(),
                hints == null ? List.of() : names(hints.getForZones(), io.fabric8.kubernetes.api.model.discovery.v1.ForZone::getName),
                hints == null ? List.of() : names(hints.getForNodes(), io.fabric8.kubernetes.api.model.discovery.v1.ForNode::getName),
                endpoint.getHostname() == null || endpoint.getHostname().isEmpty() ? null : endpoint.getHostname()));
        }
        return new EndpointSlice(ref, serviceName, ports, endpoints);
    }

    /** The names of hints.forZones or hints.forNodes, those without one left out. */
    private static <T> List<String> names(final List<T> hints, final java.util.function.Function<T, String> name) {
        return orEmpty(hints).stream().map(name).filter(java.util.Objects::nonNull).toList();
    }

    private static ServiceType serviceType(final ObjectRef ref, final String text) {
        if (text == null || text.isEmpty()) {
            return ServiceType.ClusterIP;
        }
        for (final ServiceType type : ServiceType.values()) {
            if (type.name().equals(text)) {
                return type;
            }
        }
        throw new ApiObjectException(ref, "spec.type", "'" + text + "' is not a Service type Ferry knows");
    }

    private static Protocol protocol(final ObjectRef ref, final String field, final String text) {
        if (text == null || text.isEmpty()) {
            return Protocol.TCP;
        }
        for (final Protocol protocol : Protocol.values()) {
            if (protocol.name().equals(text)) {
                return protocol;
            }
        }
        throw new ApiObjectException(ref, field, "'" + text + "' is not a protocol (TCP, UDP or SCTP)");
    }

    private static TargetPort targetPort(final IntOrString value, final int port) {
        if (value == null) {
            return TargetPort.of(port);
        }
        if (value.getIntVal() != null) {
            return TargetPort.of(value.getIntVal());
        }
        final String text = value.getStrVal();
        if (text == null || text.isEmpty()) {
            return TargetPort.of(port);
        }
        return text.chars().allMatch(Character::isDigit) ? TargetPort.of(Integer.parseInt(text)) : TargetPort.named(text);
    }

    private static int port(final ObjectRef ref, final String field, final Integer value) {
        if (value == null || value < 1 || value > 65535) {
            throw new ApiObjectException(ref, field, value + " is not a port (1-65535)");
        }
        return value;
    }

    private static int ipv4(final ObjectRef ref, final String field, final String text) {
        try {
            return Ipv4.parse(text);
        } catch (final IllegalArgumentException e) {
            throw new ApiObjectException(ref, field, "'" + text + "' is not an IP address");
        }
    }

    private static Ipv4Cidr cidr(final ObjectRef ref, final String field, final String text) {
        try {
            return Ipv4Cidr.parse(text);
        } catch (final IllegalArgumentException e) {
            throw new ApiObjectException(ref, field, "'" + text + "' is not a CIDR such as 203.0.113.0/24");
        }
    }

    /**
     * The IPv4 ranges of a ServiceCIDR's {@code spec.cidrs}, in order; IPv6 ones are left out (the
     * dataplane is IPv4-only). Throws {@link ApiObjectException} for one that does not parse.
     */
    static List<Ipv4Cidr> serviceCidrRanges(final ServiceCIDR api, final NodeSpec node) {
        final String object = "ServiceCIDR " + api.getMetadata().getName();
        final List<String> texts = api.getSpec() == null ? List.of() : orEmpty(api.getSpec().getCidrs());
        final List<Ipv4Cidr> ranges = new ArrayList<>();
        for (int i = 0; i < texts.size(); i++) {
            if (isIpv6(texts.get(i))) {
                continue;
            }
            final Ipv4Cidr range;
            try {
                range = Ipv4Cidr.parse(texts.get(i));
            } catch (final IllegalArgumentException e) {
                throw new ApiObjectException(object, "spec.cidrs[" + i + "]", "'" + texts.get(i) + "' is not a CIDR such as 10.96.0.0/12");
            }
            final String clash = node.serviceRangeClash(range);
            if (clash != null) {
                throw new ApiObjectException(object, "spec.cidrs[" + i + "]", clash
                    + "; this node leaves the ServiceCIDR out rather than route its pods or itself into ferry0");
            }
            ranges.add(range);
        }
        return ranges;
    }

    static boolean isIpv6(final String text) {
        return text != null && text.indexOf(':') >= 0;
    }

    private static <T> List<T> orEmpty(final List<T> list) {
        return list == null ? List.of() : list.stream().filter(Objects::nonNull).toList();
    }

    private static String orEmpty(final String text) {
        return text == null ? "" : text;
    }
}
