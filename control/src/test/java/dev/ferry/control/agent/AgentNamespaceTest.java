package dev.ferry.control.agent;

import dev.ferry.control.lab.PodServer;
import dev.ferry.control.testing.AgentProcess;
import dev.ferry.control.testing.BulkServer;
import dev.ferry.control.testing.Http;
import dev.ferry.control.testing.NodeLab;
import dev.ferry.nativeio.netns.NetworkNamespace;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.TestMethodOrder;

import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.util.HexFormat;
import java.util.HashSet;
import java.util.List;
import java.util.Set;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The agent on one node, with real kernel TCP and UDP: a node namespace running
 * {@code ferry agent} (once per port type), two pod namespaces serving HTTP and UDP, and a client
 * namespace outside the node. Privileged: runs as root, fails (never skips) otherwise.
 */
@Tag("privileged")
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
abstract class AgentNamespaceTest {
    /** The node config's portType the subclass runs the agent with. */
    abstract String portType();

    /** ferry0's queues (--workers), a dataplane thread each. */
    static final int QUEUES = 2;

    private static final int HTTP = 8080;
    private static final int UDP = 5353;
    private static final int BULK = 9000;
    private static final int BULK_BYTES = 16 << 20;

    private Path dir;

    private NodeLab lab;
    private AgentProcess agent;
    private String stateBefore;
    private final List<PodServer> servers = new java.util.ArrayList<>();
    private BulkServer bulk;
    private Path manifests;

    @BeforeAll
    void startAgent() throws Exception {
        dir = Files.createTempDirectory("ferry-agent-" + portType());
        lab = new NodeLab(2);
        for (int i = 1; i <= 2; i++) {
            final String name = "web-" + i;
            servers.add(NetworkNamespace.call(lab.pod(i), () -> PodServer.start(name, HTTP, UDP)));
        }
        bulk = NetworkNamespace.call(lab.pod(2), () -> BulkServer.start(BULK, BULK_BYTES));
        manifests = Files.createDirectories(dir.resolve("manifests"));
        writeManifests(true);
        Files.writeString(dir.resolve("node.yaml"), """
            nodeName: node-1
            nodeIPs: [198.18.0.11]
            clusterCIDRs: [10.244.0.0/16]
            podCIDR: 10.244.1.0/24
            serviceCIDRs: [10.96.0.0/12]
            portType: %s
            """.formatted(portType()));
        stateBefore = lab.nodeNetworkState();
        agent = AgentProcess.start(lab.node(), dir.resolve("agent.log"),
            "--node-config", dir.resolve("node.yaml").toString(), "--manifests", manifests.toString(),
            "--run-dir", dir.resolve("run").toString(), "--state-dir", dir.resolve("state").toString(),
            "--sync-min-interval-ms", "100", "--sync-max-interval-ms", "5000", "--workers", String.valueOf(QUEUES));
        agent.awaitHealthy(30_000);
    }

    @AfterAll
    void stopAll() throws Exception {
        if (agent != null) {
            agent.close();
        }
        servers.forEach(PodServer::close);
        if (bulk != null) {
            bulk.close();
        }
        if (lab != null) {
            lab.close();
        }
        if (dir != null) {
            try (var files = Files.walk(dir)) {
                files.sorted(java.util.Comparator.reverseOrder()).forEach(f -> f.toFile().delete());
            }
        }
    }

    /** web (ClusterIP 10.96.0.10, NodePort 30080) over both pods, web-2 Ready as given; self (only web-1); empty; dns (UDP). */
    private void writeManifests(final boolean web2Ready) throws Exception {
        Files.writeString(manifests.resolve("services.yaml"), """
            apiVersion: v1
            kind: Service
            metadata: {name: web}
            spec:
              type: NodePort
              clusterIP: 10.96.0.10
              selector: {app: web}
              ports: [{name: http, port: 80, targetPort: 8080, nodePort: 30080}]
            ---
            apiVersion: v1
            kind: Service
            metadata: {name: self}
            spec:
              clusterIP: 10.96.0.11
              selector: {app: web, pod: web-1}
              ports: [{port: 80, targetPort: 8080}]
            ---
            apiVersion: v1
            kind: Service
            metadata: {name: dns}
            spec:
              clusterIP: 10.96.0.53
              selector: {app: web}
              ports: [{name: dns, protocol: UDP, port: 53, targetPort: 5353}]
            ---
            apiVersion: v1
            kind: Service
            metadata: {name: bulk}
            spec:
              clusterIP: 10.96.0.30
              selector: {app: web, pod: web-2}
              ports: [{port: 9000, targetPort: 9000}]
            ---
            apiVersion: v1
            kind: Service
            metadata: {name: empty}
            spec:
              clusterIP: 10.96.0.20
              ports: [{port: 80}]
            """);
        Files.writeString(manifests.resolve("pods.yaml"), pod("web-1", NodeLab.podIp(1), true) + "---\n" + pod("web-2", NodeLab.podIp(2), web2Ready));
    }

