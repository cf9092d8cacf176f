package dev.ferry.control.agent;

import dev.ferry.control.testing.TempFiles;
import dev.ferry.control.lab.PodServer;
import dev.ferry.control.testing.AgentProcess;
import dev.ferry.control.testing.BulkServer;
import dev.ferry.control.testing.EchoServer;
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

import dev.ferry.control.lab.Shell;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.net.DatagramSocket;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.MessageDigest;
import java.util.HexFormat;
import java.util.HashSet;
import java.util.List;
import java.util.stream.Stream;
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
    /** A port no Service's endpoint uses: pod-to-pod traffic on it must not meet ferry0. */
    private static final int POD_TO_POD = 9200;
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
        // as an older version left them: world-readable, to be narrowed at start
        final Path state = Files.createDirectories(dir.resolve("state"));
        Files.setPosixFilePermissions(state, PosixFilePermissions.fromString("rwxr-xr-x"));
        Files.setPosixFilePermissions(Files.createFile(state.resolve("conntrack")), PosixFilePermissions.fromString("rw-r--r--"));
        startTheAgent("agent.log");
    }

    private void startTheAgent(final String logName) throws Exception {
        agent = AgentProcess.start(lab.node(), dir.resolve(logName),
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
        TempFiles.deleteRecursively(dir);
    }

    /** web (ClusterIP 10.96.0.10, NodePort 30080) over both pods, web-2 Ready as given; self (only web-1); empty; dns (UDP). */
    private void writeManifests(final boolean web2Ready) throws Exception {
        writeAtomically(manifests.resolve("services.yaml"), """
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
            metadata: {name: web-local}
            spec:
              type: NodePort
              clusterIP: 10.96.0.12
              externalTrafficPolicy: Local
              selector: {app: web}
              ports: [{name: http, port: 80, targetPort: 8080, nodePort: 30081}]
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
              ports: [{name: tcp, port: 9000, targetPort: 9000}, {name: udp, protocol: UDP, port: 9001, targetPort: 9001}]
            ---
            apiVersion: v1
            kind: Service
            metadata: {name: empty}
            spec:
              clusterIP: 10.96.0.20
              ports: [{port: 80}]
            """);
        writeAtomically(manifests.resolve("pods.yaml"), pod("web-1", NodeLab.podIp(1), true) + "---\n"
            + pod("web-2", NodeLab.podIp(2), web2Ready));
    }

    /**
     * Replaces {@code file} as an editor that saves by rename does: the agent never reads it half
     * written. (Written in place, a read between the truncation and the write could see no pods,
     * and the service would reject for a moment.)
     */
    private static void writeAtomically(final Path file, final String content) throws IOException {
        final Path temporary = file.resolveSibling("." + file.getFileName() + ".tmp");
        Files.writeString(temporary, content);
        Files.move(temporary, file, java.nio.file.StandardCopyOption.REPLACE_EXISTING, java.nio.file.StandardCopyOption.ATOMIC_MOVE);
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
    void shouldKeepFlowsAndStateReadableByTheOwnerOnly() throws Exception {
        final Path state = dir.resolve("state");
        final Path run = dir.resolve("run");
        assertEquals("rwx------", mode(state), "the state directory, narrowed from rwxr-xr-x");
        assertEquals("rw-------", mode(state.resolve("conntrack")), "every flow of the node, narrowed from rw-r--r--");
        assertEquals("rw-------", mode(state.resolve("affinity")), "which client goes to which pod");
        assertEquals("rw-------", mode(run.resolve("host-state.properties")));
        assertEquals("rwx--x---", mode(run), "traversable by the ferry group, for ferry stat");
        assertEquals("rw-r-----", mode(run.resolve("counters")));
        if (Files.exists(state.resolve("allocations"))) {
            assertEquals("rw-------", mode(state.resolve("allocations")));
        }
        assertTrue(agent.log().contains("narrowed " + state.resolve("conntrack") + " from rw-r--r-- to rw-------"), agent.log());
    }

    private static String mode(final Path path) throws Exception {
        return PosixFilePermissions.toString(Files.getPosixFilePermissions(path));
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

    /**
     * kube-proxy masquerades traffic from any of the node's local addresses to an
     * externalTrafficPolicy Local NodePort ("fib saddr type local"), not only from the nodeIPs.
     * An address the node gains while the agent runs counts at once, and stops counting when it
     * goes; the external client keeps its own address throughout.
     */
    @Test
    @Order(2)
    void shouldMasqueradeTheNodeFromAnAddressOutsideItsNodeIps() {
        final String other = "172.31.0.1"; // a docker bridge's, say: not in the node config
        Shell.run("ip", "-n", lab.node(), "addr", "add", other + "/32", "dev", "lo");
        try {
            final Http.Response r = awaitSeenClient(other, NodeLab.NODE_IP);
            assertEquals(NodeLab.NODE_IP, r.seenClient(), "masqueraded like the node's own address\n" + agent.log());
            assertTrue(agent.log().contains(other), "the agent logged its new local address\n" + agent.log());
        } finally {
            Shell.run("ip", "-n", lab.node(), "addr", "del", other + "/32", "dev", "lo");
        }
        final Http.Response client = get(lab.client(), NodeLab.NODE_IP, 30081);
        assertEquals("200", client.status(), agent.log());
        assertEquals(NodeLab.CLIENT_IP, client.seenClient(), "externalTrafficPolicy Local keeps an external client's address");
        assertEquals("NONE", traceMasquerade(other), "a removed address is no longer the node");
    }

    /**
     * GETs the Local NodePort from {@code from} until the pod sees {@code expected} (the watcher
     * learns a new address within milliseconds; bounded so a miss fails with the last answer).
     */
    private Http.Response awaitSeenClient(final String from, final String expected) {
        Http.Response r = null;
        for (int i = 0; i < 50; i++) {
            r = NetworkNamespace.call(lab.node(), () -> Http.get(from, NodeLab.NODE_IP, 30081, "/", 3000));
            assertEquals("200", r.status(), agent.log());
            if (expected.equals(r.seenClient())) {
                return r;
            }
            sleep(100);
        }
        return r;
    }

    /** The masquerade reason the running agent's /trace gives a TCP flow from {@code src} to the Local NodePort. */
    private String traceMasquerade(final String src) {
        for (int i = 0; i < 50; i++) {
            final Http.Response t = NetworkNamespace.call(lab.node(), () -> Http.get("127.0.0.1", 10249,
                "/trace?proto=TCP&src=" + src + "&dst=" + NodeLab.NODE_IP + "&dport=30081", 3000));
            assertEquals("200", t.status(), t.body());
            if (!t.body().contains("NODE_SOURCE")) {
                return "NONE";
            }
            sleep(100);
        }
        return "NODE_SOURCE";
    }

    private static void sleep(final long ms) {
        try {
            Thread.sleep(ms);
        } catch (final InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new AssertionError(e);
        }
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

    /**
     * A burst of datagrams of one flow through a ClusterIP, echoed back by a socket in web-2: the
     * agent joins what it reads of them in one batch into UDP_L4 super-packets
     * (UdpCoalescer), which the kernel must cut apart again, so each datagram arrives on its own,
     * with its length and bytes, both ways. Runs of equal sizes with a short one closing each run
     * (only the last segment of a super-packet may be short).
     */
    @Test
    @Order(4)
    void shouldDeliverEveryDatagramOfABurstOnItsOwnAndIntact() throws Exception {
        final int burst = 300;
        final long coalescedBefore = metric("ferry_udp_datagrams_coalesced_total");
        try (DatagramSocket echo = NetworkNamespace.call(lab.pod(2), () -> new DatagramSocket(9001))) {
            Thread.ofPlatform().daemon().name("udp-echo").start(() -> {
                final byte[] buffer = new byte[2048];
                try {
                    while (true) {
                        final java.net.DatagramPacket in = new java.net.DatagramPacket(buffer, buffer.length);
                        echo.receive(in);
                        echo.send(new java.net.DatagramPacket(buffer, in.getLength(), in.getSocketAddress()));
                    }
                } catch (final IOException e) {
                    // closed
                }
            });
            final Set<String> sent = new HashSet<>();
            final Set<String> echoed = NetworkNamespace.call(lab.pod(1), () -> {
                try (DatagramSocket socket = new DatagramSocket()) {
                    socket.connect(InetAddress.getByName("10.96.0.30"), 9001);
                    socket.setSoTimeout(1000);
                    final Set<String> got = new HashSet<>();
                    final byte[] buffer = new byte[2048];
                    // windows of 20 back to back, each waited for: a batch for the agent to coalesce,
                    // never so many in flight that a loaded machine drops them before ferry0
                    for (int window = 0; window < burst / 20; window++) {
                        for (int i = window * 20; i < window * 20 + 20; i++) {
                            final String datagram = datagram(i);
                            sent.add(datagram);
                            final byte[] bytes = datagram.getBytes(StandardCharsets.UTF_8);
                            socket.send(new java.net.DatagramPacket(bytes, bytes.length));
                        }
                        try {
                            for (int i = 0; i < 20; i++) {
                                final java.net.DatagramPacket in = new java.net.DatagramPacket(buffer, buffer.length);
                                socket.receive(in);
                                got.add(new String(buffer, 0, in.getLength(), StandardCharsets.UTF_8));
                            }
                        } catch (final java.net.SocketTimeoutException e) {
                            // lost in this window: the next one goes on
                        }
                    }
                    return got;
                }
            });
            final Set<String> unknown = new HashSet<>(echoed);
            unknown.removeAll(sent);
            assertTrue(unknown.isEmpty(), unknown.size() + " echoes were no datagram that was sent (merged, cut or mixed), e.g. "
                + unknown.stream().limit(2).map(e -> e.length() + " bytes from " + e.substring(0, Math.min(12, e.length()))).toList());
            // UDP may lose a datagram on a busy machine; a super-packet gone whole would lose a window of them
            assertTrue(echoed.size() >= burst * 95 / 100, echoed.size() + " of " + burst + " echoed\n" + agent.log());
        }
        assertTrue(agent.log().contains("UDP coalescing"),
            "both port types coalesce UDP where the kernel has UDP_L4 GSO (Linux 6.2 and later): " + agent.log());
        assertTrue(metric("ferry_udp_datagrams_coalesced_total") > coalescedBefore,
            "a burst this fast is read in batches, and their datagrams were written as super-packets");
    }

    /** The i-th datagram of the burst: its number, then filler; runs of 7 of 300 bytes closed by one of 120. */
    private static String datagram(final int i) {
        final String head = String.format("%05d:", i);
        return head + String.valueOf((char) ('a' + i % 26)).repeat((i % 8 == 7 ? 120 : 300) - head.length());
    }

    @Test
    @Order(5)
    void shouldKeepServingWhileTheAdminListenersAreFloodedWithIdleAndOversizedRequests() throws Exception {
        final List<Socket> flood = new java.util.ArrayList<>();
        try {
            NetworkNamespace.call(lab.node(), () -> {
                for (int i = 0; i < dev.ferry.control.admin.AdminServer.MAX_CONNECTIONS + 8; i++) { // past the limit
                    flood.add(new Socket("127.0.0.1", 10249));
                }
                final Socket big = flood.get(0);
                big.getOutputStream().write(("GET /trace HTTP/1.1\r\nHost: x\r\nContent-Length: 1073741824\r\n\r\n")
                    .getBytes(StandardCharsets.US_ASCII));
                return null;
            });
            for (int i = 0; i < 10; i++) {
                assertEquals("200", get(lab.pod(1), "10.96.0.10", 80).status(), "the dataplane serves while the admin is flooded\n" + agent.log());
            }
        } finally {
            for (final Socket socket : flood) {
                socket.close();
            }
        }
        final long deadline = System.nanoTime() + 10_000_000_000L; // the closes reach the admin's loop first
        String status = "";
        while (!"200".equals(status) && System.nanoTime() < deadline) {
            status = NetworkNamespace.call(lab.node(), () -> Http.get("127.0.0.1", 10249, "/metrics", 1000)).status();
        }
        assertEquals("200", status, "the admin serves again once the flood is gone");
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

    /** The packets the dataplane has read from ferry0, from the agent's metrics. */
    private long packetsIntoFerry0() {
        return metric("ferry_packets_received_total");
    }

    /** A counter's value (summed over the queues) from the agent's /metrics. */
    private long metric(final String name) {
        final Http.Response metrics = NetworkNamespace.call(lab.node(), () -> Http.get("127.0.0.1", 10249, "/metrics", 3000));
        assertEquals("200", metrics.status(), agent.log());
        return metrics.body().lines().filter(l -> l.startsWith(name + " "))
            .mapToLong(l -> (long) Double.parseDouble(l.substring(l.indexOf(' ') + 1))).findFirst()
            .orElseThrow(() -> new AssertionError(name + " is not in /metrics"));
    }

    @Test
    @Order(10)
    void shouldLeavePodToPodTrafficOutsideFerry0() throws Exception {
        final int bytes = 32 << 20;
        try (ServerSocket sink = NetworkNamespace.call(lab.pod(2), () -> new ServerSocket(POD_TO_POD))) {
            final java.util.concurrent.CompletableFuture<Long> received = java.util.concurrent.CompletableFuture.supplyAsync(() -> {
                try (Socket s = sink.accept(); InputStream in = s.getInputStream()) {
                    return in.transferTo(OutputStream.nullOutputStream());
                } catch (final IOException e) {
                    throw new UncheckedIOException(e);
                }
            });
            final long before = packetsIntoFerry0();
            try (Socket client = NetworkNamespace.call(lab.pod(1), () -> new Socket(NodeLab.podIp(2), POD_TO_POD))) {
                final byte[] chunk = new byte[1 << 16];
                final OutputStream out = client.getOutputStream();
                for (int sent = 0; sent < bytes; sent += chunk.length) {
                    out.write(chunk);
                }
                client.shutdownOutput();
                assertEquals(bytes, received.get(30, java.util.concurrent.TimeUnit.SECONDS));
            }
            final long through = packetsIntoFerry0() - before;
            // 32 MiB is at least 23,000 full-sized segments and their ACKs; under the old pod-CIDR
            // rules every one of them went through ferry0
            assertTrue(through < 50, through + " packets of a pod-to-pod transfer on a port no Service uses went through ferry0");
        }
    }

    @Test
    @Order(11)
    void shouldLetAPodTalkToAnotherPodOnItsServicesTargetPortDirectly() {
        // a reply from port 8080 is steered into ferry0 (it is an endpoint port); belonging to no
        // NATed flow, it passes unchanged
        final Http.Response r = get(lab.pod(1), NodeLab.podIp(2), HTTP);
        assertEquals("200", r.status(), agent.log());
        assertEquals("web-2", r.pod());
        assertEquals(NodeLab.podIp(1), r.seenClient());
    }

    @Test
    @Order(12)
    void shouldKeepAnEstablishedConnectionWhenASyncRemovesItsEndpointPort() throws Exception {
        // echo (ClusterIP 10.96.0.31:7) is the only user of target port 7007, on web-1
        try (ServerSocket echo = NetworkNamespace.call(lab.pod(1), () -> new ServerSocket(7007))) {
            final Thread server = Thread.ofPlatform().daemon().start(() -> {
                try (Socket s = echo.accept()) {
                    s.getInputStream().transferTo(s.getOutputStream());
                } catch (final IOException e) {
                    // the test's client closed
                }
            });
            Files.writeString(manifests.resolve("echo.yaml"), """
                apiVersion: v1
                kind: Service
                metadata: {name: echo}
                spec:
                  clusterIP: 10.96.0.31
                  selector: {app: web, pod: web-1}
                  ports: [{port: 7, targetPort: 7007}]
                """);
            awaitServices(services -> services.contains("default/echo"));
            // connected inside the call: a Socket's descriptor is made at connect, in the calling thread's namespace
            try (Socket client = NetworkNamespace.call(lab.pod(2), () -> {
                final Socket s = new Socket();
                s.connect(new java.net.InetSocketAddress("10.96.0.31", 7), 3000);
                return s;
            })) {
                client.setSoTimeout(5000);
                assertEquals("one", roundTrip(client, "one"), () -> "conntrack: "
                    + NetworkNamespace.call(lab.node(), () -> Http.get("127.0.0.1", 10249, "/conntrack", 3000)).body()
                    + "\nservices: " + NetworkNamespace.call(lab.node(), () -> Http.get("127.0.0.1", 10249, "/services", 3000)).body());

                Files.delete(manifests.resolve("echo.yaml"));
                awaitServices(services -> !services.contains("default/echo"));
                assertTrue(Shell.run("ip", "-n", lab.node(), "rule", "show").contains("sport 7007"),
                    "the removed port's reply rule stays while its flow lives");
                assertEquals("two", roundTrip(client, "two"), "the established connection outlives its service port's removal");
            }
            server.join(5000);
        }
    }

    @Test
    @Order(13)
    void shouldKeepEstablishedConnectionsAcrossAgentRestarts() throws Exception {
        // keep (ClusterIP 10.96.0.40:9, NodePort 30090) -> web-1:7070, an echo for many connections
        final List<Socket> connections = new java.util.ArrayList<>();
        final List<DatagramSocket> udpFlows = new java.util.ArrayList<>();
        try (EchoServer _ = EchoServer.start(lab.pod(1), 7070)) {
            Files.writeString(manifests.resolve("keep.yaml"), """
                apiVersion: v1
                kind: Service
                metadata: {name: keep}
                spec:
                  type: NodePort
                  clusterIP: 10.96.0.40
                  selector: {app: web, pod: web-1}
                  ports: [{port: 9, targetPort: 7070, nodePort: 30090}]
                """ + stickyServices());
            awaitServices(services -> services.contains("default/keep") && services.contains("default/sticky-" + (STICKY - 1)));
            final List<String> stickyBefore = stickyBackends();
            for (int i = 0; i < 7; i++) {
                connections.add(connect(lab.pod(2), "10.96.0.40", 9));       // pod -> ClusterIP, local endpoint
                connections.add(connect(lab.client(), NodeLab.NODE_IP, 30090)); // external -> NodePort, masqueraded
            }
            for (int i = 0; i < 6; i++) {
                connections.add(connect(lab.pod(1), "10.96.0.40", 9));       // hairpin, masqueraded
            }
            assertEquals(20, connections.size());
            for (final Socket c : connections) {
                assertEquals("before", roundTrip(c, "before"), agent.log());
            }
            // UDP flows pod -> ClusterIP dns (both pods): each keeps the backend it was given
            for (int i = 0; i < 8; i++) {
                udpFlows.add(NetworkNamespace.call(lab.pod(1), () -> {
                    final DatagramSocket socket = new DatagramSocket();
                    socket.connect(InetAddress.getByName("10.96.0.53"), 53);
                    socket.setSoTimeout(5000);
                    return socket;
                }));
            }
            final List<String> backends = new java.util.ArrayList<>();
            for (final DatagramSocket flow : udpFlows) {
                backends.add(udpBackend(flow));
            }

            agent.kill(); // kill -9: nothing runs on the way out
            sendWhileAway(connections, "after-kill");
            asAnAgentBeforeTheJumpsLeftIt();
            startTheAgent("agent-after-kill.log");
            assertEchoes(connections, "after-kill", "killed and started again");
            final String rules = Shell.run("ip", "-n", lab.node(), "rule", "show");
            assertTrue(rules.lines().noneMatch(l -> l.startsWith("21:") && l.contains("lookup")), "an older agent's pref-21 rules moved:\n" + rules);
            assertTrue(rules.contains("22:\tfrom all to 10.244.1.0/24 ipproto tcp sport 7070 lookup 200")
                && rules.contains("goto 100"), rules);
            assertEquals(backends, udpFlows.stream().map(AgentNamespaceTest::udpBackend).toList(), "UDP flows keep their backend");
            assertEquals(stickyBefore, stickyBackends(), "ClientIP affinity: each client's new connections keep their endpoint");
            assertTrue(agent.log().contains("attached to ClientIP affinity records"), agent.log());

            assertEquals(0, agent.stop(), agent.log()); // SIGTERM, as systemctl restart does
            sendWhileAway(connections, "after-term");
            startTheAgent("agent-after-term.log");
            assertEchoes(connections, "after-term", "stopped with SIGTERM and started again");
            assertEquals(backends, udpFlows.stream().map(AgentNamespaceTest::udpBackend).toList(), "UDP flows keep their backend");
            assertEquals(stickyBefore, stickyBackends(), "ClientIP affinity: each client's new connections keep their endpoint");
            assertTrue(agent.log().contains("adopted the previous agent's"), agent.log());
        } finally {
            for (final Socket c : connections) {
                c.close();
            }
            udpFlows.forEach(DatagramSocket::close);
            Files.deleteIfExists(manifests.resolve("keep.yaml"));
        }
    }

    /**
     * Makes the node's rules those an agent before the jumps at prefs 21 and 23 left: its rules
     * steering replies into local pods at pref 21, no jumps. A start adopts them and its first
     * sync moves them to pref 22, adding the new ones before removing the old.
     */
    private void asAnAgentBeforeTheJumpsLeftIt() {
        for (final String line : Shell.run("ip", "-n", lab.node(), "rule", "show").lines().toList()) {
            final String pref = line.substring(0, line.indexOf(':'));
            final String selectors = line.substring(line.indexOf('\t') + 1);
            if (pref.equals("21") || pref.equals("23")) {
                Shell.run(Stream.concat(Stream.of("ip", "-n", lab.node(), "rule", "del", "pref", pref),
                    Stream.of(selectors.split(" "))).toArray(String[]::new));
            } else if (pref.equals("22")) {
                final List<String> args = Stream.of(selectors.split(" ")).toList();
                Shell.run(Stream.concat(Stream.of("ip", "-n", lab.node(), "rule", "add", "pref", "21"), args.stream()).toArray(String[]::new));
                Shell.run(Stream.concat(Stream.of("ip", "-n", lab.node(), "rule", "del", "pref", "22"), args.stream()).toArray(String[]::new));
            }
        }
    }

    /** ClientIP-affinity services over both pods: with four clients each, 20 records a restart must keep (2^-20 to keep them by chance). */
    private static final int STICKY = 5;

    private static String stickyServices() {
        final StringBuilder y = new StringBuilder();
        for (int i = 0; i < STICKY; i++) {
            y.append("""
                ---
                apiVersion: v1
                kind: Service
                metadata: {name: sticky-%d}
                spec:
                  clusterIP: 10.96.0.%d
                  selector: {app: web}
                  sessionAffinity: ClientIP
                  ports: [{port: 80, targetPort: 8080}]
                """.formatted(i, 60 + i));
        }
        return y.toString();
    }

    /** The pod each (sticky service, client) pair reaches with a new connection. */
    private List<String> stickyBackends() {
        final List<String> pods = new java.util.ArrayList<>();
        for (int i = 0; i < STICKY; i++) {
            for (final String client : List.of(lab.pod(1), lab.pod(2), lab.node(), lab.client())) {
                final Http.Response r = get(client, "10.96.0." + (60 + i), 80);
                assertEquals("200", r.status(), "sticky-" + i + " from " + client + "\n" + agent.log());
                pods.add(r.pod());
            }
        }
        return pods;
    }

    /** One datagram on the flow; the pod that answered ("web-1"), or what went wrong. */
    private static String udpBackend(final DatagramSocket flow) {
        try {
            final byte[] hello = "hello".getBytes(StandardCharsets.US_ASCII);
            flow.send(new java.net.DatagramPacket(hello, hello.length));
            final byte[] buffer = new byte[2048];
            final java.net.DatagramPacket in = new java.net.DatagramPacket(buffer, buffer.length);
            flow.receive(in);
            final String answer = new String(buffer, 0, in.getLength(), StandardCharsets.UTF_8);
            return answer.startsWith("pod=") ? answer.substring(4).split("[ \\n]")[0] : answer;
        } catch (final IOException e) {
            return "no answer: " + e.getMessage();
        }
    }

    private static Socket connect(final String ns, final String host, final int port) {
        return EchoServer.connect(ns, host, port, 3000);
    }

    /** Writes a line on every connection while no agent runs: it must not come back as a reset. */
    private static void sendWhileAway(final List<Socket> connections, final String line) throws IOException {
        for (final Socket c : connections) {
            c.getOutputStream().write((line + "\n").getBytes(StandardCharsets.US_ASCII));
        }
    }

    private void assertEchoes(final List<Socket> connections, final String line, final String what) throws IOException {
        int kept = 0;
        final StringBuilder lost = new StringBuilder();
        for (int i = 0; i < connections.size(); i++) {
            try {
                if (line.equals(readLine(connections.get(i)))) {
                    kept++;
                    assertEquals("again", roundTrip(connections.get(i), "again"));
                } else {
                    lost.append(" #").append(i).append(" (closed)");
                }
            } catch (final IOException e) {
                lost.append(" #").append(i).append(" (").append(e.getMessage()).append(')');
            }
        }
        assertEquals(connections.size(), kept, "connections kept when the agent was " + what + "; lost:" + lost + "\n" + agent.log());
    }

    private static String readLine(final Socket socket) throws IOException {
        return EchoServer.readLine(socket);
    }

    private static String roundTrip(final Socket socket, final String line) throws IOException {
        return EchoServer.roundTrip(socket, line);
    }

    /** Waits (bounded) until the agent's /services answer satisfies {@code done}. */
    private void awaitServices(final java.util.function.Predicate<String> done) {
        final long deadline = System.nanoTime() + 15_000_000_000L; // a bound on waiting for the sync, not a speed check
        String body = "";
        while (System.nanoTime() < deadline) {
            body = NetworkNamespace.call(lab.node(), () -> Http.get("127.0.0.1", 10249, "/services", 3000)).body();
            if (done.test(body)) {
                return;
            }
            Thread.onSpinWait();
        }
        throw new AssertionError("the agent's services never reached the expected state: " + body + "\n" + agent.log());
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
    void shouldLeaveItsRoutingAfterSigtermAndTheNodeAsItWasAfterCleanup() throws Exception {
        assertEquals(0, agent.stop(), agent.log());
        final String stopped = lab.nodeNetworkState();
        assertTrue(stopped.contains("lookup 200") && stopped.contains("blackhole"),
            "SIGTERM leaves the rules and the fallback routes for the next agent:\n" + stopped);
        AgentProcess.cleanup(lab.node(), dir.resolve("cleanup.log"), dir.resolve("run"));
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
