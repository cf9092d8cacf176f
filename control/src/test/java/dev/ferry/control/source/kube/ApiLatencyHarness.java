package dev.ferry.control.source.kube;

import dev.ferry.control.source.DesiredState;
import io.fabric8.kubernetes.api.model.discovery.v1.EndpointSlice;
import io.fabric8.kubernetes.client.KubernetesClient;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;

import static dev.ferry.control.source.kube.ApiFixtures.NODE;
import static dev.ferry.control.source.kube.ApiFixtures.endpoint;
import static dev.ferry.control.source.kube.ApiFixtures.plain;
import static dev.ferry.control.source.kube.ApiFixtures.ready;
import static dev.ferry.control.source.kube.ApiFixtures.slice;

/**
 * API mode's share of issue 14's "a change serves in milliseconds": how long one EndpointSlice
 * update (an endpoint going unready, then ready) takes from the API server's answer to the
 * write until {@link KubeStateSource} hands the agent the new desired state, with a given number
 * of services in fabric8's mock API server (CRUD mode). A benchmark, not a test: it prints
 * figures and asserts nothing. The informer's watch event, the conversion and the compile are
 * in the figure; the sync after it is not (see ReloadLatencyHarness for that share).
 *
 * <pre>
 * java @control/src/main/dist/jvm.options -cp control/target/test-classes:control/target/classes:$(cat deps.txt) \
 *     dev.ferry.control.source.kube.ApiLatencyHarness [services] [repetitions] [service]
 * </pre>
 */
public final class ApiLatencyHarness {
    private static final int WARMUP = 30;

    private ApiLatencyHarness() {
    }

    public static void main(final String[] args) throws Exception {
        final int services = args.length > 0 ? Integer.parseInt(args[0]) : 10_000;
        final int repetitions = args.length > 1 ? Integer.parseInt(args[1]) : 40;
        // "service": each change is a new Service and then its EndpointSlice, as a controller creates them
        final boolean newServices = args.length > 2 && args[2].equals("service");
        final Path dir = Files.createTempDirectory("ferry-api-latency");
        try (MockApi api = MockApi.start()) {
            populate(api, services);
            api.writer.resource(plain("flap", "10.111.0.1", 80)).create();
            api.writer.resource(slice("flap-a", "flap", ready("10.244.1.9", NODE))).create();

            final LinkedBlockingQueue<Long> delivered = new LinkedBlockingQueue<>();
            final KubernetesClient client = KubeApi.fromKubeconfig(MockApi.kubeconfig(dir, "http://127.0.0.1:" + api.port()));
            final KubeStateSource source = new KubeStateSource(new KubeStateSource.Context()
                .client(client)
                .nodeConfig(SourceHarness.nodeConfig())
                .probeIntervalMs(1_000)
                .startTimeoutMs(120_000));
            final long startNs = System.nanoTime();
            source.start((DesiredState state) -> delivered.add(System.nanoTime()));
            System.out.printf("first desired state after %.1f ms%n", (delivered.take() - startNs) / 1e6);

            final long[] ns = new long[repetitions];
            final long[] recomputeNs = new long[repetitions];
            if (newServices) {
                final long[] serviceNs = new long[repetitions];
                for (int i = -WARMUP; i < repetitions; i++) {
                    final int n = i + WARMUP;
                    final String name = "added-" + n;
                    delivered.clear();
                    api.writer.resource(plain(name, "10.104." + (n >> 8) + "." + (n & 0xFF), 80)).create();
                    if (delivered.poll(10, TimeUnit.SECONDS) == null) {
                        throw new IllegalStateException("no desired state within 10 s of service " + n);
                    }
                    Thread.sleep(2);
                    final long serviceRecomputeNs = source.lastRecomputeNs();
                    delivered.clear();
                    api.writer.resource(slice(name + "-a", name, ready("10.245." + (n >> 8) + "." + (n & 0xFF), NODE))).create();
                    if (delivered.poll(10, TimeUnit.SECONDS) == null) {
                        throw new IllegalStateException("no desired state within 10 s of slice " + n);
                    }
                    Thread.sleep(2);
                    if (i >= 0) {
                        serviceNs[i] = serviceRecomputeNs;
                        recomputeNs[i] = source.lastRecomputeNs();
                    }
                    Thread.sleep(20);
                }
                Arrays.sort(serviceNs);
                Arrays.sort(recomputeNs);
                System.out.printf("new Service then its slice, %d after %d warm-up: the source's recompute for the Service, ms median %.3f "
                    + "(min %.3f, max %.3f); for its slice, median %.3f (min %.3f, max %.3f)%n", repetitions, WARMUP,
                    serviceNs[repetitions / 2] / 1e6, serviceNs[0] / 1e6, serviceNs[repetitions - 1] / 1e6,
                    recomputeNs[repetitions / 2] / 1e6, recomputeNs[0] / 1e6, recomputeNs[repetitions - 1] / 1e6);
                source.close();
                client.close();
                return;
            }
            for (int i = -WARMUP; i < repetitions; i++) {
                final boolean ready = (i & 1) != 0;
                final EndpointSlice next = slice("flap-a", "flap", endpoint("10.244.1.9", NODE, ready, true, false));
                delivered.clear();
                api.writer.resource(next).update();
                final long written = System.nanoTime(); // the API server has answered: the watch event is on its way
                final Long at = delivered.poll(10, TimeUnit.SECONDS);
                if (at == null) {
                    throw new IllegalStateException("no desired state within 10 s of update " + i);
                }
                if (i >= 0) {
                    ns[i] = at - written;
                    Thread.sleep(2); // the listener runs inside the recompute: let it finish
                    recomputeNs[i] = source.lastRecomputeNs();
                }
                Thread.sleep(20); // a quiet moment between changes, as between real ones
            }
            Arrays.sort(ns);
            System.out.printf("endpoint unready/ready, %d repetitions after %d warm-up: update answered -> desired state, "
                + "ms median %.3f (min %.3f, max %.3f)%n", repetitions, WARMUP, ns[repetitions / 2] / 1e6, ns[0] / 1e6,
                ns[repetitions - 1] / 1e6);
            Arrays.sort(recomputeNs);
            System.out.printf("of which the source's recompute (conversion, grouping, compile, change counting): ms median %.3f "
                + "(min %.3f, max %.3f)%n", recomputeNs[repetitions / 2] / 1e6, recomputeNs[0] / 1e6, recomputeNs[repetitions - 1] / 1e6);
            source.close();
            client.close();
        } finally {
            try (var files = Files.list(dir)) {
                for (final Path file : files.toList()) {
                    Files.delete(file);
                }
            }
            Files.delete(dir);
        }
    }

    /** Creates {@code services} Services svc-N, 80/TCP, each with a one-endpoint slice on node-2, eight writers at once. */
    static void populate(final MockApi api, final int services) throws InterruptedException {
        final long createStart = System.nanoTime();
        // eight writers at once: one by one, 20,000 creates take minutes on the mock server
        try (ExecutorService writers = Executors.newFixedThreadPool(8)) {
            for (int n = 0; n < services; n++) {
                final int i = n;
                writers.submit(() -> {
                    final String name = "svc-" + i;
                    api.writer.resource(plain(name, "10.96." + (i >> 8) + "." + (i & 0xFF), 80)).create();
                    api.writer.resource(slice(name + "-a", name, ready("10.244." + (2 + (i >> 8)) + "." + (i & 0xFF), "node-2"))).create();
                });
            }
        }
        System.out.printf("%d services created in the mock API server in %.1f s%n", services, (System.nanoTime() - createStart) / 1e9);
    }
}
