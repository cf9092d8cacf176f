package dev.ferry.control.admin;

import dev.ferry.control.health.SyncTracker;

import dev.ferry.control.trace.TraceFormat;
import dev.ferry.dataplane.addr.Ipv4;
import dev.ferry.dataplane.service.Protocol;
import dev.ferry.dataplane.trace.TraceFlow;
import dev.ferry.dataplane.trace.Tracer;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.json.JsonMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.ferry.conntrack.ConntrackTable;
import dev.ferry.dataplane.service.ServiceTable;
import io.netty.handler.codec.http.QueryStringDecoder;
import org.agrona.concurrent.EpochClock;

import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * What each admin path answers, apart from the HTTP transport: the two listeners of kube-proxy
 * ({@code /healthz} and {@code /livez} on the healthz port; {@code /metrics} on the metrics
 * port) and Ferry's {@code /services} and {@code /conntrack} beside {@code /metrics}.
 */
final class AdminRoutes {
    /** Go's zero time, which kube-proxy prints as lastUpdated before the first sync. */
    static final String NEVER = "0001-01-01T00:00:00Z";
    static final String JSON_TYPE = "application/json";
    static final String TEXT_TYPE = "text/plain; charset=utf-8";
    private static final ObjectMapper JSON = JsonMapper.builder().build();

    /**
     * Which listener a request came in on: the TCP ones serve reads only; the control socket
     * (a Unix socket only the agent's user and root can open) also serves what changes the dataplane.
     */
    enum Listener { HEALTHZ, METRICS, CONTROL }

    /**
     * One answer.
     *
     * @param headers extra headers beyond Content-Type and Content-Length
     */
    record Response(int status, String contentType, byte[] body, Map<String, String> headers) {
        static Response of(final int status, final String contentType, final String body) {
            return new Response(status, contentType, body.getBytes(StandardCharsets.UTF_8), Map.of());
        }

        static Response jsonError(final int status, final String message) {
            final ObjectNode error = JSON.createObjectNode();
            error.put("error", message);
            return of(status, JSON_TYPE, error.toString() + "\n");
        }
    }

    private final AgentStatus status;
    private final EpochClock clock;
    private final HealthCounters probes = new HealthCounters();

    AdminRoutes(final AgentStatus status, final EpochClock clock) {
        this.status = status;
        this.clock = clock;
    }

    Response handle(final Listener listener, final String method, final String uri) {
        final QueryStringDecoder decoder = new QueryStringDecoder(uri);
        final String path = decoder.path();
        final boolean read = "GET".equals(method) || "HEAD".equals(method);
        return switch (listener) {
            case HEALTHZ -> switch (path) {
                case "/healthz" -> read ? health(true) : notAllowed("GET, HEAD");
                case "/livez" -> read ? health(false) : notAllowed("GET, HEAD");
                default -> notFound(path, "/healthz, /livez");
            };
            case METRICS -> switch (path) {
                case "/metrics" -> read ? metrics() : notAllowed("GET, HEAD");
                case "/services" -> read ? services() : notAllowed("GET, HEAD");
                case "/trace" -> read ? trace(decoder.parameters()) : notAllowed("GET, HEAD");
                case "/conntrack" -> switch (method) {
                    case "GET", "HEAD" -> conntrack(decoder.parameters(), false);
                    case "DELETE" -> controlOnly();
                    default -> notAllowed("GET, HEAD");
                };
                case "/" -> Response.of(200, TEXT_TYPE,
                    "ferry agent admin endpoints: /metrics, /services, /conntrack (GET lists; filters: "
                        + String.join(", ", ConntrackFilter.PARAMETERS) + "), /trace; deleting goes through the control socket\n");
                default -> notFound(path, "/metrics, /services, /conntrack, /trace");
            };
            case CONTROL -> switch (path) {
                case "/conntrack" -> switch (method) {
                    case "GET", "HEAD" -> conntrack(decoder.parameters(), false);
                    case "DELETE" -> conntrack(decoder.parameters(), true);
                    default -> notAllowed("GET, HEAD, DELETE");
                };
                default -> notFound(path, "/conntrack");
            };
        };
    }

