package dev.ferry.conntrack;

/**
 * Connection states, as small int constants so the hot path never allocates. TCP states follow
 * netfilter's {@code nf_conntrack_proto_tcp} names (without its sequence-window checks); UDP has
 * unreplied and assured (packets seen in both directions); ICMP has a single state; SCTP is
 * tracked generically (no chunk parsing): unreplied until a packet is seen in the reply
 * direction, then replied. Protocols other than TCP, ICMP (1 and 58) and SCTP use the UDP states
 * and timeouts.
 */
public final class ConntrackState {
    /** TCP entry inserted but no packet accounted yet (or an unknown state). */
    public static final int NONE = 0;
    /** TCP: SYN seen from the originator. */
    public static final int SYN_SENT = 1;
    /** TCP: SYN/ACK (or simultaneous-open SYN) seen from the reply side. */
    public static final int SYN_RECV = 2;
    /** TCP: three-way handshake completed (or a mid-stream ACK picked up loosely). */
    public static final int ESTABLISHED = 3;
    /** TCP: one side sent FIN. */
    public static final int FIN_WAIT = 4;
    /** TCP: the other side acknowledged the first FIN. */
    public static final int CLOSE_WAIT = 5;
    /** TCP: both sides sent FIN; waiting for the last ACK. */
    public static final int LAST_ACK = 6;
    /** TCP: last FIN acknowledged. */
    public static final int TIME_WAIT = 7;
    /** TCP: reset seen. */
    public static final int CLOSE = 8;
    /** UDP (and other datagram protocols): packets seen in the original direction only. */
    public static final int UDP_UNREPLIED = 9;
    /** UDP: packets seen in both directions. */
    public static final int UDP_ASSURED = 10;
    /** ICMP / ICMPv6 query flows. */
    public static final int ICMP = 11;
    /** SCTP, tracked generically: original direction only so far. */
    public static final int SCTP_UNREPLIED = 12;
    /** SCTP, tracked generically: a packet was seen in the reply direction. */
    public static final int SCTP_REPLIED = 13;

    /** Number of state constants; states are {@code 0 .. COUNT - 1}. */
    public static final int COUNT = 14;

    private static final String[] NAMES = {
        "NONE", "SYN_SENT", "SYN_RECV", "ESTABLISHED", "FIN_WAIT", "CLOSE_WAIT", "LAST_ACK",
        "TIME_WAIT", "CLOSE", "UDP_UNREPLIED", "UDP_ASSURED", "ICMP", "SCTP_UNREPLIED", "SCTP_REPLIED" };

    private ConntrackState() {
    }

    /**
     * Name of a state constant, for logs and the stat tool.
     *
     * @param state one of the constants.
     * @return its name, or {@code "UNKNOWN(n)"}.
     */
    public static String name(final int state) {
        return state >= 0 && state < COUNT ? NAMES[state] : "UNKNOWN(" + state + ")";
    }

    /**
     * Whether a TCP flow in this state is over and its tuples may be taken over by a new flow, as
     * netfilter lets a new SYN take over a tuple in TIME_WAIT: the last FIN was acknowledged, or a
     * reset was seen.
     *
     * @param state one of the constants.
     * @return true for {@link #TIME_WAIT} and {@link #CLOSE}.
     */
    public static boolean isFinished(final int state) {
        return state == TIME_WAIT || state == CLOSE;
    }

    /**
     * Whether the state belongs to TCP.
     *
     * @param state one of the constants.
     * @return true for {@link #NONE} .. {@link #CLOSE}.
     */
    public static boolean isTcp(final int state) {
        return state >= NONE && state <= CLOSE;
    }
}
