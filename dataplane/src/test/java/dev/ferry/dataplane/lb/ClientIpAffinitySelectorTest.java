package dev.ferry.dataplane.lb;

import dev.ferry.dataplane.service.Fixtures;
import dev.ferry.dataplane.service.Protocol;
import dev.ferry.dataplane.service.RouteDecision;
import dev.ferry.dataplane.service.ServicePortSpec;
import dev.ferry.dataplane.service.ServiceRouter;
import dev.ferry.dataplane.service.ServiceTable;
import dev.ferry.dataplane.service.Verdict;
import org.junit.jupiter.api.Test;

import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.SplittableRandom;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.atomic.AtomicReference;

import static dev.ferry.dataplane.service.Fixtures.ip;
import static dev.ferry.dataplane.service.Fixtures.node;
import static dev.ferry.dataplane.service.Fixtures.svc;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

class ClientIpAffinitySelectorTest {
    private static final int CLIENT = ip("203.0.113.7");
    private static final int VIP = ip("10.96.0.10");

    private static ServicePortSpec sticky(final int timeoutSeconds, final String... backends) {
        final Fixtures.Svc s = svc("sticky", Protocol.TCP, 80).clusterIp("10.96.0.10").affinity(timeoutSeconds);
        for (final String b : backends) {
            s.ready(b, 8080, false);
        }
        return s.build();
    }

    private static final String[] FOUR = {"10.244.2.1", "10.244.2.2", "10.244.2.3", "10.244.2.4"};

    private final ClientIpAffinityTable affinity = new ClientIpAffinityTable(1 << 10);
    private final ServiceRouter router = new ServiceRouter(
        new ClientIpAffinitySelector(affinity, new RandomSelector(new SplittableRandom(42))));
    private final RouteDecision out = new RouteDecision();

    private int route(final ServiceTable table, final int client, final long nowMs) {
        router.route(table, 6, client, 40000, VIP, 80, nowMs, out);
        assertEquals(Verdict.DNAT, out.verdict(), out.toString());
        return out.backendAddress();
    }

    @Test
    void shouldKeepAClientOnOneBackendAcrossConnections() {
        final ServiceTable table = ServiceTable.compile(node(false), List.of(sticky(60, FOUR)));
        final int first = route(table, CLIENT, 0);
        for (int i = 1; i < 1000; i++) {
            assertEquals(first, route(table, CLIENT, i * 50L)); // each within 60 s of the previous one
        }
    }

    @Test
    void shouldRepickAfterTheTimeout() {
        final ServiceTable table = ServiceTable.compile(node(false), List.of(sticky(10, FOUR)));
        final Set<Integer> seen = new HashSet<>();
        long nowMs = 0;
        for (int i = 0; i < 200; i++) {
            final int backend = route(table, CLIENT, nowMs);
            assertEquals(backend, route(table, CLIENT, nowMs + 10_000), "still sticky at exactly the timeout");
            seen.add(backend);
            nowMs += 10_000 + 10_001; // idle longer than the timeout since the last connection
        }
        assertEquals(4, seen.size(), "after expiry the backend is picked afresh");
    }

    @Test
    void shouldSpreadDifferentClients() {
        final ServiceTable table = ServiceTable.compile(node(false), List.of(sticky(10800, FOUR)));
        final int[] counts = new int[256];
        for (int c = 0; c < 400; c++) {
            final int client = ip("198.51.100.0") + c;
            final int backend = route(table, client, 0);
            assertEquals(backend, route(table, client, 1_000));
            counts[backend & 0xFF]++;
        }
        for (int b = 1; b <= 4; b++) {
            assertTrue(counts[b] > 50, "backend .2." + b + " got " + counts[b] + " of 400 clients");
        }
    }

    @Test
    void shouldNotStickWithoutClientIpAffinity() {
        final ServiceTable table = ServiceTable.compile(node(false), List.of(
            svc("plain", Protocol.TCP, 80).clusterIp("10.96.0.10")
                .ready(FOUR[0], 8080, false).ready(FOUR[1], 8080, false)
                .ready(FOUR[2], 8080, false).ready(FOUR[3], 8080, false).build()));
        final Set<Integer> seen = new HashSet<>();
        for (int i = 0; i < 200; i++) {
            seen.add(route(table, CLIENT, i));
        }
        assertEquals(4, seen.size());
        assertEquals(0, affinity.liveRecords(0));
    }

    @Test
    void shouldRepickWhenTheRememberedBackendIsGone() {
        final ServiceTable before = ServiceTable.compile(node(false), List.of(sticky(60, FOUR)));
        final int first = route(before, CLIENT, 0);
        final String[] rest = java.util.Arrays.stream(FOUR).filter(b -> ip(b) != first).toArray(String[]::new);
        final ServiceTable after = ServiceTable.compile(node(false), List.of(sticky(60, rest)));
        final int second = route(after, CLIENT, 1_000);
        assertTrue(second != first);
        for (int i = 0; i < 100; i++) {
            assertEquals(second, route(after, CLIENT, 2_000 + i));
        }
    }

