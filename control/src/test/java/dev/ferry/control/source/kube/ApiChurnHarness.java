package dev.ferry.control.source.kube;

import dev.ferry.control.source.DesiredState;
import dev.ferry.dataplane.addr.Ipv4;
import dev.ferry.dataplane.service.ServicePortSpec;
import io.fabric8.kubernetes.client.KubernetesClient;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;

import static dev.ferry.control.source.kube.ApiFixtures.NODE;
import static dev.ferry.control.source.kube.ApiFixtures.plain;
import static dev.ferry.control.source.kube.ApiFixtures.ready;
import static dev.ferry.control.source.kube.ApiFixtures.slice;

/**
 * Issue 14's "under 100 endpoint changes per second at 10,000 services, p99 ≤ 50 ms", in API
 * mode: beside the fillers, ten churn services; every 1/rate s one of them gets its endpoint at
 * a new address (a pod replaced) by an EndpointSlice update to fabric8's mock API server, and
 * each change is timed from the server's answer until {@link KubeStateSource} hands the agent a
 * desired state in which that service has that address. The sync after it is not in the figure
 * (ChurnLatencyHarness and ReloadLatencyHarness give its share). A benchmark, not a test.
 *
 * <pre>
 * java @control/src/main/dist/jvm.options -cp control/target/test-classes:control/target/classes:$(cat cp.txt) \
 *     dev.ferry.control.source.kube.ApiChurnHarness [services] [changes per second] [seconds]
 * </pre>
 */
public final class ApiChurnHarness {
    private static final int CHURN_SERVICES = 10;
    private static final int WARMUP_SECONDS = 10;

    private ApiChurnHarness() {
    }

    /** One change: which churn service, the address its endpoint moved to, when the API server answered. */
    private record Change(int service, int address, long answeredNs) {
    }

    /** A desired state as delivered, and when: of it, the churn services' endpoint addresses (0: none). */
    private record Delivery(long atNs, int[] churnAddresses) {
    }

    public static void main(final String[] args) throws Exception {
        final int services = args.length > 0 ? Integer.parseInt(args[0]) : 10_000;
        final int rate = args.length > 1 ? Integer.parseInt(args[1]) : 100;
        final int seconds = args.length > 2 ? Integer.parseInt(args[2]) : 60;
        final Path dir = Files.createTempDirectory("ferry-api-churn");
        try (MockApi api = MockApi.start()) {
            ApiLatencyHarness.populate(api, services);
            for (int c = 0; c < CHURN_SERVICES; c++) {
                api.writer.resource(plain("churn-" + c, "10.111.1." + (1 + c), 80)).create();
                api.writer.resource(slice("churn-" + c + "-a", "churn-" + c, ready(address(c, 0), NODE))).create();
            }
            final LinkedBlockingQueue<Delivery> deliveries = new LinkedBlockingQueue<>();
            final KubernetesClient client = KubeApi.fromKubeconfig(MockApi.kubeconfig(dir, "http://127.0.0.1:" + api.port()));
            final KubeStateSource source = new KubeStateSource(new KubeStateSource.Context()
                .client(client)
                .nodeConfig(SourceHarness.nodeConfig())
                .probeIntervalMs(1_000)
                .startTimeoutMs(120_000));
            source.start((DesiredState state) -> deliveries.add(new Delivery(System.nanoTime(), churnAddresses(state.ports()))));
            final Delivery first = deliveries.take();
            if (java.util.Arrays.stream(first.churnAddresses()).anyMatch(address -> address == 0)) {
                throw new IllegalStateException("a churn service is not in the first desired state: " + java.util.Arrays.toString(first.churnAddresses()));
            }

            final ConcurrentLinkedQueue<Change> changes = new ConcurrentLinkedQueue<>();
            final int total = rate * (WARMUP_SECONDS + seconds);
            final long periodNs = 1_000_000_000L / rate;
            // writers apart from the clock: an update's answer takes milliseconds, the clock must not wait for it
            try (ExecutorService writers = Executors.newFixedThreadPool(4);
                 ScheduledExecutorService clock = Executors.newSingleThreadScheduledExecutor()) {
                final int[] next = {0};
                clock.scheduleAtFixedRate(() -> {
                    final int n = next[0]++;
                    if (n >= total) {
                        return;
                    }
                    final int service = n % CHURN_SERVICES;
                    final String ip = address(service, 1 + n / CHURN_SERVICES);
                    writers.submit(() -> {
                        api.writer.resource(slice("churn-" + service + "-a", "churn-" + service, ready(ip, NODE))).update();
                        changes.add(new Change(service, Ipv4.parse(ip), System.nanoTime()));
                    });
                }, 0, periodNs, TimeUnit.NANOSECONDS);
                Thread.sleep(TimeUnit.SECONDS.toMillis(WARMUP_SECONDS + seconds) + 2_000);
                clock.shutdownNow();
            }
            Thread.sleep(1_000); // the last changes' desired states
            source.close();
            client.close();

            final List<Delivery> all = new ArrayList<>(deliveries);
            final List<Change> timed = new ArrayList<>(changes);
            timed.sort((a, b) -> Long.compare(a.answeredNs(), b.answeredNs()));
            final long warmEnd = timed.getFirst().answeredNs() + TimeUnit.SECONDS.toNanos(WARMUP_SECONDS);
            final List<Long> latencies = new ArrayList<>();
            int unserved = 0;
            for (final Change change : timed) {
                if (change.answeredNs() < warmEnd) {
                    continue;
                }
                final long served = servedAt(all, change);
                if (served < 0) {
                    unserved++;
                } else {
                    latencies.add(served - change.answeredNs());
                }
            }
            final long[] ns = latencies.stream().mapToLong(Long::longValue).sorted().toArray();
            System.out.printf("%d services, %d endpoint changes/s for %d s after %d s warm-up: %d changes timed, %d never served,"
                    + " %d desired states delivered%n", services, rate, seconds, WARMUP_SECONDS, ns.length, unserved, all.size());
            System.out.printf("answered -> desired state with the change, ms: p50 %.1f, p90 %.1f, p99 %.1f, max %.1f%n",
                percentile(ns, 0.50), percentile(ns, 0.90), percentile(ns, 0.99), ns.length == 0 ? Double.NaN : ns[ns.length - 1] / 1e6);
        } finally {
            try (var files = Files.list(dir)) {
                for (final Path file : files.toList()) {
                    Files.delete(file);
                }
            }
            Files.delete(dir);
        }
    }

