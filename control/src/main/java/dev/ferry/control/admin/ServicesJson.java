package dev.ferry.control.admin;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.json.JsonMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.ferry.dataplane.addr.Ipv4;
import dev.ferry.dataplane.addr.Ipv4Cidr;
import dev.ferry.dataplane.service.EndpointSet;
import dev.ferry.dataplane.service.EndpointSpec;
import dev.ferry.dataplane.service.ServicePort;
import dev.ferry.dataplane.service.ServicePortSpec;
import dev.ferry.dataplane.service.ServiceTable;

import java.io.UncheckedIOException;

/**
 * The {@code /services} body: a JSON array with one object per service port of the current
 * snapshot, as the dataplane holds it (after validation, allocation and endpoint selection):
 * <pre>
 * {"name": "default/web:http", "namespace": "default", "service": "web", "portName": "http",
 *  "type": "NodePort", "protocol": "TCP", "port": 80, "nodePort": 30080, "healthCheckNodePort": 0,
 *  "frontends": {"clusterIPs": [...], "externalIPs": [...], "loadBalancerIPs": [...],
 *                "nodePorts": ["198.18.0.11:30080"], "healthCheckNodePorts": [...]},
 *  "policies": {"externalTrafficPolicy": "Cluster", "internalTrafficPolicy": "Cluster",
 *               "sessionAffinity": "None", "sessionAffinityTimeoutSeconds": 10800,
 *               "loadBalancerSourceRanges": [...]},
 *  "endpoints": [{"address": "10.244.1.5", "port": 8080, "ready": true, "serving": true,
 *                 "terminating": false, "local": true}],
 *  "clusterEndpoints": ["10.244.1.5:8080"], "localEndpoints": ["10.244.1.5:8080"]}
 * </pre>
 * {@code type} is inferred, since the snapshot keeps addresses rather than the Service's type:
 * LoadBalancer when it has LoadBalancer IPs, NodePort when it has a NodePort, else ClusterIP.
 * {@code clusterEndpoints} and {@code localEndpoints} are the sets new connections are spread
 * over (ready ones, or serving-and-terminating ones when none is ready).
 */
public final class ServicesJson {
    private static final ObjectMapper JSON = JsonMapper.builder().build();

    private ServicesJson() {
    }

    public static String render(final ServiceTable table) {
        final ArrayNode ports = JSON.createArrayNode();
        for (final ServicePort sp : table.ports()) {
            ports.add(port(table, sp));
        }
        try {
            return JSON.writeValueAsString(ports);
        } catch (final JsonProcessingException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** "LoadBalancer", "NodePort" or "ClusterIP", inferred from the addresses the port has. */
    public static String type(final ServicePortSpec spec) {
        if (!spec.loadBalancerIps().isEmpty()) {
            return "LoadBalancer";
        }
        return spec.nodePort() != 0 ? "NodePort" : "ClusterIP";
    }

    private static ObjectNode port(final ServiceTable table, final ServicePort sp) {
        final ServicePortSpec s = sp.spec();
        final ObjectNode o = JSON.createObjectNode();
        o.put("name", sp.displayName());
        o.put("namespace", s.namespace());
        o.put("service", s.name());
        o.put("portName", s.portName());
        o.put("type", type(s));
        o.put("protocol", s.protocol().name());
        o.put("port", s.port());
        o.put("nodePort", s.nodePort());
        o.put("healthCheckNodePort", s.healthCheckNodePort());

        final ObjectNode frontends = o.putObject("frontends");
        final ArrayNode clusterIps = frontends.putArray("clusterIPs");
        s.clusterIps().forEach(ip -> clusterIps.add(Ipv4.format(ip)));
        final ArrayNode externalIps = frontends.putArray("externalIPs");
        s.externalIps().forEach(ip -> externalIps.add(Ipv4.format(ip)));
        final ArrayNode lbIps = frontends.putArray("loadBalancerIPs");
        s.loadBalancerIps().forEach(ip -> lbIps.add(Ipv4.format(ip)));
        final ArrayNode nodePorts = frontends.putArray("nodePorts");
        final ArrayNode healthChecks = frontends.putArray("healthCheckNodePorts");
        for (final int ip : table.node().nodePortIps()) {
            if (s.nodePort() != 0) {
                nodePorts.add(Ipv4.format(ip, s.nodePort()));
            }
            if (s.healthCheckNodePort() != 0) {
                healthChecks.add(Ipv4.format(ip, s.healthCheckNodePort()));
            }
        }

        final ObjectNode policies = o.putObject("policies");
        policies.put("externalTrafficPolicy", s.externalPolicyLocal() ? "Local" : "Cluster");
        policies.put("internalTrafficPolicy", s.internalPolicyLocal() ? "Local" : "Cluster");
        policies.put("sessionAffinity", s.affinityClientIp() ? "ClientIP" : "None");
        if (s.affinityClientIp()) {
            policies.put("sessionAffinityTimeoutSeconds", sp.affinityTimeoutMs() / 1000);
        }
        final ArrayNode ranges = policies.putArray("loadBalancerSourceRanges");
        for (final Ipv4Cidr cidr : s.loadBalancerSourceRanges()) {
            ranges.add(cidr.toString());
        }

        final ArrayNode endpoints = o.putArray("endpoints");
        for (final EndpointSpec ep : s.endpoints()) {
            final ObjectNode e = endpoints.addObject();
            e.put("address", Ipv4.format(ep.address()));
            e.put("port", ep.port());
            e.put("ready", ep.ready());
            e.put("serving", ep.serving());
            e.put("terminating", ep.terminating());
            e.put("local", ep.local());
        }
        set(o.putArray("clusterEndpoints"), sp.clusterEndpoints());
        set(o.putArray("localEndpoints"), sp.localEndpoints());
        return o;
    }

    private static void set(final ArrayNode out, final EndpointSet set) {
        for (int i = 0; i < set.size(); i++) {
            out.add(Ipv4.format(set.address(i), set.port(i)));
        }
    }
}
