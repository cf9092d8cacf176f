package dev.ferry.control.agent;

import dev.ferry.control.testing.TempFiles;
import dev.ferry.control.testing.AgentProcess;
import dev.ferry.control.testing.EchoServer;
import dev.ferry.control.testing.Http;
import dev.ferry.control.testing.NodeLab;
import dev.ferry.nativeio.netns.NetworkNamespace;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.net.Socket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * A soak, bounded in time ({@code -Dferry.soak.seconds}, 60 unless given; CI runs the 60-s
 * version): one node (tun port), steady TCP connections through a ClusterIP (local endpoint and
 * hairpin) and a masqueraded NodePort, each echoing a line every 100 ms, and new connections at
 * a fixed rate through a second service's ClusterIP and NodePort, while that service's endpoints
 * churn (one of its two pods flips between ready and unready every second), a service is added
 * and another removed every second, and the agent is killed with SIGKILL at a third of the time
 * and stopped with SIGTERM at two thirds, each time started again as systemd would. No steady
 * connection may be lost and no new connection may fail; the last agent's open file
 * descriptors and resident memory stay bounded while the churn goes on.
 */
@Tag("privileged")
class SoakNamespaceTest {
    private static final int ECHO = 7070;
    private static final String STEADY_IP = "10.96.0.40";
    private static final int STEADY_NODE_PORT = 30090;
    private static final String CHURN_IP = "10.96.0.41";
    private static final int CHURN_NODE_PORT = 30091;
    private static final long SECONDS = Long.getLong("ferry.soak.seconds", 60);

    private Path dir;
    private NodeLab lab;
    private final List<EchoServer> servers = new ArrayList<>();
    private AgentProcess agent;

    @AfterEach
    void stopAll() throws Exception {
        if (agent != null) {
            agent.close();
        }
        for (final EchoServer server : servers) {
            server.close();
        }
        if (lab != null) {
            lab.close();
        }
        TempFiles.deleteRecursively(dir);
    }

