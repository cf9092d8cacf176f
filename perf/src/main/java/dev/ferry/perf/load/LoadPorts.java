package dev.ferry.perf.load;

/**
 * The load server's ports and message sizes, shared by server, client and the lab bench's
 * Service manifests and kernel rules.
 * <pre>
 *   7000/udp  sink: counts datagrams and bytes
 *   7001/tcp  request/response: every 64-byte request is answered with 64 bytes, the connection stays open
 *   7002/tcp  connect, request, close: one 64-byte request, a 64-byte answer, then the server closes
 *   7003/tcp  bulk sink: counts bytes
 *   7009/tcp  stats: writes one line of counters on accept and closes
 * </pre>
 */
public final class LoadPorts {
    public static final int UDP_SINK = 7000;
    public static final int TCP_RR = 7001;
    public static final int TCP_CRR = 7002;
    public static final int TCP_BULK = 7003;
    public static final int STATS = 7009;
    /** Request and response size of the rr and crr tests. */
    public static final int MESSAGE_BYTES = 64;

    private LoadPorts() {
    }

    /** The server port a load mode sends to. */
    public static int port(final LoadMode mode) {
        return switch (mode) {
            case UDP -> UDP_SINK;
            case RR -> TCP_RR;
            case CRR -> TCP_CRR;
            case BULK -> TCP_BULK;
        };
    }
}
