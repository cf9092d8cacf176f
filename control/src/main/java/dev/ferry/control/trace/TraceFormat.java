package dev.ferry.control.trace;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.json.JsonMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.ferry.dataplane.addr.Ipv4;
import dev.ferry.dataplane.trace.TraceFlow;
import dev.ferry.dataplane.trace.TraceResult;

import java.io.UncheckedIOException;

/**
 * How trace results are printed, apart from where they come from, so that {@code ferry trace}
 * against manifests and against a running agent print the same thing. JSON is one object per
 * line with a fixed key order: verdict, service, candidates, selected, masquerade, reason.
 */
public final class TraceFormat {
    private static final ObjectMapper JSON = JsonMapper.builder().build();

    private TraceFormat() {
    }

    /** One line of JSON; service and selected are null when absent, candidates as the dataplane sorted them. */
    public static String json(final TraceResult result) {
        final ObjectNode object = JSON.createObjectNode();
        object.put("verdict", result.verdict());
        object.put("service", result.service());
        final ArrayNode candidates = object.putArray("candidates");
        result.candidates().forEach(candidates::add);
        object.put("selected", result.selected());
        object.put("masquerade", result.masquerade());
        object.put("reason", result.reason());
        return write(object);
    }

    /** The result a {@link #json} line describes (what {@code ferry trace --agent} reads back). */
    public static TraceResult parse(final com.fasterxml.jackson.databind.JsonNode node) {
        final java.util.List<String> candidates = new java.util.ArrayList<>();
        node.path("candidates").forEach(c -> candidates.add(c.asText()));
        return new TraceResult(node.path("verdict").asText(), textOrNull(node.get("service")), candidates,
            textOrNull(node.get("selected")), node.path("masquerade").asBoolean(), node.path("reason").asText());
    }

    private static String textOrNull(final com.fasterxml.jackson.databind.JsonNode node) {
        return node == null || node.isNull() ? null : node.asText();
    }

    /** One line of JSON for a flow that could not be traced: {"error": "..."}. */
    public static String jsonError(final String message) {
        final ObjectNode object = JSON.createObjectNode();
        object.put("error", message);
        return write(object);
    }

    /** "TCP 10.0.0.2:40000 -> 172.30.0.41:80". */
    public static String flow(final TraceFlow flow) {
        return flow.protocol() + " " + Ipv4.format(flow.srcAddr(), flow.effectiveSrcPort()) + " -> "
            + Ipv4.format(flow.dstAddr(), flow.dstPort());
    }

    /** A few readable lines: the flow, then the verdict and what led to it. Ends with a newline. */
    public static String text(final TraceFlow flow, final TraceResult result) {
        final StringBuilder out = new StringBuilder();
        out.append(flow(flow)).append('\n');
        out.append("  verdict:    ").append(result.verdict());
        if (result.selected() != null) {
            out.append(" to ").append(result.selected());
        }
        out.append('\n');
        out.append("  service:    ").append(result.service() == null ? "(none)" : result.service()).append('\n');
        out.append("  candidates: ").append(result.candidates().isEmpty() ? "(none)" : String.join(", ", result.candidates()))
            .append('\n');
        out.append("  masquerade: ").append(result.masquerade() ? "yes" : "no").append('\n');
        out.append("  reason:     ").append(result.reason()).append('\n');
        return out.toString();
    }

    private static String write(final ObjectNode object) {
        try {
            return JSON.writeValueAsString(object);
        } catch (final JsonProcessingException e) {
            throw new UncheckedIOException(e);
        }
    }
}