    @Test
    void shouldLoseNoConnectionThroughChurnAndTwoRestarts() throws Exception {
        dir = Files.createTempDirectory("ferry-soak");
        lab = new NodeLab("soak", 3);
        for (int i = 1; i <= 3; i++) {
            servers.add(EchoServer.start(lab.pod(i), ECHO));
        }
        final Path manifests = Files.createDirectories(dir.resolve("manifests"));
        Files.writeString(manifests.resolve("services.yaml"), """
            apiVersion: v1
            kind: Service
            metadata: {name: steady}
            spec:
              type: NodePort
              clusterIP: %s
              selector: {app: steady}
              ports: [{port: 9, targetPort: %d, nodePort: %d}]
            ---
            apiVersion: v1
            kind: Service
            metadata: {name: churn}
            spec:
              type: NodePort
              clusterIP: %s
              selector: {app: churn}
              ports: [{port: 9, targetPort: %d, nodePort: %d}]
            """.formatted(STEADY_IP, ECHO, STEADY_NODE_PORT, CHURN_IP, ECHO, CHURN_NODE_PORT));
        Files.writeString(manifests.resolve("pods.yaml"), pod("web-1", "steady", 1, true) + "---\n" + pod("web-2", "churn", 2, true));
        writeChurningPod(manifests, true);
        Files.writeString(dir.resolve("node.yaml"), """
            nodeName: node-1
            nodeIPs: [%s]
            clusterCIDRs: [10.244.0.0/16]
            podCIDR: 10.244.1.0/24
            serviceCIDRs: [10.96.0.0/12]
            portType: tun
            """.formatted(NodeLab.NODE_IP));
        startAgent(manifests, "agent-1.log");

        final List<Socket> steady = new ArrayList<>();
        for (int i = 0; i < 4; i++) {
            steady.add(EchoServer.connect(lab.pod(2), STEADY_IP, 9, 3000));                    // pod -> ClusterIP, local endpoint
        }
        for (int i = 0; i < 3; i++) {
            steady.add(EchoServer.connect(lab.pod(1), STEADY_IP, 9, 3000));                    // hairpin, masqueraded
            steady.add(EchoServer.connect(lab.client(), NodeLab.NODE_IP, STEADY_NODE_PORT, 3000)); // NodePort, masqueraded
        }
        final AtomicBoolean running = new AtomicBoolean(true);
        final List<String> failures = Collections.synchronizedList(new ArrayList<>());
        final AtomicInteger roundTrips = new AtomicInteger();
        final AtomicInteger newConnections = new AtomicInteger();
        final AtomicInteger churns = new AtomicInteger();
        final List<Thread> load = new ArrayList<>();
        try {
            load.add(Thread.ofPlatform().name("soak-steady").start(() -> {
                while (running.get()) {
                    for (int i = 0; i < steady.size(); i++) {
                        final String line = "steady-" + roundTrips.get();
                        try {
                            final String answer = EchoServer.roundTrip(steady.get(i), line);
                            if (!line.equals(answer)) {
                                failures.add("steady connection #" + i + " answered '" + answer + "' to '" + line + "'");
                                return;
                            }
                        } catch (final IOException e) {
                            failures.add("steady connection #" + i + " lost: " + e);
                            return;
                        }
                    }
                    roundTrips.incrementAndGet();
                    sleep(100);
                }
            }));
            load.add(newConnectionsThread("soak-new-pod", lab.pod(1), CHURN_IP, 9, running, newConnections, failures));
            load.add(newConnectionsThread("soak-new-client", lab.client(), NodeLab.NODE_IP, CHURN_NODE_PORT, running, newConnections, failures));
            load.add(Thread.ofPlatform().name("soak-churn").start(() -> {
                while (running.get()) {
                    final int n = churns.incrementAndGet();
                    try {
                        writeChurningPod(manifests, n % 2 == 0);
                        Files.writeString(manifests.resolve("eph-" + n + ".yaml"), """
                            apiVersion: v1
                            kind: Service
                            metadata: {name: eph-%d}
                            spec:
                              selector: {app: churn}
                              ports: [{port: 80, targetPort: %d}]
                            """.formatted(n, ECHO));
                        Files.deleteIfExists(manifests.resolve("eph-" + (n - 1) + ".yaml"));
                    } catch (final IOException e) {
                        failures.add("churn: " + e);
                        return;
                    }
                    sleep(1000);
                }
            }));

            sleep(SECONDS * 1000 / 3);
            agent.kill(); // as a crash or an OOM kill would
            startAgent(manifests, "agent-2.log");
            sleep(SECONDS * 1000 / 3);
            assertEquals(0, agent.stop(), agent.log()); // as systemctl restart does
            startAgent(manifests, "agent-3.log");
            sleep(3000); // settled: the JIT and the first syncs behind it
            final Resources settled = Resources.of(agent.pid());
            final long until = System.nanoTime() + Math.max(5_000_000_000L, (SECONDS * 1_000_000_000L) / 3 - 3_000_000_000L);
            Resources peak = settled;
            while (System.nanoTime() < until && failures.isEmpty()) {
                sleep(1000);
                peak = peak.max(Resources.of(agent.pid()));
            }
            running.set(false);
            for (final Thread t : load) {
                t.join(30_000);
            }
            final String figures = String.format("soak %d s: %d steady round trips on %d connections, %d new connections, %d churn steps;"
                    + " last agent settled %d fds / %d MiB RSS, peak %d fds / %d MiB RSS", SECONDS, roundTrips.get(), steady.size(),
                newConnections.get(), churns.get(), settled.fds(), settled.rssKiB() / 1024, peak.fds(), peak.rssKiB() / 1024);
            System.out.println(figures);
            assertEquals(List.of(), failures, figures + "\n" + agent.log());
            assertTrue(newConnections.get() >= SECONDS * 5, "new connections kept coming: " + figures);
            assertTrue(peak.fds() <= settled.fds() + 32, "open file descriptors stay bounded: " + figures);
            assertTrue(peak.rssKiB() <= settled.rssKiB() * 2 + 128 * 1024, "resident memory stays bounded: " + figures);
        } finally {
            running.set(false);
            for (final Socket s : steady) {
                s.close();
            }
        }
    }

