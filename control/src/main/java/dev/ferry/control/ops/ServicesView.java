package dev.ferry.control.ops;

import com.fasterxml.jackson.databind.JsonNode;

import java.util.ArrayList;
import java.util.List;

/**
 * {@code ferry services}' table, from the agent's {@code /services} JSON: one row per service
 * port, in the spirit of {@code kubectl get svc,endpoints}:
 * <pre>
 * NAME               TYPE       CLUSTER-IP    EXTERNAL-IP   PORT(S)        ENDPOINTS
 * default/web:http   NodePort   172.30.0.41   &lt;none&gt;        80:30080/TCP   10.244.1.5:8080,10.244.2.7:8080
 * </pre>
 * EXTERNAL-IP lists LoadBalancer IPs then externalIPs. ENDPOINTS are those new connections are
 * spread over (ready ones, or serving-and-terminating ones when none is ready), the first three
 * and a count of the rest, as kubectl abbreviates them; a port whose external policy is Local
 * gets "(local: n)" with its local share.
 */
public final class ServicesView {
    static final int ENDPOINTS_SHOWN = 3;
    static final String NONE = "<none>";

    private ServicesView() {
    }

    public static String table(final JsonNode services) {
        final TextTable table = new TextTable("NAME", "TYPE", "CLUSTER-IP", "EXTERNAL-IP", "PORT(S)", "ENDPOINTS");
        for (final JsonNode port : services) {
            final JsonNode frontends = port.path("frontends");
            final List<String> external = texts(frontends.path("loadBalancerIPs"));
            external.addAll(texts(frontends.path("externalIPs")));
            final int nodePort = port.path("nodePort").asInt();
            final String ports = port.path("port").asInt() + (nodePort != 0 ? ":" + nodePort : "") + "/"
                + port.path("protocol").asText();
            String endpoints = abbreviate(texts(port.path("clusterEndpoints")));
            if ("Local".equals(port.path("policies").path("externalTrafficPolicy").asText())) {
                endpoints += " (local: " + port.path("localEndpoints").size() + ")";
            }
            table.row(port.path("name").asText(), port.path("type").asText(),
                orNone(texts(frontends.path("clusterIPs"))), orNone(external), ports, endpoints);
        }
        return table.render();
    }

    static String abbreviate(final List<String> endpoints) {
        if (endpoints.isEmpty()) {
            return NONE;
        }
        if (endpoints.size() <= ENDPOINTS_SHOWN) {
            return String.join(",", endpoints);
        }
        return String.join(",", endpoints.subList(0, ENDPOINTS_SHOWN)) + " + " + (endpoints.size() - ENDPOINTS_SHOWN)
            + " more...";
    }

    private static String orNone(final List<String> values) {
        return values.isEmpty() ? NONE : String.join(",", values);
    }

    private static List<String> texts(final JsonNode array) {
        final List<String> values = new ArrayList<>();
        array.forEach(node -> values.add(node.asText()));
        return values;
    }
}
