package dev.ferry.control.admin;

import dev.ferry.control.health.SyncTracker;

import dev.ferry.conntrack.ConntrackTable;
import dev.ferry.control.dns.DnsCounters;
import dev.ferry.control.host.ReplySteering;
import dev.ferry.dataplane.counters.CounterType;
import dev.ferry.dataplane.counters.DataplaneCounters;
import dev.ferry.dataplane.packet.DropReason;
import dev.ferry.dataplane.service.ServiceTable;

/**
 * The {@code /metrics} page: kube-proxy's sync metrics under kube-proxy's names (same meaning,
 * same buckets), then Ferry's dataplane counters summed over the dataplane's threads, drops by
 * reason, and conntrack occupancy. Metrics whose source is not up yet are left out.
 */
final class MetricsPage {
    private MetricsPage() {
    }

    static String render(final AgentStatus status, final HealthCounters probes) {
        final PrometheusText text = new PrometheusText();
        final SyncTracker.Snapshot sync = status.syncTracker().snapshot();

        text.histogram("kubeproxy_sync_proxy_rules_duration_seconds",
            "SyncProxyRules latency in seconds: one compile and swap of the service snapshot", sync.syncDuration());
        text.header("kubeproxy_sync_proxy_rules_last_timestamp_seconds", "gauge",
                "The last time proxy rules were successfully synced")
            .sample("kubeproxy_sync_proxy_rules_last_timestamp_seconds", sync.lastSyncSucceededMs() / 1e3);
        text.histogram("kubeproxy_network_programming_duration_seconds",
            "In Cluster Network Programming Latency in seconds: from an endpoints change being seen to the sync that applied it",
            sync.networkProgramming());
        text.header("kubeproxy_sync_proxy_rules_service_changes_total", "counter", "Cumulative proxy rules Service changes")
            .sample("kubeproxy_sync_proxy_rules_service_changes_total", sync.serviceChangesTotal());
        text.header("kubeproxy_sync_proxy_rules_service_changes_pending", "gauge", "Pending proxy rules Service changes")
            .sample("kubeproxy_sync_proxy_rules_service_changes_pending", sync.serviceChangesPending());
        text.header("kubeproxy_sync_proxy_rules_endpoint_changes_total", "counter", "Cumulative proxy rules Endpoint changes")
            .sample("kubeproxy_sync_proxy_rules_endpoint_changes_total", sync.endpointChangesTotal());
        text.header("kubeproxy_sync_proxy_rules_endpoint_changes_pending", "gauge", "Pending proxy rules Endpoint changes")
            .sample("kubeproxy_sync_proxy_rules_endpoint_changes_pending", sync.endpointChangesPending());
        text.header("kubeproxy_proxy_healthz_total", "counter", "Cumulative proxy healthz HTTP status")
            .sample("kubeproxy_proxy_healthz_total", "code", "200", probes.healthz200())
            .sample("kubeproxy_proxy_healthz_total", "code", "503", probes.healthz503());
        text.header("kubeproxy_proxy_livez_total", "counter", "Cumulative proxy livez HTTP status")
            .sample("kubeproxy_proxy_livez_total", "code", "200", probes.livez200())
            .sample("kubeproxy_proxy_livez_total", "code", "503", probes.livez503());
        text.header("ferry_syncs_total", "counter", "Syncs attempted (compile and swap of the service snapshot)")
            .sample("ferry_syncs_total", sync.syncsTotal());
        text.header("ferry_sync_failures_total", "counter", "Syncs that failed; their changes stay pending")
            .sample("ferry_sync_failures_total", sync.syncFailuresTotal());
        text.header("ferry_state_write_errors_total", "counter",
                "Writes of the agent's state (manifest mode's allocations) that failed; serving went on, the error is logged once")
            .sample("ferry_state_write_errors_total", sync.stateWriteErrorsTotal());

        final ServiceTable services = status.serviceTable();
        if (services != null) {
            text.header("ferry_service_ports", "gauge", "Service ports in the current snapshot")
                .sample("ferry_service_ports", services.size());
        }

        final ReplySteering steering = status.replySteering();
        if (steering != null) {
            text.header("ferry_reply_steering_rules", "gauge",
                    "Policy rules steering replies from endpoint ports into ferry0 (prefs 20 and 22)")
                .sample("ferry_reply_steering_rules", steering.rules());
            text.header("ferry_reply_steering_extra_ports", "gauge",
                    "Ports steered into ferry0 that no endpoint uses, folded in to keep the rule count bounded")
                .sample("ferry_reply_steering_extra_ports", steering.extraPorts());
        }

        final DataplaneCounters counters = status.counters();
        if (counters != null) {
            for (final CounterType type : CounterType.values()) {
                final String name = CounterMetrics.metricName(type);
                text.header(name, "counter", CounterMetrics.help(type)).sample(name, counters.total(type));
            }
            text.header(CounterMetrics.DROPPED, "counter", "Packets dropped, by reason, summed over the dataplane's threads.");
            for (final DropReason reason : DropReason.values()) {
                text.sample(CounterMetrics.DROPPED, CounterMetrics.DROP_LABEL, reason.label(), counters.total(reason));
            }
        }

        final DnsCounters dns = status.dnsCounters();
        if (dns != null) {
            text.header("ferry_dns_queries_total", "counter", "DNS queries received, by question type (other: a type without a label of its own)");
            dns.queriesByType().forEach((type, count) -> text.sample("ferry_dns_queries_total", "type", type, count));
            text.header("ferry_dns_responses_total", "counter", "DNS responses sent, by rcode (forwarded answers by the upstream's)");
            dns.responsesByRcode().forEach((rcode, count) -> text.sample("ferry_dns_responses_total", "rcode", rcode, count));
            text.header("ferry_dns_dropped_total", "counter",
                    "DNS messages dropped unanswered: shorter than a header, a response, or a TCP frame that did not decode")
                .sample("ferry_dns_dropped_total", dns.droppedTotal());
            text.header("ferry_dns_forwarded_total", "counter", "DNS queries sent to the upstream resolver")
                .sample("ferry_dns_forwarded_total", dns.forwardedTotal());
            text.header("ferry_dns_forward_failures_total", "counter",
                    "Forwarded DNS queries the upstream did not answer in time, or too many waiting: answered SERVFAIL")
                .sample("ferry_dns_forward_failures_total", dns.forwardFailuresTotal());
            text.header("ferry_dns_truncated_total", "counter", "UDP answers too large for the client, sent with TC set (the client retries over TCP)")
                .sample("ferry_dns_truncated_total", dns.truncatedTotal());
        }

        final ConntrackTable conntrack = status.conntrack();
        if (conntrack != null) {
            text.header("ferry_conntrack_entries", "gauge", "Flows in the conntrack table")
                .sample("ferry_conntrack_entries", conntrack.size());
            text.header("ferry_conntrack_capacity", "gauge", "Maximum flows the conntrack table holds")
                .sample("ferry_conntrack_capacity", conntrack.capacity());
        }
        return text.toString();
    }
}
