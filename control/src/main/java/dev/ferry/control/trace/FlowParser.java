package dev.ferry.control.trace;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.json.JsonMapper;
import dev.ferry.control.tree.Field;
import dev.ferry.control.tree.FieldException;
import dev.ferry.dataplane.addr.Ipv4;
import dev.ferry.dataplane.service.Protocol;
import dev.ferry.dataplane.trace.TraceFlow;

import java.util.Set;

/**
 * Parses the flows of {@code ferry trace --flows}: one JSON object per line,
 * {@code {"proto": "TCP", "src": "10.0.0.2", "sport": 40000, "dst": "172.30.0.41", "dport": 80}},
 * sport optional. Unknown keys are errors, so that a misspelt "dport" is not silently dropped.
 */
public final class FlowParser {
    private static final ObjectMapper JSON = JsonMapper.builder().build();
    private static final Set<String> KEYS = Set.of("proto", "src", "sport", "dst", "dport");

    private FlowParser() {
    }

    /** The flow on {@code line}; throws {@link IllegalArgumentException} saying what is wrong with it. */
    public static TraceFlow parse(final String line) {
        final JsonNode node;
        try {
            node = JSON.readTree(line);
        } catch (final JsonProcessingException e) {
            throw new IllegalArgumentException("not valid JSON: " + e.getOriginalMessage().lines().findFirst().orElse(""), e);
        }
        if (node == null || !node.isObject()) {
            throw new IllegalArgumentException("expected a JSON object such as "
                + "{\"proto\": \"TCP\", \"src\": \"10.0.0.2\", \"dst\": \"172.30.0.41\", \"dport\": 80}");
        }
        final Field root = Field.root(node);
        try {
            for (final String key : root.keys()) {
                if (!KEYS.contains(key)) {
                    throw new FieldException(key, "unknown key (known keys: proto, src, sport, dst, dport)");
                }
            }
            final Protocol protocol = protocol(root.get("proto"));
            final int src = address(root.get("src"));
            final int sport = root.get("sport").isPresent() ? root.get("sport").port() : 0;
            final int dst = address(root.get("dst"));
            final int dport = root.get("dport").port();
            return new TraceFlow(protocol, src, sport, dst, dport);
        } catch (final FieldException e) {
            throw new IllegalArgumentException(e.getMessage(), e);
        }
    }

    private static Protocol protocol(final Field field) {
        final String text = field.text();
        try {
            return Protocol.parse(text);
        } catch (final IllegalArgumentException e) {
            throw field.error("'" + text + "' is not a protocol (TCP, UDP or SCTP)");
        }
    }

    private static int address(final Field field) {
        final String text = field.text();
        try {
            return Ipv4.parse(text);
        } catch (final IllegalArgumentException e) {
            throw field.error("'" + text + "' is not an IPv4 address");
        }
    }
}
