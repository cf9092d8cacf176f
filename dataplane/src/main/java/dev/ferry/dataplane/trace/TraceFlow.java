package dev.ferry.dataplane.trace;

import dev.ferry.dataplane.service.Protocol;

/**
 * One synthetic first packet for {@link Tracer}: the 5-tuple a user asks about.
 *
 * @param protocol TCP, UDP or SCTP
 * @param srcAddr  source IPv4 ({@link dev.ferry.dataplane.addr.Ipv4} int)
 * @param srcPort  source port; 0 lets trace pick a fixed ephemeral port
 * @param dstAddr  destination IPv4
 * @param dstPort  destination port
 */
public record TraceFlow(Protocol protocol, int srcAddr, int srcPort, int dstAddr, int dstPort) {
    /** The source port trace uses when none is given. */
    public static final int DEFAULT_SOURCE_PORT = 40000;

    public int effectiveSrcPort() {
        return srcPort == 0 ? DEFAULT_SOURCE_PORT : srcPort;
    }
}
