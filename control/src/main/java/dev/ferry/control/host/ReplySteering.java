package dev.ferry.control.host;

/**
 * What the endpoint-reply steering (prefs 20/22, {@link HostRouting#replyRules}) holds now, for
 * metrics and logs.
 *
 * @param rules      reply rules installed (prefs 20 and 22, without the fixed ICMP ones)
 * @param extraPorts ports steered that no endpoint uses, folded in to keep the rule count bounded
 * @param folded     whether the rule budget forced folding
 */
public record ReplySteering(int rules, int extraPorts, boolean folded) {
    public static final ReplySteering NONE = new ReplySteering(0, 0, false);
}
