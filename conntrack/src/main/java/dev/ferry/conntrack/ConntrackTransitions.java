package dev.ferry.conntrack;

import dev.ferry.nativeio.IpProtocol;

/**
 * The per-packet state machine: a pure function from (state, direction, TCP flags) to the next
 * state. The state is carried as a 16-bit word: the {@link ConntrackState} in the low byte and
 * auxiliary bits above it (which side sent a FIN, which side sent the last FIN).
 *
 * <p>TCP follows netfilter's state table without its sequence-window validation: SYN from the
 * originator opens (or re-opens from TIME_WAIT/CLOSE) to SYN_SENT; SYN/ACK from the reply side
 * gives SYN_RECV; the originator's ACK gives ESTABLISHED; a FIN gives FIN_WAIT; the other side's
 * ACK of it CLOSE_WAIT; the other side's FIN LAST_ACK; the ACK of that last FIN TIME_WAIT; RST
 * gives CLOSE from anywhere. A bare ACK on an entry with no state yet picks the connection up as
 * ESTABLISHED (netfilter's {@code nf_conntrack_tcp_loose=1}), which is what lets a flow seen
 * first mid-stream keep working. Packets that fit no transition leave the state unchanged.
 */
final class ConntrackTransitions {
    static final int AUX_FIN_ORIGINAL = 1;
    static final int AUX_FIN_REPLY = 2;
    static final int AUX_LAST_FIN_REPLY = 4;

    private ConntrackTransitions() {
    }

    static int initialState(final int protocol) {
        return switch (protocol) {
            case IpProtocol.TCP -> ConntrackState.NONE;
            case IpProtocol.ICMP, IpProtocol.ICMPV6 -> ConntrackState.ICMP;
            case IpProtocol.SCTP -> ConntrackState.SCTP_UNREPLIED;
            default -> ConntrackState.UDP_UNREPLIED;
        };
    }

    /**
     * @param word      current {@code aux << 8 | state}.
     * @param direction 0 original, 1 reply.
     * @param tcpFlags  TCP header flags (ignored for non-TCP states).
     * @return next {@code aux << 8 | state}.
     */
    static int next(final int word, final int direction, final int tcpFlags) {
        final int state = word & 0xFF;
        if (ConntrackState.isTcp(state)) {
            return tcp(word, direction, tcpFlags);
        }
        if (direction == 1) {
            if (state == ConntrackState.UDP_UNREPLIED) {
                return ConntrackState.UDP_ASSURED;
            }
            if (state == ConntrackState.SCTP_UNREPLIED) {
                return ConntrackState.SCTP_REPLIED;
            }
        }
        return word;
    }

    private static int tcp(final int word, final int direction, final int flags) {
        final int state = word & 0xFF;
        final int aux = word >>> 8;
        if ((flags & TcpFlags.RST) != 0) {
            return pack(ConntrackState.CLOSE, aux);
        }

        final boolean ack = (flags & TcpFlags.ACK) != 0;
        if ((flags & TcpFlags.SYN) != 0) {
            if (direction == 0) {
                if (!ack && (state == ConntrackState.NONE || state == ConntrackState.SYN_SENT ||
                    state == ConntrackState.TIME_WAIT || state == ConntrackState.CLOSE)) {
                    return ConntrackState.SYN_SENT; // open, retransmit or re-open: FIN history cleared
                }
                return word;
            }
            // reply side: SYN/ACK, or a bare SYN of a simultaneous open
            if (state == ConntrackState.SYN_SENT || state == ConntrackState.SYN_RECV) {
                return pack(ConntrackState.SYN_RECV, aux);
            }
            return word;
        }

        final int finBit = direction == 0 ? AUX_FIN_ORIGINAL : AUX_FIN_REPLY;
        final int otherFinBit = direction == 0 ? AUX_FIN_REPLY : AUX_FIN_ORIGINAL;
        if ((flags & TcpFlags.FIN) != 0) {
            switch (state) {
                case ConntrackState.NONE, ConntrackState.SYN_RECV, ConntrackState.ESTABLISHED:
                    return pack(ConntrackState.FIN_WAIT, aux | finBit);
                case ConntrackState.FIN_WAIT, ConntrackState.CLOSE_WAIT:
                    if ((aux & otherFinBit) != 0 && (aux & finBit) == 0) {
                        return pack(ConntrackState.LAST_ACK, aux | finBit | (direction == 1 ? AUX_LAST_FIN_REPLY : 0));
                    }
                    return word; // retransmitted FIN
                default:
                    return word;
            }
        }

        if (ack) {
            switch (state) {
                case ConntrackState.NONE:
                    return pack(ConntrackState.ESTABLISHED, aux);
                case ConntrackState.SYN_RECV:
                    return direction == 0 ? pack(ConntrackState.ESTABLISHED, aux) : word;
                case ConntrackState.FIN_WAIT:
                    return (aux & otherFinBit) != 0 ? pack(ConntrackState.CLOSE_WAIT, aux) : word;
                case ConntrackState.LAST_ACK:
                    final int lastFinDirection = (aux & AUX_LAST_FIN_REPLY) != 0 ? 1 : 0;
                    return direction != lastFinDirection ? pack(ConntrackState.TIME_WAIT, aux) : word;
                default:
                    return word;
            }
        }
        return word;
    }

    private static int pack(final int state, final int aux) {
        return (aux << 8) | state;
    }
}
