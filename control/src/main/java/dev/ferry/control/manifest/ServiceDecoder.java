package dev.ferry.control.manifest;

import dev.ferry.control.model.ObjectRef;
import dev.ferry.control.model.Service;
import dev.ferry.control.model.ServicePort;
import dev.ferry.control.model.ServiceType;
import dev.ferry.control.model.SessionAffinity;
import dev.ferry.control.model.TargetPort;
import dev.ferry.control.model.TrafficPolicy;
import dev.ferry.control.tree.Field;
import dev.ferry.control.tree.FieldException;
import dev.ferry.dataplane.addr.Ipv4Cidr;
import dev.ferry.dataplane.service.Protocol;
import dev.ferry.dataplane.service.ServicePortSpec;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Turns a v1 Service document into a {@link Service}, applying the API server's defaults and
 * the subset of its validation that matters to the data path and to manifest mode's allocation
 * and endpoint derivation. Fields Ferry does not use (annotations, ipFamilyPolicy, ...) are
 * ignored, as manifests from real clusters carry many.
 */
final class ServiceDecoder {
    private static final int MAX_AFFINITY_TIMEOUT_SECONDS = 86400;

    private ServiceDecoder() {
    }

    /** Decodes {@code root} (already known to be a Service named by {@code ref}); throws naming the bad field. */
    static Service decode(final ObjectRef ref, final Field root) {
        final Field spec = root.get("spec");
        spec.requireObject();
        final ServiceType type = enumValue(spec.get("type"), ServiceType.class, ServiceType.ClusterIP);

        final List<Field> clusterIpFields = clusterIpFields(spec);
        final boolean headless = !clusterIpFields.isEmpty() && "None".equals(clusterIpFields.get(0).text());
        if (headless && type.hasNodePorts()) {
            throw clusterIpFields.get(0).error("'None' (headless) is only valid for type ClusterIP, not " + type);
        }
        final List<Integer> clusterIps = new ArrayList<>();
        boolean anyClusterIp = false;
        if (type != ServiceType.ExternalName && !headless) {
            for (final Field field : clusterIpFields) {
                final String text = field.text();
                if (text.isEmpty()) {
                    continue; // not allocated yet: manifest mode allocates one
                }
                anyClusterIp = true;
                if (!Addresses.isIpv6(text)) {
                    clusterIps.add(Addresses.ipv4(field));
                }
            }
        }
        final boolean clusterIpUnset = type != ServiceType.ExternalName && !headless && !anyClusterIp
            && wantsIpv4(spec.get("ipFamilies"));
        String externalName = null;
        if (type == ServiceType.ExternalName) {
            final Field field = spec.get("externalName");
            if (field.text().isBlank()) {
                throw field.error("must not be empty for type ExternalName");
            }
            // the API server's rule: a DNS-1123 subdomain once a trailing dot is taken off
            externalName = field.text().endsWith(".") ? field.text().substring(0, field.text().length() - 1) : field.text();
            if (!Names.isSubdomain(externalName)) {
                throw field.error("'" + field.text() + "' is not " + Names.SUBDOMAIN_RULE);
            }
        }

        final List<ServicePort> ports = ports(spec.get("ports"), type);
        if (ports.isEmpty() && type != ServiceType.ExternalName && !headless) {
            throw spec.get("ports").error("at least one port is required");
        }

        final List<Integer> externalIps = ipv4List(spec.get("externalIPs"));
        final List<Ipv4Cidr> sourceRanges = new ArrayList<>();
        for (final Field field : spec.get("loadBalancerSourceRanges").list()) {
            if (!Addresses.isIpv6(field.text())) {
                sourceRanges.add(Addresses.cidr(field));
            }
        }
        final List<Integer> loadBalancerIps = new ArrayList<>();
        for (final Field ingress : root.get("status").get("loadBalancer").get("ingress").list()) {
            final Field ip = ingress.get("ip");
            if (ip.isPresent() && !Addresses.isIpv6(ip.text())) {
                loadBalancerIps.add(Addresses.ipv4(ip));
            }
        }

        final TrafficPolicy external = enumValue(spec.get("externalTrafficPolicy"), TrafficPolicy.class, TrafficPolicy.Cluster);
        final TrafficPolicy internal = enumValue(spec.get("internalTrafficPolicy"), TrafficPolicy.class, TrafficPolicy.Cluster);
        final SessionAffinity affinity = enumValue(spec.get("sessionAffinity"), SessionAffinity.class, SessionAffinity.None);
        final Field timeout = spec.get("sessionAffinityConfig").get("clientIP").get("timeoutSeconds");
        final int timeoutSeconds = timeout.isPresent()
            ? timeout.intIn(1, MAX_AFFINITY_TIMEOUT_SECONDS, "a timeout in seconds")
            : ServicePortSpec.DEFAULT_AFFINITY_TIMEOUT_SECONDS;
        final Field healthCheck = spec.get("healthCheckNodePort");
        final int healthCheckNodePort = healthCheck.isPresent() ? healthCheck.port() : 0;
        if (healthCheckNodePort != 0 && (type != ServiceType.LoadBalancer || external != TrafficPolicy.Local)) {
            throw healthCheck.error("may only be set when spec.type is LoadBalancer and spec.externalTrafficPolicy is Local");
        }

        final Field allocateField = spec.get("allocateLoadBalancerNodePorts");
        final boolean allocateNodePorts = allocateField.boolOr(true);
        if (allocateField.isPresent() && type != ServiceType.LoadBalancer) {
            throw allocateField.error("may only be set when spec.type is LoadBalancer, not " + type);
        }
        final Map<String, String> selector = Names.labels(spec.get("selector"));
        final boolean publishNotReady = spec.get("publishNotReadyAddresses").boolOr(false);
        final Field distribution = spec.get("trafficDistribution");
        final String trafficDistribution = distribution.isPresent() ? distribution.text() : null;
        if (trafficDistribution != null && !Service.TRAFFIC_DISTRIBUTIONS.contains(trafficDistribution)) {
            throw distribution.error("must be one of " + Service.TRAFFIC_DISTRIBUTIONS + ", not " + trafficDistribution);
        }

        return new Service(ref, type, headless, clusterIps, ports, externalIps, sourceRanges, loadBalancerIps,
            external, internal, affinity, timeoutSeconds, healthCheckNodePort, selector, publishNotReady, allocateNodePorts,
            clusterIpUnset, trafficDistribution, externalName);
    }

