package dev.ferry.control.admin;

import dev.ferry.dataplane.counters.CounterType;
import dev.ferry.dataplane.packet.DropReason;

/**
 * The Prometheus names of the dataplane's counters. One switch over {@link CounterType}, so a
 * new counter type does not compile until it has a metric name. Drops are one metric,
 * {@value #DROPPED}, labelled {@code reason} with {@link DropReason#label()}.
 */
public final class CounterMetrics {
    public static final String DROPPED = "ferry_packets_dropped_total";
    public static final String DROP_LABEL = "reason";

    private CounterMetrics() {
    }

    public static String metricName(final CounterType type) {
        return switch (type) {
            case RX_PACKETS -> "ferry_packets_received_total";
            case TX_PACKETS -> "ferry_packets_sent_total";
            case PASSED -> "ferry_packets_passed_total";
            case NEW_FLOWS -> "ferry_flows_created_total";
            case TRANSLATED -> "ferry_packets_translated_total";
            case REJECTED -> "ferry_packets_rejected_total";
            case ICMP_ERRORS_TRANSLATED -> "ferry_icmp_errors_translated_total";
            case LOCAL -> "ferry_packets_local_total";
            case CONNTRACK_GC_RECLAIMED -> "ferry_conntrack_gc_reclaimed_total";
            case SNAT_TUPLES_REUSED -> "ferry_snat_tuples_reused_total";
            case UDP_COALESCED -> "ferry_udp_datagrams_coalesced_total";
        };
    }

    /** HELP text: the counter's description, capitalised. */
    public static String help(final CounterType type) {
        final String d = type.description();
        return Character.toUpperCase(d.charAt(0)) + d.substring(1) + ", summed over the dataplane's threads.";
    }
}
