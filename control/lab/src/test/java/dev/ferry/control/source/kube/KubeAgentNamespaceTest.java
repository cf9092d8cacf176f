package dev.ferry.control.source.kube;

import dev.ferry.control.lab.PodServer;
import dev.ferry.control.testing.AgentProcess;
import dev.ferry.control.testing.Http;
import dev.ferry.control.testing.NodeLab;
import dev.ferry.control.testing.Shell;
import dev.ferry.nativeio.netns.NetworkNamespace;
import io.fabric8.kubernetes.api.model.IntOrString;
import io.fabric8.kubernetes.api.model.ServiceBuilder;
import io.fabric8.kubernetes.api.model.discovery.v1.EndpointSlice;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;

import java.net.InetAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.Callable;

import static dev.ferry.control.source.kube.ApiFixtures.endpoint;
import static dev.ferry.control.source.kube.ApiFixtures.ready;
import static dev.ferry.control.source.kube.ApiFixtures.slice;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

/**
 * A real {@code ferry agent --kubeconfig} (tun port) in a node namespace, fed by fabric8's mock
 * API server, carrying real kernel TCP. The mock server runs in the client namespace, on the
 * client's routed address 198.18.0.100: the agent reaches its API server across the node's
 * network, through the routing it installs itself, as on a real cluster. The test writes to the
 * API from inside that namespace too. The Node object gives the agent its address and pod range
 * (no --node-ip, no --pod-cidr). Privileged: runs as root, fails (never skips) otherwise; its
 * namespaces are named fagt-PID-{@value #LAB_NAME}*, apart from the other agent tests'.
 */
