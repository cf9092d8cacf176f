package dev.ferry.control.source;

import dev.ferry.conntrack.ConntrackTable;
import dev.ferry.conntrack.ConntrackTimeouts;
import dev.ferry.control.sync.BoundedFrequencyRunner;
import dev.ferry.control.sync.ServiceSync;
import dev.ferry.dataplane.addr.Ipv4;
import dev.ferry.dataplane.pipeline.ServiceTableHolder;
import dev.ferry.dataplane.service.NodeSpec;
import dev.ferry.dataplane.service.ServicePort;
import dev.ferry.dataplane.service.ServiceTable;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;

/**
 * Issue 14's "under 100 endpoint changes per second at 10,000 services, p99 ≤ 50 ms": the
 * agent's control path as {@code Agent} wires it (a watching {@link ManifestSource}, the
 * {@link ServiceSync} behind a {@link BoundedFrequencyRunner}), with a steady stream of endpoint
 * changes written into the watched directory, each timed from its file's rename into place
 * until the end of the sync that swapped in a table serving it. A benchmark, not a test: it
 * prints figures and asserts nothing.
 *
 * <p>Ten churn services, each in a file of its own with one endpoint; change i rewrites service
 * i mod 10 with its endpoint at a new address (a pod replaced), so that every change is seen in
 * the table by the address it wrote.
 *
 * <pre>
 * java @control/src/main/dist/jvm.options -cp control/target/test-classes:control/target/classes:$(cat deps.txt) \
 *     dev.ferry.control.source.ChurnLatencyHarness [services] [changes-per-second] [seconds] [manifest-min-ms] [sync-min-ms]
 * </pre>
 */
public final class ChurnLatencyHarness {
    private static final int CHURN_SERVICES = 10;

    private ChurnLatencyHarness() {
    }

    /** One written change: which churn service, the endpoint address it wrote, when its file was renamed into place. */
    private record Change(int service, int address, long writtenNs) {
    }