    @Test
    void shouldKeepAffinityAcrossSnapshotsThatRenumberPorts() {
        final ServiceTable before = ServiceTable.compile(node(false), List.of(sticky(60, FOUR)));
        final int first = route(before, CLIENT, 0);
        // A new service listed first shifts the sticky port's id from 0 to 1; its endpoints are reordered.
        final ServiceTable after = ServiceTable.compile(node(false), List.of(
            svc("other", Protocol.TCP, 80).clusterIp("10.96.0.11").ready("10.244.3.1", 80, false).build(),
            sticky(60, FOUR[3], FOUR[2], FOUR[1], FOUR[0])));
        for (int i = 0; i < 100; i++) {
            assertEquals(first, route(after, CLIENT, 1_000 + i));
        }
    }

    @Test
    void shouldKeepRecordsPerServicePort() {
        final ServiceTable table = ServiceTable.compile(node(false), List.of(
            sticky(60, FOUR),
            svc("sticky2", Protocol.TCP, 80).clusterIp("10.96.0.12").affinity(60)
                .ready("10.244.3.1", 80, false).ready("10.244.3.2", 80, false).build()));
        final int a = route(table, CLIENT, 0);
        router.route(table, 6, CLIENT, 40000, ip("10.96.0.12"), 80, 0, out);
        final int b = out.backendAddress();
        for (int i = 0; i < 50; i++) {
            assertEquals(a, route(table, CLIENT, i));
            router.route(table, 6, CLIENT, 40000, ip("10.96.0.12"), 80, i, out);
            assertEquals(b, out.backendAddress());
        }
        assertEquals(2, affinity.liveRecords(0));
    }

    @Test
    void shouldReuseExpiredSlotsWhenTheTableIsFull() {
        final ClientIpAffinityTable small = new ClientIpAffinityTable(16);
        final ServiceTable table = ServiceTable.compile(node(false), List.of(sticky(1, FOUR)));
        final ServiceRouter r = new ServiceRouter(new ClientIpAffinitySelector(small, new RandomSelector(new SplittableRandom(1))));
        for (int c = 0; c < 16; c++) {
            r.route(table, 6, CLIENT + c, 1, VIP, 80, 0, out);
        }
        assertEquals(16, small.liveRecords(0));
        r.route(table, 6, CLIENT + 100, 1, VIP, 80, 0, out);
        assertEquals(1, small.failedInserts(), "a full window records nothing new");
        // After the 1 s timeout every slot is reusable.
        for (int c = 0; c < 16; c++) {
            r.route(table, 6, CLIENT + 200 + c, 1, VIP, 80, 5_000, out);
        }
        assertEquals(16, small.liveRecords(5_000));
        assertEquals(1, small.failedInserts());
    }

    @Test
    void shouldStayConsistentWithSeveralWorkers() throws Exception {
        final ServiceTable table = ServiceTable.compile(node(false), List.of(sticky(10800, FOUR)));
        final ClientIpAffinityTable shared = new ClientIpAffinityTable(1 << 12);
        final int workers = 4;
        final int clients = 500;
        // Warm every client up once, single-threaded, so each has exactly one record.
        final ServiceRouter warm = new ServiceRouter(new ClientIpAffinitySelector(shared, new RandomSelector(new SplittableRandom(9))));
        final int[] expected = new int[clients];
        for (int c = 0; c < clients; c++) {
            warm.route(table, 6, CLIENT + c, 1, VIP, 80, 0, out);
            expected[c] = out.backendAddress();
        }
        final ConcurrentHashMap<Integer, Integer> mismatches = new ConcurrentHashMap<>();
        final AtomicReference<Throwable> failure = new AtomicReference<>();
        final CountDownLatch start = new CountDownLatch(1);
        final Thread[] threads = new Thread[workers];
        for (int w = 0; w < workers; w++) {
            final int seed = w;
            threads[w] = new Thread(() -> {
                try {
                    final ServiceRouter r = new ServiceRouter(
                        new ClientIpAffinitySelector(shared, new RandomSelector(new SplittableRandom(seed))));
                    final RouteDecision d = new RouteDecision();
                    start.await();
                    for (int i = 0; i < 200_000; i++) {
                        final int c = (i * 7 + seed) % clients;
                        r.route(table, 6, CLIENT + c, 1, VIP, 80, i, d);
                        if (d.backendAddress() != expected[c]) {
                            mismatches.merge(c, 1, Integer::sum);
                        }
                    }
                } catch (final Throwable t) {
                    failure.set(t);
                }
            });
            threads[w].start();
        }
        start.countDown();
        for (final Thread t : threads) {
            t.join();
        }
        assertNull(failure.get());
        // Refreshing a live record does not disturb concurrent readers: nobody ever re-picks.
        final int total = mismatches.values().stream().mapToInt(Integer::intValue).sum();
        assertEquals(0, total, "clients that lost their backend: " + mismatches + " (contended writes " + shared.contendedWrites() + ")");
        assertEquals(clients, shared.liveRecords(0));
    }
}
