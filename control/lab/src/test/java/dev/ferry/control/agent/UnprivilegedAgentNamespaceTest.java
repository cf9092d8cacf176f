package dev.ferry.control.agent;

import dev.ferry.control.testing.TempFiles;
import dev.ferry.control.lab.PodServer;
import dev.ferry.control.testing.AgentProcess;
import dev.ferry.control.testing.AgentProcess.AgentUser;
import dev.ferry.control.testing.Http;
import dev.ferry.control.testing.NodeLab;
import dev.ferry.nativeio.netns.NetworkNamespace;
import dev.ferry.nativeio.probe.NativeAccessProbe;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.ArrayList;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The agent as ferry.service runs it: not root but a system user (here nobody) holding only
 * CAP_NET_ADMIN and CAP_NET_RAW (and CAP_SYS_ADMIN for the packet port, as packet-port.conf
 * adds), with no new privileges and umask 077. It must install ferry0, its routes, rules and
 * sysctls, translate real connections, keep its files its own, and clean up, all without root.
 * Privileged: the test itself runs as root to build the lab, fails (never skips) otherwise.
 */
@Tag("privileged")
class UnprivilegedAgentNamespaceTest {
    private Path dir;
    private NodeLab lab;
    private PodServer server;
    private AgentProcess agent;

    @AfterEach
    void stopAll() throws Exception {
        if (agent != null) {
            agent.close();
        }
        if (server != null) {
            server.close();
        }
        if (lab != null) {
            lab.close();
        }
        TempFiles.deleteRecursively(dir);
    }

    @ParameterizedTest(name = "portType {0}")
    @ValueSource(strings = {"tun", "packet"})
    void shouldServeAndCleanUpAsASystemUserWithOnlyItsCapabilities(final String portType) throws Exception {
        final List<String> capabilities = new ArrayList<>(List.of("NET_ADMIN", "NET_RAW"));
        if (portType.equals("packet")) {
            capabilities.add("SYS_ADMIN"); // setns into the packet socket's namespace (packet-port.conf)
        }
        final AgentUser user = AgentUser.nobody(capabilities.toArray(String[]::new));
        final Path manifests = prepare(portType);
        // what systemd's StateDirectory= and RuntimeDirectory= hand a unit with User=
        final Path state = ownedBy(user, dir.resolve("state"));
        final Path run = ownedBy(user, dir.resolve("run"));
        final String before = lab.nodeNetworkState();

        agent = AgentProcess.startAs(user, lab.node(), dir, dir.resolve("agent.log"),
            "--node-config", dir.resolve("node.yaml").toString(), "--manifests", manifests.toString(),
            "--run-dir", run.toString(), "--state-dir", state.toString());
        agent.awaitHealthy(60_000);

        final String status = Files.readString(Path.of("/proc", String.valueOf(agent.pid()), "status"));
        assertTrue(status.contains("\nUid:\t65534\t65534\t65534\t65534\n"), "the agent runs as nobody:\n" + status);
        assertEquals(capabilityMask(capabilities), field(status, "CapEff"), "effective capabilities: only " + capabilities);

        final Http.Response fromPod = NetworkNamespace.call(lab.pod(1), () -> Http.get("10.96.0.10", 80, "/", 3000));
        assertEquals("200", fromPod.status(), "pod -> its own ClusterIP (hairpin)\n" + agent.log());
        final Http.Response fromClient = NetworkNamespace.call(lab.client(), () -> Http.get(NodeLab.NODE_IP, 30080, "/", 3000));
        assertEquals("200", fromClient.status(), "client -> NodePort\n" + agent.log());
        assertEquals("web-1", fromClient.pod());

        final Path conntrack = state.resolve("conntrack");
        assertEquals(65534, (int) Files.getAttribute(conntrack, "unix:uid"), "the conntrack file is the agent user's");
        assertEquals("rw-------", PosixFilePermissions.toString(Files.getPosixFilePermissions(conntrack)));

        assertEquals(0, agent.stop(), agent.log());
        AgentProcess.cleanupAs(user, lab.node(), dir, dir.resolve("cleanup.log"), run);
        assertEquals(before, lab.nodeNetworkState(), "links, addresses, rules, routes and sysctls as before the agent started");
    }

