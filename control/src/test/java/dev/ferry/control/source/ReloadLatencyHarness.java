package dev.ferry.control.source;

import dev.ferry.conntrack.ConntrackTable;
import dev.ferry.conntrack.ConntrackTimeouts;
import dev.ferry.control.allocate.AllocationStore;
import dev.ferry.control.aot.AotTraining;
import dev.ferry.control.sync.ServiceSync;
import dev.ferry.dataplane.pipeline.ServiceTableHolder;
import dev.ferry.dataplane.service.NodeSpec;
import dev.ferry.dataplane.service.ServiceTable;

import java.io.IOException;
import java.lang.management.ManagementFactory;
import java.lang.management.ThreadMXBean;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.EnumMap;
import java.util.List;
import java.util.Map;

/**
 * How long a one-service change takes from the written file to the snapshot handed to the sync,
 * stage by stage ({@link ManifestPipeline.Stage}), at a given number of services: issue 14's
 * "a change serves in milliseconds, at any scale". A benchmark, not a test: it prints figures
 * and asserts nothing. The services are shaped like the lab benchmark's fillers (one file of
 * selector-less Services, 80/TCP each, with an EndpointSlice of ten endpoints).
 *
 * <p>Two changes, each repeated: a new file with one Service and its EndpointSlice (what the lab
 * benchmark's programming-latency run writes), and one endpoint of an existing one-service file
 * going unready and ready again. After the pipeline, the sync's share: compiling the dataplane's
 * {@link ServiceTable} and a whole {@link ServiceSync#sync()} without a host to program.
 *
 * <pre>
 * java -cp control/target/test-classes:control/target/classes:$(cat deps.txt) \
 *     dev.ferry.control.source.ReloadLatencyHarness [services] [repetitions] [--allocate] [--flap-first]
 * </pre>
 * {@code --allocate} leaves the fillers' ClusterIPs to the allocator instead of writing them;
 * {@code --flap-first} runs the endpoint changes before the new files; {@code -Dferry.harness.each} prints every
 * change's figures.
 */
public final class ReloadLatencyHarness {
    /** Changes before the timed ones: {@code -Dferry.harness.warmup=0} times a cold reload path, as the agent's first changes meet it. */
    private static final int WARMUP = Integer.getInteger("ferry.harness.warmup", 30);
    /** CPU time as well as wall time: on a shared machine the wall time includes waiting for a core. */
    private static final ThreadMXBean THREADS = ManagementFactory.getThreadMXBean();

    private ReloadLatencyHarness() {
    }

    public static void main(final String[] args) throws IOException {
        final int services = args.length > 0 ? Integer.parseInt(args[0]) : 10_000;
        final int repetitions = args.length > 1 ? Integer.parseInt(args[1]) : 20;
        final boolean allocate = Arrays.asList(args).contains("--allocate");
        final Path dir = Files.createTempDirectory("ferry-reload-latency");
        final Path state = Files.createTempDirectory("ferry-reload-latency-state");
        try {
            Files.writeString(dir.resolve("00-fillers.yaml"), fillers(services, allocate));
            Files.writeString(dir.resolve("01-flap.yaml"), flapping(true, allocate));
            final ManifestPipeline pipeline = new ManifestPipeline(List.of(dir), Manifests.NODE,
                new AllocationStore(state.resolve("allocations.json"))); // as the agent runs it
            final long loadStart = System.nanoTime();
            final SourceSnapshot first = pipeline.reload(0);
            System.out.printf("%d services (%s ClusterIPs), first load %.1f ms, %d service ports, %d errors%n", services + 1,
                allocate ? "allocated" : "written", (System.nanoTime() - loadStart) / 1e6, first.servicePorts().size(),
                first.errors().size());
            System.out.println("  first load by stage, ms: " + stageLine(pipeline));

            final NodeSpec node = Manifests.NODE.toNodeSpec();
            final ConntrackTable conntrack = ConntrackTable.inMemory(1024, ConntrackTimeouts.kubeProxyDefaults());
            final ServiceTableHolder holder = new ServiceTableHolder(ServiceTable.empty(node));
            final ServiceSync sync = new ServiceSync(node, holder, conntrack, ServiceSync.HostState.NONE, (ns, at, ok) -> { });
            sync.setDesired(first.servicePorts(), 0);
            sync.sync();

            final int[] added = {0};
            final Runnable newFiles = () -> run("new service file", repetitions, pipeline, sync, holder, () -> {
                final int n = added[0]++;
                Files.writeString(dir.resolve("change-" + n + ".yaml"), change(n, allocate));
            });
            final boolean[] ready = {true};
            final Runnable flaps = () -> run("endpoint unready/ready", repetitions, pipeline, sync, holder, () -> {
                ready[0] = !ready[0];
                Files.writeString(dir.resolve("01-flap.yaml"), flapping(ready[0], allocate));
            });
            if (Arrays.asList(args).contains("--flap-first")) {
                flaps.run();
                newFiles.run();
            } else {
                newFiles.run();
                flaps.run();
            }
            conntrack.close();
        } finally {
            delete(dir);
            delete(state);
        }
    }

