package dev.ferry.control.admin;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.ferry.conntrack.FlowKey;
import dev.ferry.control.health.SyncTracker;
import dev.ferry.control.ops.AgentClient;
import dev.ferry.control.ops.ControlClient;
import dev.ferry.nativeio.IpProtocol;
import io.netty.channel.epoll.Epoll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.http.HttpResponse;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class AdminServerTest {
    private static final ObjectMapper JSON = new ObjectMapper();

    private AdminFixture fixture;

    @AfterEach
    void close() {
        if (fixture != null) {
            fixture.close();
        }
    }

    @Test
    void shouldBindBothListenersToLoopbackOnEpollWhenItLoads() {
        fixture = new AdminFixture();
        assertEquals(InetAddress.getLoopbackAddress(), fixture.server.healthzAddress().getAddress());
        assertEquals(InetAddress.getLoopbackAddress(), fixture.server.metricsAddress().getAddress());
        assertTrue(fixture.server.healthzAddress().getPort() > 0);
        assertEquals(Epoll.isAvailable() ? "epoll" : "nio", fixture.server.transport(),
            "epoll unavailable here: " + Epoll.unavailabilityCause());
    }

    @Test
    void shouldAnswerHealthzOkThenUnavailableWhenAChangeWaitsPastTheTimeout() throws Exception {
        fixture = new AdminFixture();
        HttpResponse<String> healthz = fixture.get(fixture.healthzUrl() + "/healthz");
        assertEquals(200, healthz.statusCode(), "healthy while starting up: nothing queued");
        JsonNode body = JSON.readTree(healthz.body());
        assertEquals(List.of("lastUpdated", "currentTime", "nodeEligible"), names(body));
        assertEquals(Instant.ofEpochMilli(AdminFixture.START_MS).toString(), body.get("currentTime").asText());
        assertEquals(body.get("currentTime"), body.get("lastUpdated"), "a healthy answer reports lastUpdated as now");
        assertTrue(body.get("nodeEligible").asBoolean());
        assertEquals("application/json", healthz.headers().firstValue("Content-Type").orElseThrow());

        fixture.tracker.endpointsChanged(1);
        fixture.clock.advance(AdminFixture.HEALTHZ_TIMEOUT_MS - 1);
        assertEquals(200, fixture.get(fixture.healthzUrl() + "/healthz").statusCode(), "pending, but not late yet");
        assertEquals(200, fixture.get(fixture.healthzUrl() + "/livez").statusCode());

        fixture.clock.advance(1);
        healthz = fixture.get(fixture.healthzUrl() + "/healthz");
        assertEquals(503, healthz.statusCode(), "a change pending for the whole timeout");
        body = JSON.readTree(healthz.body());
        assertEquals(AdminRoutes.NEVER, body.get("lastUpdated").asText(), "never synced");
        final HttpResponse<String> livez = fixture.get(fixture.healthzUrl() + "/livez");
        assertEquals(503, livez.statusCode());
        assertEquals(List.of("lastUpdated", "currentTime"), names(JSON.readTree(livez.body())));

        fixture.tracker.syncSucceeded(2_000_000);
        assertEquals(200, fixture.get(fixture.healthzUrl() + "/healthz").statusCode(), "the sync cleared the pending change");

        final String metrics = fixture.get(fixture.metricsUrl() + "/metrics").body();
        assertTrue(metrics.contains("kubeproxy_proxy_healthz_total{code=\"200\"} 3\n"), metrics);
        assertTrue(metrics.contains("kubeproxy_proxy_healthz_total{code=\"503\"} 1\n"), metrics);
        assertTrue(metrics.contains("kubeproxy_proxy_livez_total{code=\"503\"} 1\n"), metrics);
    }

    @Test
    void shouldFailHealthzButNotLivezWhileTheNodeIsNotEligible() throws Exception {
        fixture = new AdminFixture();
        fixture.tracker.nodeEligible(false);
        final HttpResponse<String> healthz = fixture.get(fixture.healthzUrl() + "/healthz");
        assertEquals(503, healthz.statusCode());
        assertFalse(JSON.readTree(healthz.body()).get("nodeEligible").asBoolean());
        assertEquals(200, fixture.get(fixture.healthzUrl() + "/livez").statusCode());
    }

    @Test
    void shouldExposeKubeProxySyncMetricsAndFerryCountersInPrometheusText() {
        fixture = new AdminFixture();
        fixture.tracker.servicesChanged(2);
        fixture.tracker.endpointsChanged(3);
        fixture.clock.advance(1_500);
        fixture.tracker.syncSucceeded(3_000_000); // 3 ms
        fixture.tracker.stateWritesFailed(2);

        final HttpResponse<String> response = fixture.get(fixture.metricsUrl() + "/metrics");
        assertEquals(200, response.statusCode());
        assertEquals(PrometheusText.CONTENT_TYPE, response.headers().firstValue("Content-Type").orElseThrow());
        final String text = response.body();
        for (final String line : List.of(
            "# TYPE kubeproxy_sync_proxy_rules_duration_seconds histogram",
            "kubeproxy_sync_proxy_rules_duration_seconds_bucket{le=\"0.002\"} 0",
            "kubeproxy_sync_proxy_rules_duration_seconds_bucket{le=\"0.004\"} 1",
            "kubeproxy_sync_proxy_rules_duration_seconds_bucket{le=\"+Inf\"} 1",
            "kubeproxy_sync_proxy_rules_duration_seconds_count 1",
            "# TYPE kubeproxy_sync_proxy_rules_last_timestamp_seconds gauge",
            "kubeproxy_sync_proxy_rules_last_timestamp_seconds " + PrometheusText.number((AdminFixture.START_MS + 1_500) / 1e3),
            "# TYPE kubeproxy_network_programming_duration_seconds histogram",
            "kubeproxy_network_programming_duration_seconds_bucket{le=\"1\"} 0",
            "kubeproxy_network_programming_duration_seconds_bucket{le=\"2\"} 3",
            "kubeproxy_network_programming_duration_seconds_sum 4.5",
            "kubeproxy_sync_proxy_rules_service_changes_total 2",
            "kubeproxy_sync_proxy_rules_endpoint_changes_total 3",
            "kubeproxy_sync_proxy_rules_endpoint_changes_pending 0",
            "ferry_state_write_errors_total 2",
            "ferry_service_ports 4",
            "# TYPE ferry_packets_received_total counter",
            "ferry_packets_received_total 16",
            "ferry_packets_sent_total 0",
            "ferry_packets_dropped_total{reason=\"conntrack_full\"} 2",
            "ferry_packets_dropped_total{reason=\"ring_full\"} 0",
            "ferry_conntrack_entries 4",
            "ferry_conntrack_capacity 64")) {
            assertTrue(text.contains(line + "\n"), () -> "missing line '" + line + "' in:\n" + text);
        }
        assertTrue(text.endsWith("\n"));
    }

    @Test
    void shouldLeaveOutDataplaneMetricsAndAnswer503ForConntrackBeforeTheDataplaneIsUp() {
        fixture = new AdminFixture(false);
        final String text = fixture.get(fixture.metricsUrl() + "/metrics").body();
        assertTrue(text.contains("kubeproxy_sync_proxy_rules_duration_seconds_count 0\n"), text);
        assertFalse(text.contains("ferry_packets_received_total"), text);
        assertFalse(text.contains("ferry_conntrack_entries"), text);
        final HttpResponse<String> conntrack = fixture.get(fixture.metricsUrl() + "/conntrack");
        assertEquals(503, conntrack.statusCode());
        assertTrue(conntrack.body().contains("not open yet"), conntrack.body());
    }

    @Test
    void shouldListServicePortsWithFrontendsPoliciesAndEndpointsAsJson() throws Exception {
        fixture = new AdminFixture();
        final HttpResponse<String> response = fixture.get(fixture.metricsUrl() + "/services");
        assertEquals(200, response.statusCode());
        final JsonNode ports = JSON.readTree(response.body());
        assertEquals(4, ports.size());

        final JsonNode web = ports.get(0);
        assertEquals("default/web:http", web.get("name").asText());
        assertEquals("NodePort", web.get("type").asText());
        assertEquals("TCP", web.get("protocol").asText());
        assertEquals(80, web.get("port").asInt());
        assertEquals("[\"10.96.0.50\"]", web.at("/frontends/clusterIPs").toString());
        assertEquals("[\"198.18.0.11:30080\"]", web.at("/frontends/nodePorts").toString());
        assertEquals("Cluster", web.at("/policies/externalTrafficPolicy").asText());
        assertEquals("None", web.at("/policies/sessionAffinity").asText());
        assertEquals(3, web.get("endpoints").size());
        final JsonNode notReady = web.get("endpoints").get(2);
        assertEquals("10.244.2.8", notReady.get("address").asText());
        assertFalse(notReady.get("ready").asBoolean());
        assertFalse(notReady.get("serving").asBoolean());
        assertTrue(notReady.get("terminating").asBoolean());
        assertFalse(notReady.get("local").asBoolean());
        assertTrue(web.get("endpoints").get(0).get("local").asBoolean());
        assertEquals("[\"10.244.1.5:8080\",\"10.244.2.7:8080\"]", web.get("clusterEndpoints").toString());
        assertEquals("[\"10.244.1.5:8080\"]", web.get("localEndpoints").toString());

        final JsonNode front = ports.get(2);
        assertEquals("shop/front:443", front.get("name").asText());
        assertEquals("LoadBalancer", front.get("type").asText());
        assertEquals("[\"198.18.100.5\"]", front.at("/frontends/loadBalancerIPs").toString());
        assertEquals("[\"198.18.0.200\"]", front.at("/frontends/externalIPs").toString());
        assertEquals("[\"198.18.0.11:32000\"]", front.at("/frontends/healthCheckNodePorts").toString());
        assertEquals("Local", front.at("/policies/externalTrafficPolicy").asText());
        assertEquals("ClientIP", front.at("/policies/sessionAffinity").asText());
        assertEquals(600, front.at("/policies/sessionAffinityTimeoutSeconds").asInt());
        assertEquals("[\"198.18.1.0/24\"]", front.at("/policies/loadBalancerSourceRanges").toString());

        final JsonNode lonely = ports.get(3);
        assertEquals("ClusterIP", lonely.get("type").asText());
        assertEquals(0, lonely.get("clusterEndpoints").size());
    }

    @Test
    void shouldListConntrackEntriesWithTuplesStateExpiryServiceAndFlags() throws Exception {
        fixture = new AdminFixture();
        fixture.clock.advance(10_000);
        final HttpResponse<String> response = fixture.get(fixture.metricsUrl() + "/conntrack");
        assertEquals(200, response.statusCode());
        final JsonNode entries = JSON.readTree(response.body());
        assertEquals(4, entries.size());

        final JsonNode nodePort = find(entries, "198.18.1.50", 50000);
        assertEquals(List.of("proto", "original", "reply", "state", "expiresInSeconds", "service", "flags", "packets", "bytes"),
            names(nodePort));
        assertEquals("TCP", nodePort.get("proto").asText());
        assertEquals("{\"src\":\"198.18.1.50\",\"sport\":50000,\"dst\":\"198.18.0.11\",\"dport\":30080}",
            nodePort.get("original").toString());
        assertEquals("{\"src\":\"10.244.2.7\",\"sport\":8080,\"dst\":\"198.18.0.11\",\"dport\":61000}",
            nodePort.get("reply").toString());
        assertEquals("SYN_SENT", nodePort.get("state").asText());
        final long synSentS = fixture.conntrack.timeouts().timeoutMs(dev.ferry.conntrack.ConntrackState.SYN_SENT) / 1000;
        assertEquals(synSentS - 10, nodePort.get("expiresInSeconds").asLong());
        assertEquals("default/web:http", nodePort.get("service").asText(), "resolved from the NodePort frontend");
        assertEquals("[\"MASQUERADED\"]", nodePort.get("flags").toString());
        assertEquals(1, nodePort.at("/packets/original").asLong());
        assertEquals(60, nodePort.at("/bytes/original").asLong());

        final JsonNode dns = find(entries, "10.244.1.9", 5353);
        assertEquals("UDP", dns.get("proto").asText());
        assertEquals("UDP_UNREPLIED", dns.get("state").asText());
        assertEquals("kube-system/dns:dns", dns.get("service").asText());
        assertEquals("[]", dns.get("flags").toString());
    }

    @Test
    void shouldFilterConntrackEntriesLikeConntrackList() throws Exception {
        fixture = new AdminFixture();
        assertEquals(List.of(40000, 40001, 50000), sourcePorts("proto=tcp"));
        assertEquals(List.of(5353), sourcePorts("proto=17"));
        assertEquals(List.of(5353, 40000, 40001), sourcePorts("src=10.244.1.9"));
        assertEquals(List.of(40000, 40001), sourcePorts("dst=10.96.0.50&dport=80"));
        assertEquals(List.of(40000, 40001, 50000), sourcePorts("service=default/web:http"));
        assertEquals(List.of(40000, 40001, 50000), sourcePorts("service=default/web"), "namespace/name means every port");
        assertEquals(List.of(), sourcePorts("service=default/we"));
        assertEquals(List.of(50000), sourcePorts("service=default/web&dport=30080"));
    }

    @Test
    void shouldDeleteExactlyTheFilteredEntriesOverTheControlSocketAndReturnTheCount() throws Exception {
        fixture = new AdminFixture();
        final ControlClient control = new ControlClient(fixture.controlSocket());
        assertEquals(2, control.delete("/conntrack", "proto=tcp&src=10.244.1.9").get("deleted").asInt());
        assertEquals(2, fixture.conntrack.size());
        assertEquals(List.of(5353, 50000), sourcePorts(""));
        final FlowKey gone = new FlowKey().setIpv4(IpProtocol.TCP, AdminFixture.ip("10.244.1.9"), 40000,
            AdminFixture.ip("10.96.0.50"), 80);
        assertEquals(dev.ferry.conntrack.ConntrackTable.NOT_FOUND, fixture.conntrack.find(gone));

        assertEquals(2, control.delete("/conntrack", "").get("deleted").asInt(), "no filter deletes everything, like conntrack -D");
        assertEquals(0, fixture.conntrack.size());
    }

    @Test
    void shouldRefuseADeleteOnTheTcpListenerWith405PointingAtTheCliAndChangeNothing() {
        fixture = new AdminFixture();
        final HttpResponse<String> refused = fixture.send("DELETE", fixture.metricsUrl() + "/conntrack");
        assertEquals(405, refused.statusCode());
        assertEquals("GET, HEAD", refused.headers().firstValue("Allow").orElseThrow());
        assertTrue(refused.body().contains("control socket") && refused.body().contains("ferry conntrack -D"), refused.body());
        assertEquals(4, fixture.conntrack.size(), "nothing deleted");
    }

    @Test
    void shouldKeepTheControlSocketRootsOnly() throws Exception {
        fixture = new AdminFixture();
        final java.nio.file.Path socket = fixture.controlSocket();
        assertEquals("rw-------", java.nio.file.attribute.PosixFilePermissions.toString(java.nio.file.Files.getPosixFilePermissions(socket)));
        // its directory open to all, so that only the socket's own mode stands in the way
        java.nio.file.Files.setPosixFilePermissions(socket.getParent(), java.nio.file.attribute.PosixFilePermissions.fromString("rwxr-xr-x"));
        final String url = "http://ferry/conntrack?proto=udp";
        final Process other = new ProcessBuilder("runuser", "-u", "nobody", "--", "curl", "-sS", "--unix-socket", socket.toString(),
            "-X", "DELETE", url).redirectErrorStream(true).start();
        final String refused = new String(other.getInputStream().readAllBytes());
        assertEquals(7, other.waitFor(), "curl cannot connect as another user: " + refused);
        assertTrue(refused.contains("Permission denied") || refused.contains("Couldn't connect"), refused);
        assertEquals(4, fixture.conntrack.size());
        final Process root = new ProcessBuilder("curl", "-sS", "--unix-socket", socket.toString(), "-X", "DELETE", url)
            .redirectErrorStream(true).start();
        final String deleted = new String(root.getInputStream().readAllBytes());
        assertEquals(0, root.waitFor(), deleted);
        assertEquals(1, JSON.readTree(deleted).get("deleted").asInt(), deleted);
        assertEquals(3, fixture.conntrack.size());
    }

    @Test
    void shouldRejectBadConntrackFiltersWith400NamingTheParameter() throws Exception {
        fixture = new AdminFixture();
        final HttpResponse<String> badAddress = fixture.get(fixture.metricsUrl() + "/conntrack?dst=10.96.0.300");
        assertEquals(400, badAddress.statusCode());
        assertEquals("dst: '10.96.0.300' is not an IPv4 address", JSON.readTree(badAddress.body()).get("error").asText());
        final AgentClient.AgentException unknown = assertThrows(AgentClient.AgentException.class,
            () -> new ControlClient(fixture.controlSocket()).delete("/conntrack", "port=80"));
        assertTrue(unknown.getMessage().contains("HTTP 400") && unknown.getMessage().contains("unknown parameter 'port'"),
            unknown.getMessage());
        assertEquals(4, fixture.conntrack.size(), "a rejected delete deletes nothing");
    }

    @Test
    void shouldRefuseConnectionsBeyondTheLimitAndServeAgainOnceTheyClose() throws Exception {
        fixture = new AdminFixture();
        final List<java.net.Socket> idle = new ArrayList<>();
        try {
            for (int i = 0; i < AdminServer.MAX_CONNECTIONS + 8; i++) {
                idle.add(new java.net.Socket(InetAddress.getLoopbackAddress(), fixture.server.metricsAddress().getPort()));
            }
            final long deadline = System.nanoTime() + java.util.concurrent.TimeUnit.SECONDS.toNanos(10);
            while (fixture.server.refusedConnections() < 8 && System.nanoTime() < deadline) {
                Thread.sleep(10);
            }
            assertEquals(8, fixture.server.refusedConnections(), "the connections beyond the limit are closed at once");
        } finally {
            for (final java.net.Socket socket : idle) {
                socket.close();
            }
        }
        final long deadline = System.nanoTime() + java.util.concurrent.TimeUnit.SECONDS.toNanos(10);
        int status = 0;
        while (status != 200 && System.nanoTime() < deadline) { // the closes reach the server's loop first
            status = fixture.get(fixture.metricsUrl() + "/metrics").statusCode();
        }
        assertEquals(200, status);
    }

    @Test
    void shouldCloseAConnectionThatSendsNothingAndRefuseOversizedRequests() throws Exception {
        fixture = new AdminFixture(true, 300);
        try (java.net.Socket silent = new java.net.Socket(InetAddress.getLoopbackAddress(), fixture.server.metricsAddress().getPort())) {
            silent.setSoTimeout(10_000);
            assertEquals(-1, silent.getInputStream().read(), "closed by the server after its idle timeout");
        }
        final HttpResponse<String> longUri = fixture.get(fixture.metricsUrl() + "/conntrack?src=" + "1".repeat(10_000));
        assertTrue(longUri.statusCode() == 400 || longUri.statusCode() == 414, "an oversized request line: " + longUri.statusCode());
        try (java.net.Socket big = new java.net.Socket(InetAddress.getLoopbackAddress(), fixture.server.metricsAddress().getPort())) {
            big.getOutputStream().write(("GET /metrics HTTP/1.1\r\nHost: x\r\nContent-Length: " + (AdminServer.MAX_REQUEST_BYTES + 1)
                + "\r\n\r\n").getBytes(java.nio.charset.StandardCharsets.US_ASCII));
            big.setSoTimeout(10_000);
            final String answer = new String(big.getInputStream().readAllBytes(), java.nio.charset.StandardCharsets.US_ASCII);
            assertTrue(answer.startsWith("HTTP/1.1 413"), "a body over the limit is refused before it is read: " + answer);
        }
        assertEquals(200, fixture.get(fixture.metricsUrl() + "/metrics").statusCode(), "and the next request is served");
    }

    @Test
    void shouldAnswer404ForUnknownPathsAnd405ForWrongMethods() {
        fixture = new AdminFixture();
        assertEquals(404, fixture.get(fixture.healthzUrl() + "/metrics").statusCode(), "metrics live on the metrics port");
        assertEquals(404, fixture.get(fixture.metricsUrl() + "/nope").statusCode());
        final HttpResponse<String> post = fixture.send("POST", fixture.metricsUrl() + "/metrics");
        assertEquals(405, post.statusCode());
        assertEquals("GET, HEAD", post.headers().firstValue("Allow").orElseThrow());
        assertEquals(405, fixture.send("DELETE", fixture.metricsUrl() + "/services").statusCode());
    }

    @Test
    void shouldServeOverNioWhenEpollIsNotWanted() {
        try (AdminServer nio = AdminServer.start(new AdminServer.Context()
            .status(AgentStatus.of(() -> null, null, null, new SyncTracker(() -> 1L, 1000)))
            .useEpoll(false).healthzPort(0).metricsPort(0))) {
            assertEquals("nio", nio.transport());
            fixture = new AdminFixture(false);
            assertEquals(200, fixture.get("http://127.0.0.1:" + nio.healthzAddress().getPort() + "/livez").statusCode());
            assertEquals(503, fixture.get("http://127.0.0.1:" + nio.metricsAddress().getPort() + "/services").statusCode(),
                "no snapshot yet");
        }
    }

    @Test
    void shouldRefuseToStartNamingTheAddressWhenThePortIsTaken() throws Exception {
        try (ServerSocket taken = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            final IllegalStateException e = assertThrows(IllegalStateException.class, () -> AdminServer.start(
                new AdminServer.Context().status(AgentStatus.of(() -> null, null, null, new SyncTracker(() -> 1L, 1000)))
                    .healthzPort(0).metricsPort(taken.getLocalPort())));
            assertTrue(e.getMessage().startsWith("cannot listen on 127.0.0.1:" + taken.getLocalPort()
                + " for /metrics, /services and /conntrack"), e.getMessage());
        }
    }

    @Test
    void shouldParseKubeProxyStyleBindAddresses() {
        final AdminServer.HostPort v4 = AdminServer.HostPort.parse("metricsBindAddress", "0.0.0.0:10249");
        assertEquals("0.0.0.0", v4.host());
        assertEquals(10249, v4.port());
        assertEquals("::1", AdminServer.HostPort.parse("x", "[::1]:10256").host());
        final IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
            () -> AdminServer.HostPort.parse("healthzBindAddress", "127.0.0.1"));
        assertEquals("healthzBindAddress: '127.0.0.1' is not host:port (e.g. 127.0.0.1:10249)", e.getMessage());
    }

    private List<Integer> sourcePorts(final String query) throws Exception {
        final HttpResponse<String> response = fixture.get(fixture.metricsUrl() + "/conntrack" + (query.isEmpty() ? "" : "?" + query));
        assertEquals(200, response.statusCode(), response.body());
        final List<Integer> ports = new ArrayList<>();
        JSON.readTree(response.body()).forEach(e -> ports.add(e.at("/original/sport").asInt()));
        ports.sort(null);
        return ports;
    }

    private static JsonNode find(final JsonNode entries, final String src, final int sport) {
        for (final JsonNode e : entries) {
            if (e.at("/original/src").asText().equals(src) && e.at("/original/sport").asInt() == sport) {
                return e;
            }
        }
        throw new AssertionError("no entry from " + src + ":" + sport + " in " + entries);
    }

    private static List<String> names(final JsonNode object) {
        final List<String> names = new ArrayList<>();
        object.fieldNames().forEachRemaining(names::add);
        return names;
    }
}