    /** kube-proxy's healthz and livez handlers: 200 or 503, and the same JSON fields. */
    private Response health(final boolean healthz) {
        final SyncTracker.Health health = status.syncTracker().health();
        final boolean ok = healthz ? health.healthz() : health.healthy();
        if (healthz) {
            probes.healthz(ok);
        } else {
            probes.livez(ok);
        }
        // Like kube-proxy: a healthy answer reports lastUpdated as now (older clients read it as
        // "the sync loop is running"); an unhealthy one reports the real last sync.
        final String currentTime = Instant.ofEpochMilli(health.currentTimeMs()).toString();
        final String lastUpdated = ok ? currentTime
            : health.lastUpdatedMs() == 0 ? NEVER : Instant.ofEpochMilli(health.lastUpdatedMs()).toString();
        final ObjectNode body = JSON.createObjectNode();
        body.put("lastUpdated", lastUpdated);
        body.put("currentTime", currentTime);
        if (healthz) {
            body.put("nodeEligible", health.nodeEligible());
            if (health.sourceUnavailableSinceMs() != 0) {
                // Not in kube-proxy's answer: how stale the served state is while the API server is out of reach.
                body.put("sourceUnavailableSince", Instant.ofEpochMilli(health.sourceUnavailableSinceMs()).toString());
            }
        }
        return new Response(ok ? 200 : 503, JSON_TYPE, (body + "\n").getBytes(StandardCharsets.UTF_8),
            Map.of("X-Content-Type-Options", "nosniff"));
    }

    private Response metrics() {
        return Response.of(200, PrometheusText.CONTENT_TYPE, MetricsPage.render(status, probes));
    }

    private Response services() {
        final ServiceTable table = status.serviceTable();
        if (table == null) {
            return Response.jsonError(503, "no service snapshot yet: the agent has not finished its first sync");
        }
        return Response.of(200, JSON_TYPE, ServicesJson.render(table) + "\n");
    }

    /**
     * {@code /trace?proto=TCP&src=IP[&sport=N]&dst=IP&dport=N}: the flow's first packet through
     * the workers' code against the snapshot the agent serves now (ferry trace --agent).
     */
    private Response trace(final Map<String, List<String>> query) {
        final ServiceTable table = status.serviceTable();
        if (table == null) {
            return Response.jsonError(503, "no service snapshot yet: the agent has not finished its first sync");
        }
        final TraceFlow flow;
        try {
            flow = new TraceFlow(Protocol.parse(single(query, "proto")), Ipv4.parse(single(query, "src")),
                query.containsKey("sport") ? port(single(query, "sport")) : 0,
                Ipv4.parse(single(query, "dst")), port(single(query, "dport")));
        } catch (final IllegalArgumentException e) {
            return Response.jsonError(400, e.getMessage());
        }
        return Response.of(200, JSON_TYPE, TraceFormat.json(new Tracer(table, status.localAddresses()).trace(flow)) + "\n");
    }

    private static String single(final Map<String, List<String>> query, final String name) {
        final List<String> values = query.get(name);
        if (values == null || values.size() != 1) {
            throw new IllegalArgumentException("/trace needs exactly one '" + name + "' parameter");
        }
        return values.getFirst();
    }

    private static int port(final String text) {
        final int port;
        try {
            port = Integer.parseInt(text);
        } catch (final NumberFormatException e) {
            throw new IllegalArgumentException("not a port: '" + text + "'");
        }
        if (port < 1 || port > 65535) {
            throw new IllegalArgumentException("not a port (1-65535): " + port);
        }
        return port;
    }

    private Response conntrack(final Map<String, List<String>> query, final boolean delete) {
        final ConntrackFilter filter;
        try {
            filter = ConntrackFilter.parse(query);
        } catch (final IllegalArgumentException e) {
            return Response.jsonError(400, e.getMessage());
        }
        final ConntrackTable table = status.conntrack();
        if (table == null) {
            return Response.jsonError(503, "the conntrack table is not open yet: the dataplane is starting");
        }
        final ServiceTable services = status.serviceTable();
        if (delete) {
            final Map<String, Object> body = new LinkedHashMap<>();
            body.put("deleted", ConntrackEntries.delete(table, services, filter));
            return Response.of(200, JSON_TYPE, JSON.valueToTree(body).toString() + "\n");
        }
        final ByteArrayOutputStream out = new ByteArrayOutputStream(4096);
        ConntrackEntries.writeJson(table, services, filter, clock.time(), out);
        out.write('\n');
        return new Response(200, JSON_TYPE, out.toByteArray(), Map.of());
    }

    private static Response notFound(final String path, final String known) {
        return Response.of(404, TEXT_TYPE, "404 page not found: " + path + " (this port serves " + known + ")\n");
    }

    /** A change asked for on a TCP listener, which any process on the node can reach. */
    private static Response controlOnly() {
        return new Response(405, TEXT_TYPE, ("405 method not allowed here: the TCP listeners only read. Changes are served on the "
            + "agent's control socket (" + AgentPaths.DEFAULT_CONTROL_SOCKET + ", root only): ferry conntrack -D [filters]\n")
            .getBytes(StandardCharsets.UTF_8), Map.of("Allow", "GET, HEAD"));
    }

    private static Response notAllowed(final String allowed) {
        return new Response(405, TEXT_TYPE, ("405 method not allowed (allowed: " + allowed + ")\n")
            .getBytes(StandardCharsets.UTF_8), Map.of("Allow", allowed));
    }
}