@Tag("privileged")
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class KubeAgentNamespaceTest {
    static final String LAB_NAME = "kube-";
    private static final String WEB = "10.96.0.10";
    private static final int NODE_PORT = 30080;
    private static final int HEALTH_CHECK_NODE_PORT = 30999;
    /** A ServiceCIDR the cluster adds beside --service-cidr, and a ClusterIP from it. */
    private static final String EXTRA_RANGE = "10.200.0.0/16";
    private static final String EXTRA_WEB = "10.200.0.10";
    /** A bound on waiting for the agent to follow the API, not a speed requirement. */
    private static final long FOLLOW_MS = 15_000;

    private static Path dir;
    private static NodeLab lab;
    private static MockApi api;
    private static AgentProcess agent;
    private static String stateBefore;
    private static final List<PodServer> servers = new java.util.ArrayList<>();

    @BeforeAll
    static void startAgent() throws Exception {
        dir = Files.createTempDirectory("ferry-kube-agent");
        lab = new NodeLab(LAB_NAME, 2);
        for (int i = 1; i <= 2; i++) {
            final String name = "web-" + i;
            servers.add(NetworkNamespace.call(lab.pod(i), () -> PodServer.start(name, 8080, 5353)));
        }
        // Created on a thread inside the client namespace: its listener and threads stay there.
        api = NetworkNamespace.call(lab.client(), () -> MockApi.start(InetAddress.getByName(NodeLab.CLIENT_IP), 0));
        inClient(() -> {
            api.writer.resource(ApiFixtures.thisNode()).create(); // InternalIP 198.18.0.11, podCIDR 10.244.1.0/24
            api.writer.resource(new ServiceBuilder()
                .withNewMetadata().withName("web").withNamespace("default").endMetadata()
                .withNewSpec().withType("LoadBalancer").withClusterIP(WEB).withClusterIPs(WEB)
                .withExternalTrafficPolicy("Local").withHealthCheckNodePort(HEALTH_CHECK_NODE_PORT)
                .addNewPort().withName("http").withPort(80).withTargetPort(new IntOrString(8080)).withNodePort(NODE_PORT).endPort()
                .endSpec().build()).create();
            api.writer.resource(slice("web-abc", "web", ready(NodeLab.podIp(1), ApiFixtures.NODE),
                ready(NodeLab.podIp(2), ApiFixtures.NODE))).create();
            return null;
        });
        final Path kubeconfig = MockApi.kubeconfig(dir, "http://" + NodeLab.CLIENT_IP + ":" + api.port() + "/");

        stateBefore = lab.nodeNetworkState();
        agent = AgentProcess.start(lab.node(), dir.resolve("agent.log"),
            "--kubeconfig", kubeconfig.toString(), "--node-name", ApiFixtures.NODE,
            "--service-cidr", "10.96.0.0/12", "--cluster-cidr", "10.244.0.0/16", "--port-type", "tun",
            "--run-dir", dir.resolve("run").toString(), "--state-dir", dir.resolve("state").toString(),
            "--sync-min-interval-ms", "100", "--sync-max-interval-ms", "5000");
        agent.awaitHealthy(60_000);
    }

    @AfterAll
    static void stopAll() throws Exception {
        if (agent != null) {
            agent.close();
        }
        if (api != null) {
            api.close();
        }
        servers.forEach(PodServer::close);
        if (lab != null) {
            lab.close();
        }
        if (dir != null) {
            // The mapped conntrack table is tens of megabytes; failures quote the agent's log already.
            try (var files = Files.walk(dir)) {
                files.sorted(java.util.Comparator.reverseOrder()).forEach(f -> f.toFile().delete());
            }
        }
    }

    private static <T> T inClient(final Callable<T> task) {
        return NetworkNamespace.call(lab.client(), task);
    }

    private static Http.Response get(final String ns, final String host, final int port) {
        return NetworkNamespace.call(ns, () -> Http.get(host, port, "/", 3000));
    }

    /** GETs {@code host:port} from {@code ns} until the pods that answered are {@code expected} (bounded). */
    private static void awaitPods(final String ns, final String host, final int port, final Set<String> expected) {
        final long deadline = System.nanoTime() + FOLLOW_MS * 1_000_000;
        Set<String> seen = Set.of();
        while (System.nanoTime() < deadline) {
            seen = new HashSet<>();
            for (int i = 0; i < 24 && !seen.containsAll(expected); i++) {
                final Http.Response r = get(ns, host, port);
                if ("200".equals(r.status())) {
                    seen.add(r.pod());
                }
            }
            if (seen.equals(expected)) {
                return;
            }
        }
        fail("GET " + host + ":" + port + " from " + ns + ": wanted answers from " + expected + ", got " + seen
            + "\nagent log:\n" + agent.log());
    }

    /** The health check node port's answer from outside the node, once its body says {@code localEndpoints} (bounded). */
    private static Http.Response awaitHealthCheck(final int localEndpoints) {
        final long deadline = System.nanoTime() + FOLLOW_MS * 1_000_000;
        Http.Response r = null;
        while (System.nanoTime() < deadline) {
            r = get(lab.client(), NodeLab.NODE_IP, HEALTH_CHECK_NODE_PORT);
            if (r.body().contains("\"localEndpoints\": " + localEndpoints + ",")) {
                return r;
            }
        }
        fail("health check node port: wanted localEndpoints " + localEndpoints + ", last answer " + r + "\n" + agent.log());
        return r;
    }

    @Test
    @Order(1)
    void shouldTakeTheNodesAddressAndPodRangeFromTheApi() {
        assertTrue(agent.log().contains("ferry agent on node node-1 ([" + NodeLab.NODE_IP + "])"), agent.log());
    }

    @Test
    @Order(2)
    void shouldCarryPodToClusterIpToTheEndpointsOfTheApisSlice() {
        awaitPods(lab.pod(1), WEB, 80, Set.of("web-1", "web-2"));
        final Http.Response r = get(lab.pod(1), WEB, 80);
        assertEquals("200", r.status(), agent.log());
    }

    @Test
    @Order(3)
    void shouldCarryAnExternalClientThroughTheNodePort() {
        final Http.Response r = get(lab.client(), NodeLab.NODE_IP, NODE_PORT);
        assertEquals("200", r.status(), agent.log());
        assertEquals(NodeLab.CLIENT_IP, r.seenClient(), "externalTrafficPolicy Local keeps the client's address");
    }

    @Test
    @Order(4)
    void shouldAnswerTheLoadBalancersHealthCheckOnTheNodesAddress() {
        final Http.Response r = awaitHealthCheck(2);
        assertEquals("200", r.status(), r.body());
        assertTrue(r.body().contains("\"name\": \"web\""), r.body());
    }

    @Test
    @Order(5)
    void shouldFollowTheSliceWhenAnEndpointTurnsNotReady() {
        inClient(() -> api.writer.resource(slice("web-abc", "web", ready(NodeLab.podIp(1), ApiFixtures.NODE),
            endpoint(NodeLab.podIp(2), ApiFixtures.NODE, false, false, false))).update());
        awaitPods(lab.pod(1), WEB, 80, Set.of("web-1"));
        assertEquals("200", awaitHealthCheck(1).status());
    }

    @Test
    @Order(6)
    void shouldRejectAtOnceWhenTheSliceIsDeleted() {
        inClient(() -> api.writer.resources(EndpointSlice.class).inNamespace("default").withName("web-abc").delete());
        final long deadline = System.nanoTime() + FOLLOW_MS * 1_000_000;
        String status = "200";
        while (System.nanoTime() < deadline && !"refused".equals(status)) {
            status = get(lab.pod(1), WEB, 80).status();
        }
        assertEquals("refused", status, "no endpoints: a TCP reset\n" + agent.log());
        assertEquals("503", awaitHealthCheck(0).status(), "no local endpoint: the load balancer should stop sending here");
    }

    /** The node's main-table routes to {@code prefix}, as {@code ip route} prints them. */
    private static String routesTo(final String prefix) {
        return Shell.run("ip", "-n", lab.node(), "-4", "route", "show", prefix).strip();
    }

    /** Packets the dataplane dropped by service policy (an unallocated service address among them), from the agent's metrics. */
    private static long servicePolicyDrops() {
        final Http.Response metrics = NetworkNamespace.call(lab.node(), () -> Http.get("127.0.0.1", 10249, "/metrics", 3000));
        assertEquals("200", metrics.status(), agent.log());
        return metrics.body().lines().filter(l -> l.startsWith("ferry_packets_dropped_total{reason=\"service_policy\"} "))
            .mapToLong(l -> (long) Double.parseDouble(l.substring(l.indexOf(' ') + 1))).findFirst().orElseThrow();
    }

    /** Waits (bounded) until {@code condition} holds, failing with the agent's log. */
    private static void awaitAgent(final java.util.function.BooleanSupplier condition, final String what) {
        final long deadline = System.nanoTime() + FOLLOW_MS * 1_000_000;
        while (!condition.getAsBoolean()) {
            if (System.nanoTime() > deadline) {
                fail(what + "\nagent log:\n" + agent.log());
            }
            try {
                Thread.sleep(50); // polling a bound, not timing anything
            } catch (final InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new AssertionError(e);
            }
        }
    }

    @Test
    @Order(7)
    void shouldRouteAServiceCidrIntoFerry0AndDropItsUnallocatedAddresses() {
        inClient(() -> {
            api.writer.resource(ApiFixtures.serviceCidr("extra", EXTRA_RANGE)).create();
            api.writer.resource(ApiFixtures.plain("extra-web", EXTRA_WEB, 80)).create();
            api.writer.resource(slice("extra-web-a", "extra-web", ready(NodeLab.podIp(2), ApiFixtures.NODE))).create();
            return null;
        });
        awaitAgent(() -> routesTo(EXTRA_RANGE).contains("dev ferry0"), "the ServiceCIDR's range routed into ferry0: " + routesTo(EXTRA_RANGE));
        awaitPods(lab.pod(1), EXTRA_WEB, 80, Set.of("web-2"));

        final long before = servicePolicyDrops();
        assertEquals("timeout", get(lab.pod(1), "10.200.0.99", 80).status(), "nothing answers an unallocated address");
        assertTrue(servicePolicyDrops() > before, "the dataplane dropped it, as one of --service-cidr's\n" + agent.log());
    }

    @Test
    @Order(8)
    void shouldWithdrawTheRangeOfADeletedServiceCidr() {
        inClient(() -> {
            api.writer.services().inNamespace("default").withName("extra-web").delete();
            api.writer.resources(io.fabric8.kubernetes.api.model.networking.v1.ServiceCIDR.class).withName("extra").delete();
            return null;
        });
        awaitAgent(() -> routesTo(EXTRA_RANGE).isEmpty(), "the deleted ServiceCIDR's range no longer routed: " + routesTo(EXTRA_RANGE));
        assertTrue(routesTo("10.96.0.0/12").contains("dev ferry0"), "--service-cidr's range stays");
    }

    @Test
    @Order(100)
    void shouldLeaveTheNodeAsItWasAfterSigtermAndCleanup() throws Exception {
        assertEquals(0, agent.stop(), agent.log());
        AgentProcess.cleanup(lab.node(), dir.resolve("cleanup.log"), dir.resolve("run"));
        assertEquals(stateBefore, lab.nodeNetworkState(), "links, addresses, rules, routes and sysctls as before the agent started");
    }
}