    private void startAgent(final Path manifests, final String log) throws Exception {
        agent = AgentProcess.start(lab.node(), dir.resolve(log),
            "--node-config", dir.resolve("node.yaml").toString(), "--manifests", manifests.toString(),
            "--run-dir", dir.resolve("run").toString(), "--state-dir", dir.resolve("state").toString(),
            "--sync-min-interval-ms", "100");
        agent.awaitHealthy(60_000);
        final long deadline = System.nanoTime() + 30_000_000_000L; // a bound on the first sync, not a speed check
        while (System.nanoTime() < deadline) {
            final String services = NetworkNamespace.call(lab.node(), () -> Http.get("127.0.0.1", 10249, "/services", 3000)).body();
            if (services.contains("default/steady") && services.contains("default/churn")) {
                return;
            }
            sleep(100);
        }
        throw new AssertionError("the agent never served steady and churn:\n" + agent.log());
    }

    /** A connection every 200 ms: connect (the timeout covers a restart: SYNs are retransmitted), a line there and back, close. */
    private static Thread newConnectionsThread(final String name, final String ns, final String host, final int port,
                                               final AtomicBoolean running, final AtomicInteger made, final List<String> failures) {
        return Thread.ofPlatform().name(name).start(() -> {
            while (running.get()) {
                try (Socket s = EchoServer.connect(ns, host, port, 15_000)) {
                    final String answer = EchoServer.roundTrip(s, "new");
                    if (!"new".equals(answer)) {
                        failures.add(name + ": a new connection to " + host + ":" + port + " answered '" + answer + "'");
                        return;
                    }
                    made.incrementAndGet();
                } catch (final IOException | RuntimeException e) {
                    Throwable root = e;
                    while (root.getCause() != null) {
                        root = root.getCause();
                    }
                    failures.add(name + ": a new connection to " + host + ":" + port + " failed at " + java.time.Instant.now() + ": " + root);
                    return;
                }
                sleep(200);
            }
        });
    }

    /** web-3, the churn service's second pod, ready or not. */
    private static void writeChurningPod(final Path manifests, final boolean ready) throws IOException {
        final Path tmp = manifests.resolve(".churn.yaml.tmp");
        Files.writeString(tmp, pod("web-3", "churn", 3, ready));
        Files.move(tmp, manifests.resolve("churn-pod.yaml"), java.nio.file.StandardCopyOption.ATOMIC_MOVE);
    }

    private static String pod(final String name, final String app, final int index, final boolean ready) {
        return """
            apiVersion: v1
            kind: Pod
            metadata: {name: %s, labels: {app: %s}}
            spec: {nodeName: node-1, containers: [{name: echo, ports: [{containerPort: %d}]}]}
            status: {podIP: %s, conditions: [{type: Ready, status: "%s"}]}
            """.formatted(name, app, ECHO, NodeLab.podIp(index), ready ? "True" : "False");
    }

    private static void sleep(final long ms) {
        try {
            Thread.sleep(ms);
        } catch (final InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    /** Open file descriptors and resident memory of a process. */
    private record Resources(long fds, long rssKiB) {
        static Resources of(final long pid) {
            try (var fds = Files.list(Path.of("/proc", String.valueOf(pid), "fd"))) {
                final long open = fds.count();
                long rss = -1;
                for (final String line : Files.readAllLines(Path.of("/proc", String.valueOf(pid), "status"))) {
                    if (line.startsWith("VmRSS:")) {
                        rss = Long.parseLong(line.replaceAll("[^0-9]", ""));
                    }
                }
                return new Resources(open, rss);
            } catch (final IOException e) {
                throw new AssertionError("cannot read /proc/" + pid + ": " + e);
            }
        }

        Resources max(final Resources other) {
            return new Resources(Math.max(fds, other.fds), Math.max(rssKiB, other.rssKiB));
        }
    }
}