    private static String pod(final String name, final String ip, final boolean ready) {
        return """
            apiVersion: v1
            kind: Pod
            metadata: {name: %s, labels: {app: web, pod: %s}}
            spec: {nodeName: node-1, containers: [{name: web, ports: [{containerPort: 8080}, {containerPort: 5353, protocol: UDP}]}]}
            status: {podIP: %s, conditions: [{type: Ready, status: "%s"}]}
            """.formatted(name, name, ip, ready ? "True" : "False");
    }

    private Http.Response get(final String ns, final String host, final int port) {
        return NetworkNamespace.call(ns, () -> Http.get(host, port, "/", 3000));
    }

    /** Repeats a GET until {@code done} holds for the pods seen so far (bounded), returning the pods seen. */
    private Set<String> podsAnswering(final String ns, final String host, final int port, final int tries) {
        final Set<String> pods = new HashSet<>();
        for (int i = 0; i < tries; i++) {
            final Http.Response r = get(ns, host, port);
            assertEquals("200", r.status(), "GET " + host + ":" + port + " from " + ns + "\nagent log:\n" + agent.log());
            pods.add(r.pod());
        }
        return pods;
    }

    @Test
    @Order(1)
    void shouldCarryPodToClusterIpWithThePodsOwnAddress() {
        boolean sawRemotePodAnswer = false;
        for (int i = 0; i < 40 && !sawRemotePodAnswer; i++) {
            final Http.Response r = get(lab.pod(1), "10.96.0.10", 80);
            assertEquals("200", r.status(), agent.log());
            if ("web-2".equals(r.pod())) {
                assertEquals(NodeLab.podIp(1), r.seenClient(), "the backend sees the client pod's own address");
                sawRemotePodAnswer = true;
            }
        }
        assertTrue(sawRemotePodAnswer, "random selection reached the other pod in 40 connections");
    }

    @Test
    @Order(2)
    void shouldCarryNodeToClusterIp() {
        final Http.Response r = get(lab.node(), "10.96.0.10", 80);
        assertEquals("200", r.status(), agent.log());
        assertEquals(NodeLab.NODE_IP, r.seenClient(), "node traffic is masqueraded to the node IP");
    }

    @Test
    @Order(3)
    void shouldCarryExternalClientToNodePortMasqueraded() {
        final Http.Response r = get(lab.client(), NodeLab.NODE_IP, 30080);
        assertEquals("200", r.status(), agent.log());
        assertEquals(NodeLab.NODE_IP, r.seenClient(), "Cluster-policy NodePort traffic is masqueraded");
    }

    @Test
    @Order(4)
    void shouldAnswerUdpThroughAClusterIp() {
        final String answer = NetworkNamespace.call(lab.pod(1), () -> Http.udp("10.96.0.53", 53, "hello", 3000));
        assertTrue(answer.startsWith("pod=web-"), "UDP answer through the ClusterIP: " + answer + "\n" + agent.log());
    }

    @Test
    @Order(5)
    void shouldRefuseAtOnceWhenAServiceHasNoEndpoints() {
        final Http.Response r = get(lab.pod(1), "10.96.0.20", 80);
        assertEquals("refused", r.status(), "a TCP reset, not a timeout (took " + r.elapsedMs() + " ms)");
    }

    @Test
    @Order(6)
    void shouldHairpinAPodToItselfThroughItsService() {
        final Http.Response r = get(lab.pod(1), "10.96.0.11", 80);
        assertEquals("200", r.status(), agent.log());
        assertEquals("web-1", r.pod());
        assertEquals(NodeLab.NODE_IP, r.seenClient(), "hairpin is masqueraded so the reply comes back through the node");
    }

