package dev.ferry.dataplane.trace;

import java.util.List;

/**
 * What the dataplane did with a traced packet.
 *
 * @param verdict    DNAT, REJECT, DROP, PASS or LOCAL (the names of {@code Verdict})
 * @param service    "namespace/name:port" of the service port that matched, or null
 * @param candidates every backend "ip:port" this packet could have been sent to, sorted
 * @param selected   the backend "ip:port" chosen, or null when not DNATed
 * @param masquerade whether the source was rewritten (SNAT)
 * @param reason     one sentence saying why
 */
public record TraceResult(String verdict, String service, List<String> candidates, String selected, boolean masquerade, String reason) {
    public TraceResult {
        candidates = List.copyOf(candidates);
    }
}