    private static void delete(final Path directory) throws IOException {
        try (var files = Files.list(directory)) {
            for (final Path file : files.toList()) {
                Files.delete(file);
            }
        }
        Files.delete(directory);
    }

    private interface Change {
        void write() throws IOException;
    }

    private static void run(final String name, final int repetitions, final ManifestPipeline pipeline, final ServiceSync sync,
                            final ServiceTableHolder holder, final Change change) {
        final Map<ManifestPipeline.Stage, long[]> stages = new EnumMap<>(ManifestPipeline.Stage.class);
        for (final ManifestPipeline.Stage stage : ManifestPipeline.Stage.values()) {
            stages.put(stage, new long[repetitions]);
        }
        final long[] reload = new long[repetitions];
        final long[] reloadCpu = new long[repetitions];
        final long[] table = new long[repetitions];
        final long[] syncs = new long[repetitions];
        final long[] stores = new long[repetitions];
        for (int i = -WARMUP; i < repetitions; i++) {
            try {
                change.write();
            } catch (final IOException e) {
                throw new java.io.UncheckedIOException(e);
            }
            final long startCpu = THREADS.getCurrentThreadCpuTime();
            final long start = System.nanoTime();
            final SourceSnapshot snapshot = pipeline.reload(i);
            final long reloaded = System.nanoTime();
            final long reloadedCpu = THREADS.getCurrentThreadCpuTime();
            ServiceTable.compile(Manifests.NODE.toNodeSpec(), snapshot.servicePorts(), holder.get());
            final long compiled = System.nanoTime();
            sync.setDesired(snapshot.servicePorts(), i);
            sync.sync();
            final long synced = System.nanoTime();
            pipeline.storePending(); // as the manifest source does once the snapshot is handed on
            final long stored = System.nanoTime();
            if (snapshot.serviceChanges() > 1 || snapshot.endpointChanges() != 1 || !snapshot.errors().isEmpty()) {
                throw new IllegalStateException(name + ": expected a one-service change, got " + snapshot.serviceChanges()
                    + " service and " + snapshot.endpointChanges() + " endpoint changes, errors " + snapshot.errors());
            }
            if (System.getProperty("ferry.harness.each") != null) {
                System.out.printf("  change %d: reload %.1f ms, sync %.1f ms (%s)%n", i, (reloaded - start) / 1e6,
                    (synced - compiled) / 1e6, stageLine(pipeline));
            }
            if (i >= 0) {
                reload[i] = reloaded - start;
                reloadCpu[i] = reloadedCpu - startCpu;
                table[i] = compiled - reloaded;
                syncs[i] = synced - compiled;
                stores[i] = stored - synced;
                for (final ManifestPipeline.Stage stage : ManifestPipeline.Stage.values()) {
                    stages.get(stage)[i] = pipeline.lastStageNs(stage);
                }
            }
        }
        System.out.printf("%n%s, %d repetitions after %d warm-up: ms median (min-max)%n", name, repetitions, WARMUP);
        for (final ManifestPipeline.Stage stage : ManifestPipeline.Stage.values()) {
            print("  " + stage.name().toLowerCase(), stages.get(stage));
        }
        print("reload (file written -> snapshot)", reload);
        print("reload, CPU time of its thread", reloadCpu);
        print("ServiceTable.compile (reusing the serving table)", table);
        print("ServiceSync.sync (compile included)", syncs);
        print("allocation store, after the hand-over", stores);
    }

    private static String stageLine(final ManifestPipeline pipeline) {
        return pipeline.describeLastStages();
    }

    private static void print(final String what, final long[] ns) {
        final long[] sorted = ns.clone();
        Arrays.sort(sorted);
        final double median = sorted.length % 2 == 1 ? sorted[sorted.length / 2]
            : (sorted[sorted.length / 2 - 1] + sorted[sorted.length / 2]) / 2.0;
        System.out.printf("  %-38s %8.3f (%.3f-%.3f)%n", what, median / 1e6, sorted[0] / 1e6, sorted[sorted.length - 1] / 1e6);
    }

    /** {@code count} services svc-1..svc-N in namespace bench, each 80/TCP with a slice of ten endpoints. */
    static String fillers(final int count, final boolean allocate) {
        return AotTraining.fillers(count, allocate);
    }

    /** The n-th new service of the "new service file" change; allocated ones take no explicit address that a filler may hold. */
    private static String change(final int n, final boolean allocate) {
        return service("change-" + n, allocate ? null : "10.96." + (101 + n / 200) + "." + (20 + n % 200),
            List.of("10.244.9." + (1 + n % 250)), true);
    }

    /** One service whose first endpoint is {@code ready} or not. */
    private static String flapping(final boolean ready, final boolean allocate) {
        return service("flap", allocate ? null : "10.96.99.1", List.of("10.244.8.1", "10.244.8.2", "10.244.8.3"), ready);
    }

    static String service(final String name, final String clusterIp, final List<String> endpoints, final boolean firstReady) {
        return AotTraining.service(name, clusterIp, endpoints, firstReady);
    }
}