    public static void main(final String[] args) throws Exception {
        final int services = args.length > 0 ? Integer.parseInt(args[0]) : 10_000;
        final int perSecond = args.length > 1 ? Integer.parseInt(args[1]) : 100;
        final int seconds = args.length > 2 ? Integer.parseInt(args[2]) : 20;
        final long manifestMinMs = args.length > 3 ? Long.parseLong(args[3]) : ManifestSource.DEFAULT_MIN_INTERVAL_MS;
        final long syncMinMs = args.length > 4 ? Long.parseLong(args[4]) : dev.ferry.control.agent.AgentOptions.DEFAULT_SYNC_MIN_INTERVAL_MS;
        final Path dir = Files.createTempDirectory("ferry-churn");
        final Path tmp = Files.createTempDirectory("ferry-churn-tmp");
        Files.writeString(dir.resolve("00-fillers.yaml"), ReloadLatencyHarness.fillers(services, false));
        for (int k = 0; k < CHURN_SERVICES; k++) {
            Files.writeString(dir.resolve("churn-" + k + ".yaml"), churn(k, address(k, 0)));
        }
        final NodeSpec node = Manifests.NODE.toNodeSpec();
        final ServiceTableHolder holder = new ServiceTableHolder(ServiceTable.empty(node));
        final List<Change> pending = new ArrayList<>();
        final List<Long> latenciesNs = new ArrayList<>();
        final ConntrackTable conntrack = ConntrackTable.inMemory(1024, ConntrackTimeouts.kubeProxyDefaults());
        final ServiceSync sync = new ServiceSync(node, holder, conntrack, ServiceSync.HostState.NONE, (ns, at, ok) -> {
            final long now = System.nanoTime();
            final ServiceTable table = holder.get();
            synchronized (pending) {
                // a change is served once its service's endpoint is the address it wrote, or a later one
                pending.removeIf(change -> {
                    final ServicePort port = table.find(clusterIp(change.service()), 6, 80);
                    if (port == null || port.spec().endpoints().isEmpty()) {
                        return false;
                    }
                    final int served = port.spec().endpoints().getFirst().address();
                    if (served - change.address() >= 0 && served - change.address() < 1 << 20) {
                        latenciesNs.add(now - change.writtenNs());
                        return true;
                    }
                    return false;
                });
            }
        });
        final BoundedFrequencyRunner runner = new BoundedFrequencyRunner("churn-sync", sync::sync, syncMinMs, 30_000,
            Throwable::printStackTrace);
        final CountDownLatch first = new CountDownLatch(1);
        final ManifestSource source = new ManifestSource(new ManifestSource.Context().nodeConfig(Manifests.NODE)
            .paths(List.of(dir)).minIntervalMs(manifestMinMs).listener(snapshot -> {
                sync.setDesired(snapshot.servicePorts(), snapshot.names(), snapshot.changedAtMs());
                runner.run();
                first.countDown();
            }));
        source.start();
        runner.start();
        if (!first.await(60, TimeUnit.SECONDS)) {
            throw new IllegalStateException("no first snapshot within 60 s");
        }
        Thread.sleep(2_000);
        System.out.printf("%d services + %d churn services; %d changes/s for %d s; manifest min interval %d ms, sync min interval %d ms%n",
            services, CHURN_SERVICES, perSecond, seconds, manifestMinMs, syncMinMs);
        final long periodNs = 1_000_000_000L / perSecond;
        final long startNs = System.nanoTime();
        final int total = perSecond * seconds;
        final int[] generation = new int[CHURN_SERVICES];
        for (int i = 0; i < total; i++) {
            final long due = startNs + i * periodNs;
            while (System.nanoTime() < due) {
                Thread.onSpinWait();
                if (due - System.nanoTime() > 1_000_000) {
                    Thread.sleep(0, 500_000);
                }
            }
            final int k = i % CHURN_SERVICES;
            final int address = address(k, ++generation[k]);
            final Path written = tmp.resolve("churn-" + k + ".yaml");
            Files.writeString(written, churn(k, address));
            Files.move(written, dir.resolve("churn-" + k + ".yaml"), java.nio.file.StandardCopyOption.ATOMIC_MOVE,
                java.nio.file.StandardCopyOption.REPLACE_EXISTING);
            synchronized (pending) {
                pending.add(new Change(k, address, System.nanoTime()));
            }
        }
        final long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
        while (System.nanoTime() < deadline) {
            synchronized (pending) {
                if (pending.isEmpty()) {
                    break;
                }
            }
            Thread.sleep(10);
        }
        source.close();
        runner.close();
        final long[] sorted;
        final int unserved;
        synchronized (pending) {
            sorted = latenciesNs.stream().mapToLong(Long::longValue).sorted().toArray();
            unserved = pending.size();
        }
        System.out.printf("changes served: %d of %d; latency ms p50 %.1f, p90 %.1f, p99 %.1f, max %.1f%n", sorted.length, total,
            at(sorted, 0.50), at(sorted, 0.90), at(sorted, 0.99), at(sorted, 1.0));
        if (unserved > 0) {
            System.out.println(unserved + " changes not seen served within 10 s of the last write");
        }
        conntrack.close();
        delete(dir);
        delete(tmp);
    }

    private static double at(final long[] sorted, final double quantile) {
        if (sorted.length == 0) {
            return Double.NaN;
        }
        return sorted[Math.min(sorted.length - 1, (int) Math.ceil(quantile * sorted.length) - 1)] / 1e6;
    }

    private static int clusterIp(final int service) {
        return Ipv4.parse("10.96.200." + (service + 1));
    }

    /** Churn service k's endpoint address at generation g: 10.(200+k).x.y, counting up. */
    private static int address(final int service, final int generation) {
        return Ipv4.parse("10." + (200 + service) + ".0.1") + generation;
    }

    private static String churn(final int service, final int address) {
        return ReloadLatencyHarness.service("churn-" + service, Ipv4.format(clusterIp(service)), List.of(Ipv4.format(address)), true);
    }

    private static void delete(final Path directory) throws IOException {
        try (var files = Files.list(directory)) {
            for (final Path file : files.toList()) {
                Files.delete(file);
            }
        }
        Files.delete(directory);
    }
}