    /**
     * When the change was first served: the first delivery from about its answer on whose churn
     * service has that address. A delivery can come just before the answer is read (the watch
     * event racing the HTTP response); then the change counts as served at the answer.
     */
    private static long servedAt(final List<Delivery> all, final Change change) {
        final long from = change.answeredNs() - TimeUnit.MILLISECONDS.toNanos(50);
        int low = 0;
        int high = all.size();
        while (low < high) { // the first delivery at or after 'from'
            final int mid = (low + high) >>> 1;
            if (all.get(mid).atNs() < from) {
                low = mid + 1;
            } else {
                high = mid;
            }
        }
        for (int i = low; i < all.size(); i++) {
            if (all.get(i).churnAddresses()[change.service()] == change.address()) {
                return Math.max(all.get(i).atNs(), change.answeredNs());
            }
        }
        return -1;
    }

    /**
     * The churn services' first endpoint address in a desired state. They were created last, and
     * the API source orders services by age, so they are near the end: a scan of the last ports
     * costs the listener (which runs inside the source's recompute) next to nothing.
     */
    private static int[] churnAddresses(final List<ServicePortSpec> ports) {
        final int[] addresses = new int[CHURN_SERVICES];
        int found = 0;
        for (int i = ports.size() - 1; i >= 0 && found < CHURN_SERVICES; i--) {
            final ServicePortSpec spec = ports.get(i);
            if (spec.name().startsWith("churn-") && !spec.endpoints().isEmpty()) {
                final int service = Integer.parseInt(spec.name().substring("churn-".length()));
                if (addresses[service] == 0) {
                    addresses[service] = spec.endpoints().getFirst().address();
                    found++;
                }
            }
        }
        return addresses;
    }

    private static String address(final int service, final int generation) {
        return "10.244." + (100 + service) + "." + (1 + generation % 250);
    }

    private static double percentile(final long[] sorted, final double q) {
        return sorted.length == 0 ? Double.NaN : sorted[Math.min(sorted.length - 1, (int) Math.ceil(q * sorted.length) - 1)] / 1e6;
    }
}