    /** spec.ipFamilies absent (the cluster's default, IPv4 here) or naming IPv4. */
    private static boolean wantsIpv4(final Field ipFamilies) {
        final List<String> families = ipFamilies.textList();
        return families.isEmpty() || families.contains("IPv4");
    }

    /** spec.clusterIPs when present (its first entry must then equal spec.clusterIP), else spec.clusterIP. */
    private static List<Field> clusterIpFields(final Field spec) {
        final Field single = spec.get("clusterIP");
        final Field plural = spec.get("clusterIPs");
        if (plural.isPresent() && !plural.list().isEmpty()) {
            final List<Field> items = plural.list();
            if (single.isPresent() && !single.text().equals(items.get(0).text())) {
                throw items.get(0).error(items.get(0).describe() + " must equal spec.clusterIP " + single.describe());
            }
            return items;
        }
        return single.isPresent() ? List.of(single) : List.of();
    }

    private static List<ServicePort> ports(final Field portsField, final ServiceType type) {
        final List<Field> items = portsField.list();
        final List<ServicePort> ports = new ArrayList<>();
        final Map<String, String> names = new HashMap<>();
        final Set<String> numbers = new HashSet<>();
        for (final Field item : items) {
            item.requireObject();
            final Field nameField = item.get("name");
            final String name = nameField.textOr("");
            if (name.isEmpty() && items.size() > 1) {
                throw nameField.error("is required when a Service has more than one port");
            }
            if (!name.isEmpty() && !Names.isRfc1123Label(name)) {
                throw nameField.error("'" + name + "' is not a valid port name: it must be " + Names.RFC_1123_RULE);
            }
            if (!name.isEmpty() && names.putIfAbsent(name, item.path()) != null) {
                throw nameField.error("'" + name + "' is already the name of " + names.get(name));
            }
            final Protocol protocol = protocol(item.get("protocol"));
            final int port = item.get("port").port();
            if (!numbers.add(port + "/" + protocol)) {
                throw item.get("port").error(port + "/" + protocol + " appears twice in spec.ports");
            }
            final TargetPort targetPort = targetPort(item.get("targetPort"), port);
            final Field nodePortField = item.get("nodePort");
            int nodePort = 0;
            if (nodePortField.isPresent()) {
                nodePort = nodePortField.port();
                if (!type.hasNodePorts()) {
                    throw nodePortField.error("may only be set when spec.type is NodePort or LoadBalancer, not " + type);
                }
            }
            ports.add(new ServicePort(name, protocol, port, targetPort, nodePort));
        }
        return ports;
    }

    static Protocol protocol(final Field field) {
        if (!field.isPresent()) {
            return Protocol.TCP;
        }
        final String text = field.text();
        for (final Protocol protocol : Protocol.values()) {
            if (protocol.name().equals(text)) {
                return protocol;
            }
        }
        throw field.error("'" + text + "' is not a protocol (TCP, UDP or SCTP)");
    }

    private static TargetPort targetPort(final Field field, final int port) {
        if (!field.isPresent()) {
            return TargetPort.of(port);
        }
        if (field.node().isIntegralNumber()) {
            return TargetPort.of(field.port());
        }
        final String name = field.text();
        if (!name.isEmpty() && name.chars().allMatch(Character::isDigit)) {
            throw field.error("'" + name + "' is a quoted number; write the number without quotes, or a port name");
        }
        if (!Names.isIanaServiceName(name)) {
            throw field.error("'" + name + "' is not a port number or a port name (" + Names.IANA_RULE + ")");
        }
        return TargetPort.named(name);
    }

    private static List<Integer> ipv4List(final Field field) {
        final List<Integer> addresses = new ArrayList<>();
        for (final Field item : field.list()) {
            if (!Addresses.isIpv6(item.text())) {
                addresses.add(Addresses.ipv4(item));
            }
        }
        return addresses;
    }

    private static <E extends Enum<E>> E enumValue(final Field field, final Class<E> type, final E fallback) {
        if (!field.isPresent()) {
            return fallback;
        }
        final String text = field.text();
        final E[] values = type.getEnumConstants();
        for (final E value : values) {
            if (value.name().equals(text)) {
                return value;
            }
        }
        final List<String> names = new ArrayList<>();
        for (final E value : values) {
            names.add(value.name());
        }
        throw new FieldException(field.path(), "'" + text + "' is not one of " + String.join(", ", names));
    }
}
