package dev.ferry.perf.load;

/** What the load client measures. */
public enum LoadMode {
    /** UDP packets per second delivered to the servers (one-way, the senders blast). */
    UDP,
    /** TCP connections per second: connect, 64-byte request, 64-byte answer, close (netperf TCP_CRR). */
    CRR,
    /** TCP request/response rate and latency on open connections (netperf TCP_RR). */
    RR,
    /** Bulk TCP throughput delivered to the servers. */
    BULK
}
