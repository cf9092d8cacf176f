package dev.ferry.control.dns;

import dev.ferry.control.admin.AdminServer;
import dev.ferry.control.admin.AgentStatus;
import dev.ferry.control.health.SyncTracker;
import org.agrona.concurrent.SystemEpochClock;
import org.junit.jupiter.api.Test;

import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertTrue;

/** The DNS counters on the agent's /metrics page, under the names OPERATIONS.md lists. */
class DnsMetricsTest {
    @Test
    void shouldExposeQueriesByTypeAndResponsesByRcodeOnMetrics() throws Exception {
        try (DnsServer dns = DnsServer.start(new DnsServer.Context()
                 .addresses(List.of(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0))));
             AdminServer admin = AdminServer.start(new AdminServer.Context()
                 .status(AgentStatus.of(() -> null, null, null, new SyncTracker(SystemEpochClock.INSTANCE, 60_000))
                     .withDns(dns.counters()))
                 .healthzPort(0)
                 .metricsPort(0))) {
            dns.serve(DnsServerDigTest.names());
            final InetSocketAddress address = dns.udpAddresses().getFirst();
            Dig.query(address, false, "web.default.svc.cluster.local", "A");
            Dig.query(address, true, "nope.default.svc.cluster.local", "A");
            Dig.query(address, false, "_http._tcp.web.default.svc.cluster.local", "SRV");
            final String metrics = HttpClient.newHttpClient().send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:"
                + admin.metricsAddress().getPort() + "/metrics")).build(), HttpResponse.BodyHandlers.ofString()).body();
            for (final String line : List.of("ferry_dns_queries_total{type=\"A\"} 2", "ferry_dns_queries_total{type=\"SRV\"} 1",
                "ferry_dns_responses_total{rcode=\"NOERROR\"} 2", "ferry_dns_responses_total{rcode=\"NXDOMAIN\"} 1",
                "ferry_dns_dropped_total 0", "# TYPE ferry_dns_queries_total counter")) {
                assertTrue(metrics.contains(line + "\n"), line + " in:\n" + metrics);
            }
        }
    }
}
