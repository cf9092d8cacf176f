package dev.ferry.control.lab;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import picocli.CommandLine;

import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

/**
 * The lab's network, pods and readiness loop, without agents (privileged: creates network
 * namespaces). Everything here is plain routing: pod to pod across nodes, the client to pods
 * through the router, pods to the off-cluster server. Services need the agents: see
 * {@link LabServicesE2E}.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class LabWithoutAgentsTest {
    private Lab lab;
    private LabTopology topology;

    @BeforeAll
    void up() {
        LabTestSupport.requirePrivileges();
        lab = LabTestSupport.lab("without-agents");
        lab.down(true); // a lab left over by a killed run
        lab.up(new LabState.Settings(2, "tun", false));
        topology = lab.topology();
    }

    @AfterAll
    void down() {
        if (lab != null) {
            lab.down(true);
        }
    }

    @Test
    void shouldReachAPodOnAnotherNodeByItsAddressSeeingTheSendersOwnAddress() {
        final LabTopology.Pod from = topology.requirePod("web-3");
        final LabTopology.Pod to = topology.requirePod("web-1");
        final LabClient.Outcome outcome = LabClient.http(from.netns(), LabClient.Request.http(to.ip(), LabTopology.HTTP_PORT));
        assertTrue(outcome.answered(), outcome.toString());
        assertEquals("web-1", outcome.pod());
        assertEquals(from.ip(), outcome.clientIp());
    }

    @Test
    void shouldReachAPodOnTheSameNode() {
        final LabClient.Outcome outcome = LabClient.http(topology.requirePod("web-2").netns(),
            LabClient.Request.http(topology.requirePod("local-1").ip(), LabTopology.HTTP_PORT));
        assertEquals("local-1", outcome.pod(), outcome.toString());
        assertEquals(topology.requirePod("web-2").ip(), outcome.clientIp());
    }

    @Test
    void shouldRouteTheExternalClientToPodsOnEveryNodeThroughTheRouter() {
        for (final LabTopology.Pod pod : topology.pods()) {
            final LabClient.Outcome outcome = LabClient.http(topology.clientNetns(), LabClient.Request.http(pod.ip(), LabTopology.HTTP_PORT));
            assertEquals(pod.name(), outcome.pod(), outcome.toString());
            assertEquals(LabTopology.CLIENT_IP, outcome.clientIp());
        }
        final String extra = LabTopology.extraClients().get(7);
        final LabClient.Outcome fromExtra = LabClient.http(topology.clientNetns(),
            LabClient.Request.http(topology.requirePod("web-3").ip(), LabTopology.HTTP_PORT).from(extra));
        assertEquals(extra, fromExtra.clientIp(), fromExtra.toString());
    }

    @Test
    void shouldReachTheOffClusterServerFromPodsAndNodes() {
        final LabTopology.Pod pod = topology.requirePod("web-2");
        final LabClient.Outcome fromPod = LabClient.http(pod.netns(), LabClient.Request.http(LabTopology.EXTERNAL_IP, LabTopology.HTTP_PORT));
        assertEquals(LabTopology.EXTERNAL_NAME, fromPod.pod(), fromPod.toString());
        assertEquals(pod.ip(), fromPod.clientIp());
        final LabClient.Outcome fromNode = LabClient.http(topology.node(2).netns(),
            LabClient.Request.http(LabTopology.EXTERNAL_IP, LabTopology.HTTP_PORT));
        assertEquals(topology.node(2).ip(), fromNode.clientIp(), fromNode.toString());
    }

    @Test
    void shouldEchoUdpWithTheSendersAddress() {
        final LabTopology.Pod from = topology.requirePod("web-1");
        final LabClient.Outcome outcome = LabClient.udp(from.netns(),
            LabClient.Request.http(topology.requirePod("web-3").ip(), LabTopology.UDP_PORT));
        assertEquals("web-3", outcome.pod(), outcome.toString());
        assertEquals(from.ip(), outcome.clientIp());
    }

    @Test
    void shouldSeeAnIcmpPortUnreachableForAClosedUdpPort() {
        final LabClient.Outcome outcome = LabClient.udp(topology.requirePod("web-1").netns(),
            LabClient.Request.http(topology.requirePod("web-3").ip(), LabManifests.CLOSED_TARGET_PORT));
        assertEquals(LabClient.Kind.REFUSED, outcome.kind(), outcome.toString());
    }

    @Test
    void shouldMarkAStoppedPodUnreadyOnEveryNodeAndReadyAgainWhenRestarted() throws Exception {
        lab.stopPod("web-2");
        try {
            lab.waitForReadiness(topology, List.of("web-2"), false, 30_000);
            for (final LabTopology.Node node : topology.nodes()) {
                assertFalse(LabManifests.readReady(lab.state().manifestsDir(node).resolve("pod-web-2.yaml")), node.name());
                assertTrue(LabManifests.readReady(lab.state().manifestsDir(node).resolve("pod-web-1.yaml")), node.name());
            }
            final LabClient.Outcome refused = LabClient.http(topology.requirePod("web-1").netns(),
                LabClient.Request.http(topology.requirePod("web-2").ip(), LabTopology.HTTP_PORT));
            assertEquals(LabClient.Kind.REFUSED, refused.kind(), refused.toString());
        } finally {
            lab.startPod("web-2");
        }
        lab.waitForReadiness(topology, List.of("web-2"), true, 30_000);
        for (final LabTopology.Node node : topology.nodes()) {
            assertTrue(LabManifests.readReady(lab.state().manifestsDir(node).resolve("pod-web-2.yaml")), node.name());
        }
        final String log = Files.readString(lab.state().controllerLog());
        assertTrue(log.contains("pod web-2 Ready=False"), log);
    }

    @Test
    void shouldReportNamespacesPodsAndAgentsInStatus() {
        final Lab.Status status = lab.status();
        assertTrue(status.namespaces().containsAll(topology.namespaces()), status.namespaces().toString());
        assertTrue(status.processesByNamespace().get(topology.routerNetns()).stream().anyMatch(p -> p.startsWith("controller")));
        for (final LabTopology.Pod pod : topology.pods()) {
            assertTrue(status.processesByNamespace().get(pod.netns()).stream().anyMatch(p -> p.startsWith("pod-server")), pod.name());
        }
        assertEquals("not running", status.agents().get("node-1"));
        final StringWriter text = new StringWriter();
        final CommandLine cli = new CommandLine(new LabCommand());
        cli.setOut(new PrintWriter(text));
        assertEquals(0, cli.execute("status", "--state-dir", lab.state().dir().toString(), "--prefix", lab.prefix()));
        assertTrue(text.toString().contains("web-3     10.244.2.11 on node-2, server running, Ready=True"), text.toString());
    }

    @Test
    void shouldRunCommandsInsideLabNamespacesByShortName() {
        final CommandLine cli = new CommandLine(new LabCommand());
        final String state = lab.state().dir().toString();
        assertEquals(0, cli.execute("exec", "--state-dir", state, "--prefix", lab.prefix(), "client", "--",
            "sh", "-c", "ip -o -4 addr show dev eth0 | grep -q ' " + LabTopology.CLIENT_IP + "/24'"));
        assertEquals(0, cli.execute("exec", "--state-dir", state, "--prefix", lab.prefix(), "web-3", "--",
            "sh", "-c", "ip route | grep -q 'default via 169.254.1.1 dev eth0 onlink'"));
        assertEquals(3, cli.execute("exec", "--state-dir", state, "--prefix", lab.prefix(), "node-1", "--", "sh", "-c", "exit 3"));
        final StringWriter err = new StringWriter();
        cli.setErr(new PrintWriter(err));
        assertEquals(1, cli.execute("exec", "--state-dir", state, "--prefix", lab.prefix(), "node-7", "--", "true"));
        assertTrue(err.toString().contains("no lab namespace 'node-7'"), err.toString());
    }

    @Test
    void shouldKeepTheStateFilesWhereTheSettingsSay() throws Exception {
        final Path settings = lab.state().settingsFile();
        assertTrue(Files.exists(settings));
        assertEquals(new LabState.Settings(2, "tun", false), lab.state().readSettings());
    }
}
