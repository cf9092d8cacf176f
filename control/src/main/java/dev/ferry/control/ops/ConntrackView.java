package dev.ferry.control.ops;

import com.fasterxml.jackson.databind.JsonNode;

import java.util.Locale;

/**
 * {@code ferry conntrack -L}'s lines, from the agent's {@code /conntrack} JSON, in
 * {@code conntrack -L}'s order: protocol name and number, seconds to expiry, state, the
 * original then the reply tuple, flags in brackets, and the service the flow was sent to:
 * <pre>
 * tcp      6 86399 ESTABLISHED src=10.244.1.9 dst=172.30.0.41 sport=40000 dport=80 src=10.244.1.5 dst=10.244.1.9 sport=8080 dport=40000 [MASQUERADED] service=default/web:http
 * </pre>
 */
public final class ConntrackView {
    private ConntrackView() {
    }

    public static String line(final JsonNode entry) {
        final String proto = entry.path("proto").asText();
        final StringBuilder out = new StringBuilder(160);
        out.append(String.format(Locale.ROOT, "%-8s %d %d", proto.toLowerCase(Locale.ROOT), number(proto),
            entry.path("expiresInSeconds").asLong()));
        final String state = entry.path("state").asText();
        // conntrack prints a state for TCP (and SCTP) only; UDP and ICMP entries have none.
        if (proto.equals("TCP")) {
            out.append(' ').append(state);
        }
        tuple(out, entry.path("original"));
        tuple(out, entry.path("reply"));
        if (state.equals("UDP_UNREPLIED") || state.equals("SCTP_UNREPLIED")) {
            out.append(" [UNREPLIED]");
        }
        for (final JsonNode flag : entry.path("flags")) {
            out.append(" [").append(flag.asText()).append(']');
        }
        final JsonNode service = entry.path("service");
        out.append(" service=").append(service.isNull() || service.isMissingNode() ? "<none>" : service.asText());
        return out.toString();
    }

    private static void tuple(final StringBuilder out, final JsonNode tuple) {
        out.append(" src=").append(tuple.path("src").asText())
            .append(" dst=").append(tuple.path("dst").asText())
            .append(" sport=").append(tuple.path("sport").asInt())
            .append(" dport=").append(tuple.path("dport").asInt());
    }

    private static int number(final String proto) {
        return switch (proto) {
            case "TCP" -> 6;
            case "UDP" -> 17;
            case "ICMP" -> 1;
            case "ICMPv6" -> 58;
            case "SCTP" -> 132;
            default -> proto.startsWith("proto-") ? Integer.parseInt(proto.substring(6)) : 0;
        };
    }
}
