package dev.ferry.control.lab;

import dev.ferry.nativeio.netns.NetworkNamespace;

import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.Path;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/**
 * The lab's kubelet, as far as readiness goes: probes each pod's {@code GET /healthz} every
 * period and, when a pod's readiness changes, rewrites that pod's manifest (status.conditions
 * Ready True/False) in every node's manifests directory, as the API server would publish the
 * change to every node's kube-proxy. The agents then derive endpoints from it.
 *
 * <p>Probes run from inside the pod's own namespace (like an exec probe of
 * {@code curl localhost:8080/healthz}), so a pod's readiness depends on its server alone and
 * never on the dataplane under test. A pod turns Ready after one success and unready after
 * {@link #FAILURE_THRESHOLD} consecutive failures (kubelet's defaults, on a faster period).
 */
public final class ReadinessController implements AutoCloseable {
    public static final long PERIOD_MS = 500;
    public static final int TIMEOUT_MS = 1000;
    public static final int FAILURE_THRESHOLD = 3;

    /** One pod to probe, and the namespace to probe it from. */
    public record Target(LabTopology.Pod pod, String probeNetns) {
    }

    private final List<Target> targets;
    private final List<Path> manifestDirs;
    private final PrintStream log;
    private final Map<String, Boolean> ready = new ConcurrentHashMap<>();
    private final List<Thread> threads = new ArrayList<>();
    private volatile boolean running = true;

    public ReadinessController(final List<Target> targets, final List<Path> manifestDirs, final PrintStream log) {
        this.targets = List.copyOf(targets);
        this.manifestDirs = List.copyOf(manifestDirs);
        this.log = log;
    }

    /** Probes every lab pod from its own namespace and writes to every node's manifests. */
    public static ReadinessController forLab(final LabTopology topology, final LabState state, final PrintStream log) {
        final List<Target> targets = topology.pods().stream().map(p -> new Target(p, p.netns())).toList();
        final List<Path> dirs = topology.nodes().stream().map(state::manifestsDir).toList();
        return new ReadinessController(targets, dirs, log);
    }

    /** Starts one probing thread per pod, each inside its probe namespace. */
    public void start() {
        for (final Target target : targets) {
            final Runnable loop = () -> probeLoop(target);
            final Thread thread = target.probeNetns() == null
                ? Thread.ofPlatform().daemon().name("probe-" + target.pod().name()).start(loop)
                : NetworkNamespace.startThread(target.probeNetns(), "probe-" + target.pod().name(), loop);
            threads.add(thread);
        }
    }

    private void probeLoop(final Target target) {
        final LabTopology.Pod pod = target.pod();
        int failures = 0;
        while (running) {
            final LabClient.Outcome outcome = LabClient.httpGet(
                new LabClient.Request(null, pod.ip(), LabTopology.HTTP_PORT, "/healthz", TIMEOUT_MS));
            final boolean ok = outcome.answered() && outcome.status() == 200;
            final Boolean previous = ready.get(pod.name());
            if (ok) {
                failures = 0;
                if (!Boolean.TRUE.equals(previous)) {
                    publish(pod, true, "healthz answered 200");
                }
            } else {
                failures++;
                if (failures >= FAILURE_THRESHOLD && !Boolean.FALSE.equals(previous)) {
                    publish(pod, false, "healthz " + outcome + " (" + failures + " times in a row)");
                }
            }
            try {
                Thread.sleep(PERIOD_MS);
            } catch (final InterruptedException e) {
                return;
            }
        }
    }

    private synchronized void publish(final LabTopology.Pod pod, final boolean isReady, final String why) {
        final Instant now = Instant.now();
        final String manifest = LabManifests.pod(pod, isReady, now);
        for (final Path dir : manifestDirs) {
            try {
                LabManifests.writeAtomically(dir.resolve(LabManifests.podFile(pod.name())), manifest);
            } catch (final IOException e) {
                log.println(now + " cannot write " + dir.resolve(LabManifests.podFile(pod.name())) + ": " + e.getMessage());
            }
        }
        ready.put(pod.name(), isReady);
        log.println(now + " pod " + pod.name() + " Ready=" + (isReady ? "True" : "False") + ": " + why);
        log.flush();
    }

    /** The last published readiness of each pod probed at least once. */
    public Map<String, Boolean> readiness() {
        return Map.copyOf(ready);
    }

    @Override
    public void close() {
        running = false;
        for (final Thread thread : threads) {
            thread.interrupt();
        }
    }
}
