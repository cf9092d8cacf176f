package dev.ferry.perf.load;

import org.HdrHistogram.Histogram;

/**
 * What one load run measured in its window (after the warmup): how many operations completed
 * (datagrams delivered, connections, requests), their rate, bytes per second delivered, errors,
 * and for TCP the latency percentiles in microseconds. Printed by the client as one JSON line.
 *
 * @param mode       what was measured
 * @param target     where the load went: a ClusterIP:port or the pod addresses
 * @param windowS    the measurement window's length in seconds
 * @param count      operations completed in the window: datagrams received by the servers, connections
 *                   completed, requests answered; bytes for bulk
 * @param sent       datagrams the client sent in the window (UDP), else equal to {@code count}
 * @param ratePerS   {@code count / windowS}
 * @param bitsPerS   payload bits per second delivered (UDP, bulk), 0 otherwise
 * @param errors     failed connects, timeouts, resets in the window
 * @param latency    TCP latency percentiles (connect to answer for crr, request to answer for rr), or null
 * @param slowestSecondPerS crr and rr: the fewest operations completed in any whole second of the window (a
 *                   collapse part way through a long window shows here, not in the mean); 0 otherwise
 */
public record LoadResult(LoadMode mode, String target, double windowS, long count, long sent, double ratePerS, double bitsPerS,
                         long errors, Latency latency, double slowestSecondPerS) {

    /** A result without a per-second figure (UDP, bulk). */
    public LoadResult(final LoadMode mode, final String target, final double windowS, final long count, final long sent,
                      final double ratePerS, final double bitsPerS, final long errors, final Latency latency) {
        this(mode, target, windowS, count, sent, ratePerS, bitsPerS, errors, latency, 0);
    }

    /** Latency percentiles in microseconds. */
    public record Latency(long samples, double p50Us, double p90Us, double p99Us, double p999Us, double maxUs, double meanUs) {
        public static Latency of(final Histogram ns) {
            if (ns.getTotalCount() == 0) {
                return null;
            }
            return new Latency(ns.getTotalCount(), ns.getValueAtPercentile(50) / 1e3, ns.getValueAtPercentile(90) / 1e3,
                ns.getValueAtPercentile(99) / 1e3, ns.getValueAtPercentile(99.9) / 1e3, ns.getMaxValue() / 1e3, ns.getMean() / 1e3);
        }
    }

    /** UDP loss in the window: the share of datagrams sent that no server counted. */
    public double lossRatio() {
        return sent <= 0 ? 0 : Math.max(0, 1.0 - (double) count / sent);
    }
}
