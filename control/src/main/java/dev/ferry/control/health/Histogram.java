package dev.ferry.control.health;

import java.util.Arrays;

/**
 * A Prometheus histogram with fixed upper bounds, in seconds: cumulative bucket counts, a sum
 * and a count. Not thread-safe; {@link SyncTracker} guards its histograms and hands out
 * {@link #copy() copies} to readers.
 */
public final class Histogram {
    private final double[] upperBounds;
    private final long[] counts;
    private long count;
    private double sum;

    /** @param upperBounds strictly increasing, without +Inf (always implied). */
    public Histogram(final double... upperBounds) {
        for (int i = 1; i < upperBounds.length; i++) {
            if (!(upperBounds[i] > upperBounds[i - 1])) {
                throw new IllegalArgumentException("bucket bounds must increase: " + Arrays.toString(upperBounds));
            }
        }
        this.upperBounds = upperBounds.clone();
        this.counts = new long[upperBounds.length];
    }

    private Histogram(final Histogram other) {
        this.upperBounds = other.upperBounds;
        this.counts = other.counts.clone();
        this.count = other.count;
        this.sum = other.sum;
    }

    /** kube-proxy's {@code sync_proxy_rules_duration_seconds} buckets: 1 ms doubling 15 times (to 16.384 s). */
    public static Histogram syncDurationBuckets() {
        final double[] bounds = new double[15];
        for (int i = 0; i < bounds.length; i++) {
            bounds[i] = 0.001 * (1L << i);
        }
        return new Histogram(bounds);
    }

    /**
     * kube-proxy's {@code network_programming_duration_seconds} buckets: 0 (its merge() starts
     * with a zero bucket), 0.25 s, 0.5 s, 1..59 s by 1, 60..115 s by 5, 120..300 s by 30.
     */
    public static Histogram networkProgrammingBuckets() {
        final double[] bounds = new double[1 + 2 + 59 + 12 + 7];
        int i = 0;
        bounds[i++] = 0;
        bounds[i++] = 0.25;
        bounds[i++] = 0.5;
        for (int s = 1; s <= 59; s++) {
            bounds[i++] = s;
        }
        for (int s = 60; s <= 115; s += 5) {
            bounds[i++] = s;
        }
        for (int s = 120; s <= 300; s += 30) {
            bounds[i++] = s;
        }
        return new Histogram(bounds);
    }

    public void observe(final double value) {
        for (int i = 0; i < upperBounds.length; i++) {
            if (value <= upperBounds[i]) {
                counts[i]++;
                break;
            }
        }
        count++;
        sum += value;
    }

    public Histogram copy() {
        return new Histogram(this);
    }

    public int bucketCount() {
        return upperBounds.length;
    }

    public double upperBound(final int bucket) {
        return upperBounds[bucket];
    }

    /** Observations at or below the bucket's bound (cumulative, as Prometheus exposes them). */
    public long cumulativeCount(final int bucket) {
        long total = 0;
        for (int i = 0; i <= bucket; i++) {
            total += counts[i];
        }
        return total;
    }

    public long count() {
        return count;
    }

    public double sum() {
        return sum;
    }
}
