package dev.ferry.control.health;

import dev.ferry.control.source.DesiredState;

import dev.ferry.dataplane.addr.Ipv4;
import dev.ferry.dataplane.service.EndpointSpec;
import dev.ferry.dataplane.service.Protocol;
import dev.ferry.dataplane.service.ServicePortSpec;
import org.agrona.concurrent.CachedEpochClock;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.net.ServerSocket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The healthCheckNodePort listeners, answering as kube-proxy's service health server does. */
class ServiceHealthServerTest {
    private static final int LOOPBACK = Ipv4.parse("127.0.0.1");

    private final CachedEpochClock clock = new CachedEpochClock();
    private final SyncTracker tracker = new SyncTracker(clock, 60_000);
    private final ServiceHealthServer server = new ServiceHealthServer(List.of(LOOPBACK));
    private final HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();

    ServiceHealthServerTest() {
        clock.update(1_000_000);
        server.health(tracker);
    }

    @AfterEach
    void close() {
        server.close();
    }

    private static int freePort() throws IOException {
        try (ServerSocket socket = new ServerSocket(0)) {
            return socket.getLocalPort();
        }
    }

    private static EndpointSpec endpoint(final String ip, final int port, final boolean ready, final boolean local) {
        return new EndpointSpec(Ipv4.parse(ip), port, ready, ready, !ready, local);
    }

    /** A LoadBalancer port of shop/front with externalTrafficPolicy Local and {@code healthCheckNodePort}. */
    private static ServicePortSpec front(final String portName, final int port, final int healthCheckNodePort,
                                         final List<EndpointSpec> endpoints) {
        return new ServicePortSpec("shop", "front", portName, Protocol.TCP, port, 31000 + port % 1000, List.of(Ipv4.parse("10.96.0.40")),
            List.of(), List.of(Ipv4.parse("198.18.100.5")), List.of(), true, false, false, 10800, healthCheckNodePort, endpoints);
    }

    private void apply(final ServicePortSpec... ports) {
        server.accept(new DesiredState(List.of(ports), 1, 1));
    }

    private HttpResponse<String> get(final int port) throws Exception {
        return http.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + "/healthz")).timeout(Duration.ofSeconds(5)).build(),
            HttpResponse.BodyHandlers.ofString());
    }

    @Test
    void shouldAnswer200WithTheCountOfDistinctReadyLocalEndpoints() throws Exception {
        final int port = freePort();
        apply(
            front("http", 80, port, List.of(endpoint("10.244.1.5", 8080, true, true), endpoint("10.244.1.6", 8080, false, true),
                endpoint("10.244.2.7", 8080, true, false))),
            front("https", 443, port, List.of(endpoint("10.244.1.5", 8443, true, true), endpoint("10.244.1.8", 8443, true, true))));
        assertEquals(Map.of("shop/front", port), server.listening());

        final HttpResponse<String> r = get(port);
        assertEquals(200, r.statusCode());
        assertEquals("2", r.headers().firstValue("X-Load-Balancing-Endpoint-Weight").orElseThrow(),
            "10.244.1.5 serves two ports but counts once; not ready and remote endpoints do not count");
        assertEquals("nosniff", r.headers().firstValue("X-Content-Type-Options").orElseThrow());
        assertEquals("application/json", r.headers().firstValue("Content-Type").orElseThrow());
        assertEquals("""
            {
            \t"service": {
            \t\t"namespace": "shop",
            \t\t"name": "front"
            \t},
            \t"localEndpoints": 2,
            \t"serviceProxyHealthy": true
            }""", r.body());
    }

    @Test
    void shouldAnswer503WhenNoReadyEndpointIsLocal() throws Exception {
        final int port = freePort();
        apply(front("http", 80, port, List.of(endpoint("10.244.2.7", 8080, true, false), endpoint("10.244.1.6", 8080, false, true))));
        final HttpResponse<String> r = get(port);
        assertEquals(503, r.statusCode());
        assertEquals("0", r.headers().firstValue("X-Load-Balancing-Endpoint-Weight").orElseThrow());
        assertTrue(r.body().contains("\"localEndpoints\": 0"), r.body());
    }

    @Test
    void shouldAnswer503WhileTheAgentIsUnhealthy() throws Exception {
        final int port = freePort();
        apply(front("http", 80, port, List.of(endpoint("10.244.1.5", 8080, true, true))));
        tracker.changeQueued();
        clock.advance(60_000); // a change has waited the whole health timeout for a sync
        final HttpResponse<String> r = get(port);
        assertEquals(503, r.statusCode());
        assertEquals("1", r.headers().firstValue("X-Load-Balancing-Endpoint-Weight").orElseThrow());
        assertTrue(r.body().contains("\"serviceProxyHealthy\": false"), r.body());
    }

    @Test
    void shouldFollowEndpointCountsPortChangesAndRemovals() throws Exception {
        final int first = freePort();
        apply(front("http", 80, first, List.of()));
        assertEquals(503, get(first).statusCode());

        apply(front("http", 80, first, List.of(endpoint("10.244.1.5", 8080, true, true))));
        assertEquals(200, get(first).statusCode(), "the count follows the endpoints without reopening");

        final int second = freePort();
        apply(front("http", 80, second, List.of(endpoint("10.244.1.5", 8080, true, true))));
        assertEquals(Map.of("shop/front", second), server.listening());
        assertEquals(200, get(second).statusCode());
        assertThrows(IOException.class, () -> get(first), "the old port is closed");

        apply();
        assertEquals(Map.of(), server.listening());
        assertThrows(IOException.class, () -> get(second), "a service without a health check node port has no listener");
    }

    @Test
    void shouldKeepTheOthersWhenAPortCannotBeBound() throws Exception {
        try (ServerSocket taken = new ServerSocket(0, 50, java.net.InetAddress.getLoopbackAddress())) {
            final int free = freePort();
            apply(front("http", 80, taken.getLocalPort(), List.of(endpoint("10.244.1.5", 8080, true, true))),
                new ServicePortSpec("shop", "back", "", Protocol.TCP, 80, 31999, List.of(Ipv4.parse("10.96.0.41")), List.of(),
                    List.of(), List.of(), true, false, false, 10800, free, List.of(endpoint("10.244.1.9", 80, true, true))));
            assertEquals(Map.of("shop/back", free), server.listening(), "the taken port is left for the next state");
            assertEquals(200, get(free).statusCode());
        }
    }
}