    @Test
    void shouldRefuseThePacketPortWithoutCapSysAdminSayingSoAndTouchingNothing() throws Exception {
        final AgentUser user = AgentUser.nobody("NET_ADMIN", "NET_RAW"); // ferry.service without packet-port.conf
        final Path manifests = prepare("packet");
        final String before = lab.nodeNetworkState();
        agent = AgentProcess.startAs(user, lab.node(), dir, dir.resolve("refused.log"),
            "--node-config", dir.resolve("node.yaml").toString(), "--manifests", manifests.toString(),
            "--run-dir", ownedBy(user, dir.resolve("run")).toString(), "--state-dir", ownedBy(user, dir.resolve("state")).toString());
        assertEquals(1, agent.awaitExit(30_000), agent.log());
        assertTrue(agent.log().contains("CAP_SYS_ADMIN") && agent.log().contains("packet-port.conf"),
            "the refusal names the capability and the drop-in that grants it:\n" + agent.log());
        assertEquals(before, lab.nodeNetworkState(), "a refused start touches nothing");
    }

    /** A temp dir readable by the agent's user with node.yaml (portType) and manifests/web.yaml; a lab with one pod serving. */
    private Path prepare(final String portType) throws Exception {
        dir = Files.createTempDirectory("ferry-unprivileged-" + portType);
        Files.setPosixFilePermissions(dir, PosixFilePermissions.fromString("rwxr-xr-x"));
        lab = new NodeLab("unpriv-" + portType, 1);
        server = NetworkNamespace.call(lab.pod(1), () -> PodServer.start("web-1", 8080, 5353));
        final Path manifests = Files.createDirectories(dir.resolve("manifests"));
        Files.writeString(manifests.resolve("web.yaml"), """
            apiVersion: v1
            kind: Service
            metadata: {name: web}
            spec:
              type: NodePort
              clusterIP: 10.96.0.10
              selector: {app: web}
              ports: [{port: 80, targetPort: 8080, nodePort: 30080}]
            ---
            apiVersion: v1
            kind: Pod
            metadata: {name: web-1, labels: {app: web}}
            spec: {nodeName: node-1, containers: [{name: web, ports: [{containerPort: 8080}]}]}
            status: {podIP: %s, conditions: [{type: Ready, status: "True"}]}
            """.formatted(NodeLab.podIp(1)));
        Files.writeString(dir.resolve("node.yaml"), """
            nodeName: node-1
            nodeIPs: [%s]
            clusterCIDRs: [10.244.0.0/16]
            podCIDR: 10.244.1.0/24
            serviceCIDRs: [10.96.0.0/12]
            portType: %s
            """.formatted(NodeLab.NODE_IP, portType));
        makeReadable(dir);
        return manifests;
    }

    private static Path ownedBy(final AgentUser user, final Path directory) throws Exception {
        Files.createDirectories(directory);
        Files.setAttribute(directory, "unix:uid", user.uid());
        Files.setAttribute(directory, "unix:gid", user.uid());
        return directory;
    }

    private static void makeReadable(final Path root) throws Exception {
        try (var paths = Files.walk(root)) {
            for (final Path path : (Iterable<Path>) paths::iterator) {
                Files.setPosixFilePermissions(path, PosixFilePermissions.fromString(Files.isDirectory(path) ? "rwxr-xr-x" : "rw-r--r--"));
            }
        }
    }

    private static long capabilityMask(final List<String> names) {
        long mask = 0;
        for (final String name : names) {
            mask |= 1L << switch (name) {
                case "NET_ADMIN" -> NativeAccessProbe.CAP_NET_ADMIN;
                case "NET_RAW" -> NativeAccessProbe.CAP_NET_RAW;
                case "SYS_ADMIN" -> NativeAccessProbe.CAP_SYS_ADMIN;
                default -> throw new IllegalArgumentException(name);
            };
        }
        return mask;
    }

    private static long field(final String status, final String name) {
        for (final String line : status.split("\n")) {
            if (line.startsWith(name + ":")) {
                return Long.parseUnsignedLong(line.substring(name.length() + 1).trim(), 16);
            }
        }
        throw new AssertionError(name + " not in /proc/PID/status");
    }
}