    @Test
    @Order(7)
    void shouldFollowManifestEditsWithoutRestart() throws Exception {
        writeManifests(false); // web-2 not Ready
        final long deadline = System.nanoTime() + 10_000_000_000L; // a bound on waiting for the sync, not a speed check
        Set<String> pods = Set.of();
        while (System.nanoTime() < deadline) {
            pods = podsAnswering(lab.pod(1), "10.96.0.10", 80, 12);
            if (pods.equals(Set.of("web-1"))) {
                break;
            }
        }
        assertEquals(Set.of("web-1"), pods, "a pod that is not Ready gets no new connections");

        Files.writeString(manifests.resolve("broken.yaml"), "kind: Service\nmetadata: {name: [oops\n");
        writeManifests(true);
        final long back = System.nanoTime() + 10_000_000_000L;
        while (System.nanoTime() < back && !pods.contains("web-2")) {
            pods = podsAnswering(lab.pod(1), "10.96.0.10", 80, 12);
        }
        assertTrue(pods.contains("web-2"), "Ready again: web-2 gets connections, the broken file notwithstanding");
        assertTrue(agent.log().contains("broken.yaml"), "the broken file is named in the log:\n" + agent.log());

        Files.writeString(manifests.resolve("services.yaml"), Files.readString(manifests.resolve("services.yaml"))
            .replace("metadata: {name: self}", "metadata: {name: selfie}").replace("10.96.0.11", "10.96.0.12"));
        final long gone = System.nanoTime() + 10_000_000_000L;
        String status = "200";
        while (System.nanoTime() < gone && "200".equals(status)) {
            status = NetworkNamespace.call(lab.pod(2), () -> Http.get("10.96.0.11", 80, "/", 500)).status();
        }
        assertEquals("timeout", status, "a deleted service's ClusterIP is an unallocated service address: dropped");
        assertEquals("200", get(lab.pod(2), "10.96.0.12", 80).status(), "the renamed service serves at its new ClusterIP");
    }

    @Test
    @Order(9)
    void shouldLeaveTheNodesOwnConnectionsToLocalPodsWorking() {
        // kubelet probes: the node talks to a pod on itself directly, and the pod's replies pass
        // through ferry0 (they leave the pod CIDR) before they reach the node's socket
        final Http.Response tcp = get(lab.node(), NodeLab.podIp(1), HTTP);
        assertEquals("200", tcp.status(), agent.log());
        assertEquals("web-1", tcp.pod());
        final String udp = NetworkNamespace.call(lab.node(), () -> Http.udpConnected(NodeLab.podIp(2), UDP, "probe", 3000));
        assertTrue(udp.startsWith("pod=web-2"), "a connected UDP socket on the node gets the pod's answer: " + udp);
    }

    @Test
    @Order(8)
    void shouldTraceAgainstTheRunningAgentsState() {
        final java.io.StringWriter out = new java.io.StringWriter();
        final int exit = NetworkNamespace.call(lab.node(), () -> dev.ferry.control.cli.FerryCli.commandLine()
            .setOut(new java.io.PrintWriter(out)).setErr(new java.io.PrintWriter(out))
            .execute("trace", "--agent", "http://127.0.0.1:10249", "--proto", "TCP", "--src", NodeLab.podIp(1),
                "--dst", "10.96.0.10", "--dport", "80", "--json"));
        assertEquals(0, exit, out.toString());
        assertTrue(out.toString().contains("\"verdict\":\"DNAT\"") && out.toString().contains("10.244.1.12:8080"),
            "the agent's live snapshot: " + out);
    }

    @Test
    @Order(10)
    void shouldCarryABulkTcpTransferThroughADnatIntact() throws Exception {
        // 16 MiB from web-2 to a client pod through the ClusterIP: with the kernel's offloads on
        // (GSO super-packets, partial checksums) every byte must arrive, in order
        final byte[] expected = MessageDigest.getInstance("SHA-256").digest(BulkServer.content(BULK_BYTES));
        final long before = packetsReceived();
        final byte[] received = NetworkNamespace.call(lab.pod(1), () -> BulkServer.fetchSha256("10.96.0.30", BULK, 30_000));
        final long packets = packetsReceived() - before;
        assertEquals(HexFormat.of().formatHex(expected), HexFormat.of().formatHex(received),
            "SHA-256 of what arrived through the DNAT\nagent log:\n" + agent.log());
        // The data alone is 11,586 segments of at most 1448 bytes: fewer packets in all (ACKs
        // included) means the port handed over GSO super-packets, and they came out intact.
        assertTrue(packets < BULK_BYTES / 1448, "offloads on: " + packets + " packets carried " + BULK_BYTES + " bytes");
    }

    /** Packets received by every queue so far, from the counters file. */
    private long packetsReceived() {
        final long[] received = perQueueReceived();
        return java.util.Arrays.stream(received).sum();
    }

