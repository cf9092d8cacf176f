package dev.ferry.conntrack;

/**
 * TCP flag bits as they appear in byte 13 of the TCP header, the {@code tcpFlags} argument of
 * {@link ConntrackTable#onPacket(long, int, int, long)}. Only FIN, SYN, RST and ACK drive the
 * state machine; PSH (and URG, ECE, CWR) are accepted and ignored.
 */
public final class TcpFlags {
    /** No more data from the sender. */
    public static final int FIN = 0x01;
    /** Synchronise sequence numbers: opens a connection. */
    public static final int SYN = 0x02;
    /** Reset: aborts the connection. */
    public static final int RST = 0x04;
    /** Push: ignored by conntrack. */
    public static final int PSH = 0x08;
    /** Acknowledgement field is significant. */
    public static final int ACK = 0x10;

    private TcpFlags() {
    }
}
