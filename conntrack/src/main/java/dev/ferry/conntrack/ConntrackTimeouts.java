package dev.ferry.conntrack;

/**
 * How long an entry lives after its last packet, per state, in milliseconds. The expiry of an
 * entry is {@code nowMs + timeout(state)} after each accounted packet.
 *
 * <p>{@link #kubeProxyDefaults()} uses kube-proxy's conntrack settings where it sets them
 * (TCP established 24 h, TCP close-wait 1 h) and netfilter's defaults elsewhere. SCTP is tracked
 * generically (no chunk parsing), so it gets UDP-like unreplied/replied timeouts: 30 s / 210 s.
 *
 * @param tcpSynSentMs     SYN seen (also used for a TCP entry with no packet yet).
 * @param tcpSynRecvMs     SYN/ACK seen.
 * @param tcpEstablishedMs handshake complete.
 * @param tcpFinWaitMs     one FIN seen.
 * @param tcpCloseWaitMs   first FIN acknowledged.
 * @param tcpLastAckMs     both FINs seen.
 * @param tcpTimeWaitMs    last FIN acknowledged.
 * @param tcpCloseMs       RST seen.
 * @param udpUnrepliedMs   UDP seen in the original direction only.
 * @param udpAssuredMs     UDP seen in both directions.
 * @param icmpMs           ICMP query flows.
 * @param sctpUnrepliedMs  SCTP seen in the original direction only.
 * @param sctpRepliedMs    SCTP seen in both directions.
 */
public record ConntrackTimeouts(
    long tcpSynSentMs,
    long tcpSynRecvMs,
    long tcpEstablishedMs,
    long tcpFinWaitMs,
    long tcpCloseWaitMs,
    long tcpLastAckMs,
    long tcpTimeWaitMs,
    long tcpCloseMs,
    long udpUnrepliedMs,
    long udpAssuredMs,
    long icmpMs,
    long sctpUnrepliedMs,
    long sctpRepliedMs) {
    /** Upper bound of any timeout: keeps {@code expiresAtMs} within the 48 bits it is stored in. */
    public static final long MAX_TIMEOUT_MS = 365L * 24 * 3600 * 1000;

    /**
     * Validates that every timeout is positive and at most {@link #MAX_TIMEOUT_MS}.
     */
    public ConntrackTimeouts {
        check("tcpSynSentMs", tcpSynSentMs);
        check("tcpSynRecvMs", tcpSynRecvMs);
        check("tcpEstablishedMs", tcpEstablishedMs);
        check("tcpFinWaitMs", tcpFinWaitMs);
        check("tcpCloseWaitMs", tcpCloseWaitMs);
        check("tcpLastAckMs", tcpLastAckMs);
        check("tcpTimeWaitMs", tcpTimeWaitMs);
        check("tcpCloseMs", tcpCloseMs);
        check("udpUnrepliedMs", udpUnrepliedMs);
        check("udpAssuredMs", udpAssuredMs);
        check("icmpMs", icmpMs);
        check("sctpUnrepliedMs", sctpUnrepliedMs);
        check("sctpRepliedMs", sctpRepliedMs);
    }

    /**
     * kube-proxy's conntrack timeouts where it sets them, netfilter's defaults elsewhere:
     * SYN_SENT 120 s, SYN_RECV 60 s, ESTABLISHED 24 h, FIN_WAIT 120 s, CLOSE_WAIT 1 h,
     * LAST_ACK 30 s, TIME_WAIT 120 s, CLOSE 10 s, UDP 30 s / 120 s, ICMP 30 s, SCTP 30 s / 210 s.
     *
     * @return the defaults.
     */
    public static ConntrackTimeouts kubeProxyDefaults() {
        return new ConntrackTimeouts(
            120_000L, 60_000L, 24L * 3600 * 1000, 120_000L, 3600_000L, 30_000L, 120_000L, 10_000L,
            30_000L, 120_000L, 30_000L, 30_000L, 210_000L);
    }

    /**
     * Timeout of a state.
     *
     * @param state a {@link ConntrackState} constant.
     * @return its timeout in milliseconds.
     */
    public long timeoutMs(final int state) {
        return switch (state) {
            case ConntrackState.SYN_SENT, ConntrackState.NONE -> tcpSynSentMs;
            case ConntrackState.SYN_RECV -> tcpSynRecvMs;
            case ConntrackState.ESTABLISHED -> tcpEstablishedMs;
            case ConntrackState.FIN_WAIT -> tcpFinWaitMs;
            case ConntrackState.CLOSE_WAIT -> tcpCloseWaitMs;
            case ConntrackState.LAST_ACK -> tcpLastAckMs;
            case ConntrackState.TIME_WAIT -> tcpTimeWaitMs;
            case ConntrackState.CLOSE -> tcpCloseMs;
            case ConntrackState.UDP_ASSURED -> udpAssuredMs;
            case ConntrackState.ICMP -> icmpMs;
            case ConntrackState.SCTP_UNREPLIED -> sctpUnrepliedMs;
            case ConntrackState.SCTP_REPLIED -> sctpRepliedMs;
            default -> udpUnrepliedMs;
        };
    }

    private static void check(final String name, final long valueMs) {
        if (valueMs <= 0 || valueMs > MAX_TIMEOUT_MS) {
            throw new IllegalArgumentException(
                "conntrack timeout " + name + "=" + valueMs + " ms is out of range: use 1 .. " + MAX_TIMEOUT_MS);
        }
    }
}