    private long[] perQueueReceived() {
        final long[] received = new long[QUEUES];
        final org.agrona.concurrent.status.CountersReader reader =
            dev.ferry.dataplane.counters.DataplaneCounters.readerOf(dir.resolve("run").resolve("counters"));
        reader.forEach((id, typeId, key, label) -> {
            if (typeId == dev.ferry.dataplane.counters.CounterType.RX_PACKETS.typeId()) {
                received[Integer.parseInt(label.substring("queue-".length(), label.indexOf(':')))] = reader.getCounterValue(id);
            }
        });
        return received;
    }

    @Test
    @Order(11)
    void shouldCarryTrafficOnEveryQueue() {
        for (int i = 0; i < 32; i++) { // 32 flows: the kernel's flow hash spreads them over the queues
            assertEquals("200", get(lab.pod(1), "10.96.0.10", 80).status(), agent.log());
        }
        final long[] received = perQueueReceived();
        for (int q = 0; q < QUEUES; q++) {
            assertTrue(received[q] > 0, "queue " + q + " received packets: " + java.util.Arrays.toString(received));
        }
    }

    @Test
    @Order(12)
    void shouldBlockAnIdleQueueThreadInTheKernel() throws Exception {
        final List<Path> queues = queueThreads(agent.pid());
        assertEquals(QUEUES, queues.size(), "the agent has a ferry-queue-N thread per queue");
        for (final Path task : queues) {
            // No traffic now: within its spin and one poll the thread must sit in poll(2), sleeping.
            // The loop bounds the wait for the last packets to settle; nothing here measures time.
            String seen = "";
            for (int i = 0; i < 500 && !seen.startsWith("S poll"); i++) {
                seen = threadState(task);
                if (!seen.startsWith("S poll")) {
                    Thread.sleep(10);
                }
            }
            assertTrue(seen.startsWith("S poll"), task + " is blocked in the kernel in poll, not running: " + seen);
        }
    }

    /** The agent's queue threads (/proc/PID/task/TID whose comm is ferry-queue-N). */
    private static List<Path> queueThreads(final long pid) throws Exception {
        try (var tasks = Files.list(Path.of("/proc/" + pid + "/task"))) {
            return tasks.filter(t -> {
                try {
                    return Files.readString(t.resolve("comm")).trim().startsWith("ferry-queue-");
                } catch (final java.io.IOException e) {
                    return false;
                }
            }).sorted().toList();
        }
    }

    /** "STATE SYSCALL": the state letter of /proc/.../stat and, when blocked, "poll" for poll or ppoll (x86-64: 7, 271). */
    private static String threadState(final Path task) throws Exception {
        final String stat = Files.readString(task.resolve("stat"));
        final char state = stat.charAt(stat.lastIndexOf(')') + 2);
        final String syscall = Files.readString(task.resolve("syscall")).trim().split(" ")[0];
        final String call = switch (syscall) {
            case "7", "271" -> "poll";
            default -> "syscall " + syscall;
        };
        return state + " " + call;
    }

    @Test
    @Order(100)
    void shouldLeaveTheNodeAsItWasAfterSigterm() throws Exception {
        assertEquals(0, agent.stop(), agent.log());
        final String after = lab.nodeNetworkState();
        Files.writeString(dir.resolve("state-before.txt"), stateBefore);
        Files.writeString(dir.resolve("state-after.txt"), after);
        assertEquals(stateBefore, after, "links, addresses, rules, routes and sysctls as before the agent started");
    }

    @Test
    @Order(101)
    void shouldRefuseANodeConfigWhoseServiceCidrOverlapsThePodCidr() throws Exception {
        final Path bad = dir.resolve("overlap.yaml");
        Files.writeString(bad, """
            nodeName: node-1
            nodeIPs: [198.18.0.11]
            clusterCIDRs: [10.0.0.0/8]
            podCIDR: 10.244.1.0/24
            serviceCIDRs: [10.96.0.0/12]
            """);
        final String before = lab.nodeNetworkState();
        try (AgentProcess refused = AgentProcess.start(lab.node(), dir.resolve("refused.log"),
            "--node-config", bad.toString(), "--manifests", manifests.toString(),
            "--run-dir", dir.resolve("run2").toString(), "--state-dir", dir.resolve("state2").toString())) {
            assertEquals(2, refused.awaitExit(30_000), refused.log());
            assertTrue(refused.log().contains("10.96.0.0/12") && refused.log().contains("10.0.0.0/8"),
                "the message names both ranges:\n" + refused.log());
        }
        assertEquals(before, lab.nodeNetworkState(), "a refused start touches nothing");
    }

}
