package dev.ferry.control.lab;

import java.io.File;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.stream.Stream;

/**
 * The lab as one object: brings the cluster up (namespaces and wiring, pod servers, the
 * readiness controller, one {@code ferry agent} per node), reports on it, stops and restarts
 * pod servers, and takes it all down. Processes are found through their namespaces
 * ({@code ip netns pids}), so {@link #down} ends everything the lab started, and nothing else,
 * even after a crash left no state behind.
 */
public final class Lab {
    public static final int AGENT_HEALTHZ_PORT = 10256;
    public static final int AGENT_METRICS_PORT = 10249;
    private static final long READY_TIMEOUT_MS = 60_000;
    private static final long AGENT_TIMEOUT_MS = 60_000;
    private static final long STOP_TIMEOUT_MS = 10_000;

    private final LabState state;
    private final LabJava java;
    private final PrintStream out;
    private final Path scripts;
    private final String prefix;

    /** The {@code ferry lab} lab ({@link LabTopology#PREFIX}), its scripts found as {@link LabJava#scriptsDir()} says. */
    public Lab(final LabState state, final LabJava java, final PrintStream out) {
        this(state, java, out, null, LabTopology.PREFIX);
    }

    /**
     * @param scripts the provisioning scripts' directory, or null to find them when needed
     * @param prefix  the prefix of the lab's namespace names: a lab owns every namespace with it
     */
    public Lab(final LabState state, final LabJava java, final PrintStream out, final Path scripts, final String prefix) {
        this.state = state;
        this.java = java;
        this.out = out;
        this.scripts = scripts;
        this.prefix = prefix;
    }

    public String prefix() {
        return prefix;
    }

    public LabState state() {
        return state;
    }

    /** The topology of the lab that is up (from its settings), else of a default two-node lab. */
    public LabTopology topology() {
        try {
            final LabState.Settings settings = state.readSettings();
            return new LabTopology(prefix, settings == null ? LabTopology.MIN_NODES : settings.nodes());
        } catch (final IOException e) {
            return new LabTopology(prefix, LabTopology.MIN_NODES);
        }
    }

    /**
     * Brings the lab up and returns once every pod is Ready and every agent answers /healthz.
     * On failure everything is removed again before the exception leaves.
     */
    public void up(final LabState.Settings settings) {
        Shell.requireRoot("ferry lab up");
        Shell.requireTools("ip", "setsid", "bash");
        final List<String> existing = LabNetwork.existingNamespaces(prefix);
        if (!existing.isEmpty()) {
            throw new LabException("a lab is already up (namespaces " + String.join(", ", existing)
                + "): run 'ferry lab down' first");
        }
        final LabTopology topology = new LabTopology(prefix, settings.nodes());
        final Path scriptsDir = scripts != null ? scripts : LabJava.scriptsDir();
        try {
            prepareState(topology, settings);
            say("creating namespaces: router, client, " + topology.nodes().size() + " nodes, " + topology.pods().size() + " pods");
            new LabNetwork(topology, scriptsDir).up();
            say("starting pod servers and the readiness controller");
            for (final LabTopology.Pod pod : topology.pods()) {
                startPodServer(pod);
            }
            startProcess(topology.routerNetns(), java.command(true, LabJava.LAB_MAIN, List.of("pod-server",
                "--name", LabTopology.EXTERNAL_NAME, "--http-port", Integer.toString(LabTopology.HTTP_PORT),
                "--udp-port", Integer.toString(LabTopology.UDP_PORT))), state.podLog(LabTopology.EXTERNAL_NAME));
            startProcess(topology.routerNetns(), java.command(true, LabJava.LAB_MAIN,
                List.of("controller", "--state-dir", state.dir().toString())), state.controllerLog());
            waitForReadiness(topology, topology.pods().stream().map(LabTopology.Pod::name).toList(), true, READY_TIMEOUT_MS);
            if (settings.agents()) {
                say("starting one ferry agent per node (port type " + settings.portType() + ")");
                for (final LabTopology.Node node : topology.nodes()) {
                    startAgent(node, settings.portType());
                }
                waitForAgents(topology);
            }
            say("lab is up (state in " + state.dir() + ")");
        } catch (final RuntimeException | IOException e) {
            say("lab up failed; removing what was created");
            try {
                down(true);
            } catch (final RuntimeException cleanup) {
                e.addSuppressed(cleanup);
            }
            if (e instanceof LabException le) {
                throw le;
            }
            throw new LabException("lab up failed: " + e.getMessage(), e);
        }
    }

    private void prepareState(final LabTopology topology, final LabState.Settings settings) throws IOException {
        deleteRecursively(state.dir().resolve("nodes"));
        deleteRecursively(state.logsDir());
        Files.createDirectories(state.logsDir());
        state.writeSettings(settings, prefix);
        for (final LabTopology.Node node : topology.nodes()) {
            LabManifests.writeNode(topology, node, state.nodeDir(node), settings.portType(), Map.of());
            Files.createDirectories(state.nodeDir(node).resolve("run"));
            Files.createDirectories(state.nodeDir(node).resolve("state"));
        }
    }

    private void startPodServer(final LabTopology.Pod pod) {
        startProcess(pod.netns(), java.command(true, LabJava.LAB_MAIN, List.of("pod-server", "--name", pod.name(),
            "--http-port", Integer.toString(LabTopology.HTTP_PORT), "--udp-port", Integer.toString(LabTopology.UDP_PORT))),
            state.podLog(pod.name()));
    }

    private void startAgent(final LabTopology.Node node, final String portType) {
        final Path dir = state.nodeDir(node);
        startProcess(node.netns(), java.command(false, LabJava.FERRY_MAIN, List.of("agent",
            "--node-config", dir.resolve("node.yaml").toString(),
            "--manifests", state.manifestsDir(node).toString(),
            "--port-type", portType,
            "--run-dir", dir.resolve("run").toString(),
            "--state-dir", dir.resolve("state").toString(),
            "--dns-address", LabTopology.dnsAddress(node) + ":" + LabTopology.DNS_PORT,
            "--cluster-domain", LabTopology.CLUSTER_DOMAIN)), state.agentLog(node));
    }

    /** Starts {@code command} in {@code netns}, detached from this terminal, logging to {@code log}. */
    private static Process startProcess(final String netns, final List<String> command, final Path log) {
        final List<String> full = new ArrayList<>(List.of("setsid", "ip", "netns", "exec", netns));
        full.addAll(command);
        try {
            Files.createDirectories(log.getParent());
            return new ProcessBuilder(full).redirectErrorStream(true)
                .redirectOutput(ProcessBuilder.Redirect.appendTo(log.toFile()))
                .redirectInput(ProcessBuilder.Redirect.from(new File("/dev/null"))).start();
        } catch (final IOException e) {
            throw new LabException("cannot start '" + String.join(" ", full) + "': " + e.getMessage(), e);
        }
    }

    /** Waits until the named pods' manifests say Ready == {@code ready}; returns when they were all written. */
    public void waitForReadiness(final LabTopology topology, final List<String> pods, final boolean ready, final long timeoutMs) {
        final long deadline = System.nanoTime() + timeoutMs * 1_000_000;
        // every node's copy: the controller rewrites them one after another
        final List<Path> dirs = topology.nodes().stream().map(state::manifestsDir).toList();
        List<String> pending = pods;
        while (true) {
            pending = pending.stream()
                .filter(p -> dirs.stream().anyMatch(dir -> !Boolean.valueOf(ready).equals(readReady(dir, p)))).toList();
            if (pending.isEmpty()) {
                return;
            }
            if (System.nanoTime() > deadline) {
                final StringBuilder why = new StringBuilder("pods not " + (ready ? "Ready" : "unready") + " after "
                    + timeoutMs / 1000 + " s: " + String.join(", ", pending) + "\ncontroller log:\n"
                    + LabState.tail(state.controllerLog(), 10));
                for (final String pod : pending) {
                    why.append("\npod ").append(pod).append(" log:\n").append(LabState.tail(state.podLog(pod), 10));
                }
                throw new LabException(why.toString());
            }
            pause(200);
        }
    }

    private static Boolean readReady(final Path dir, final String pod) {
        try {
            return LabManifests.readReady(dir.resolve(LabManifests.podFile(pod)));
        } catch (final IOException e) {
            return null;
        }
    }

    private void waitForAgents(final LabTopology topology) {
        final long deadline = System.nanoTime() + AGENT_TIMEOUT_MS * 1_000_000;
        for (final LabTopology.Node node : topology.nodes()) {
            while (true) {
                if (agentPid(node).isEmpty()) {
                    throw new LabException("the agent of " + node.name() + " exited; its log (" + state.agentLog(node) + ") ends:\n"
                        + LabState.tail(state.agentLog(node), 20));
                }
                if (agentHealthy(node)) {
                    break;
                }
                if (System.nanoTime() > deadline) {
                    throw new LabException("the agent of " + node.name() + " did not answer /healthz on 127.0.0.1:"
                        + AGENT_HEALTHZ_PORT + " within " + AGENT_TIMEOUT_MS / 1000 + " s; its log ends:\n"
                        + LabState.tail(state.agentLog(node), 20));
                }
                pause(250);
            }
        }
    }

    /** The agents' metric of their last completed sync (kube-proxy's name), in epoch seconds. */
    public static final String SYNC_METRIC = "kubeproxy_sync_proxy_rules_last_timestamp_seconds";

    /**
     * Waits until every node's agent has completed a sync after {@code epochSeconds} (its
     * {@value #SYNC_METRIC} is later): a manifest change written before then is in force.
     */
    public void waitForSyncAfter(final LabTopology topology, final double epochSeconds, final long timeoutMs) {
        final long deadline = System.nanoTime() + timeoutMs * 1_000_000;
        for (final LabTopology.Node node : topology.nodes()) {
            double last;
            while ((last = lastSync(node)) <= epochSeconds) {
                if (System.nanoTime() > deadline) {
                    throw new LabException("the agent of " + node.name() + " did not sync within " + timeoutMs / 1000
                        + " s after the manifest change at " + epochSeconds + " (its " + SYNC_METRIC + " is "
                        + (last < 0 ? "not available" : Double.toString(last)) + "); its log ends:\n"
                        + LabState.tail(state.agentLog(node), 10));
                }
                pause(100);
            }
        }
    }

    /** The node agent's {@value #SYNC_METRIC}, or -1 when /metrics does not answer or lacks it. */
    public static double lastSync(final LabTopology.Node node) {
        final LabClient.Outcome metrics = LabClient.http(node.netns(),
            new LabClient.Request(null, "127.0.0.1", AGENT_METRICS_PORT, "/metrics", 2000));
        if (!metrics.answered()) {
            return -1;
        }
        for (final String line : metrics.body().lines().toList()) {
            if (line.startsWith(SYNC_METRIC + " ") || line.startsWith(SYNC_METRIC + "{")) {
                try {
                    return Double.parseDouble(line.substring(line.lastIndexOf(' ') + 1));
                } catch (final NumberFormatException e) {
                    return -1;
                }
            }
        }
        return -1;
    }

    /** When the pod's manifest was last written (its readiness last changed), latest over all nodes, in epoch seconds. */
    public double podManifestTime(final LabTopology topology, final String podName) {
        double latest = 0;
        for (final LabTopology.Node node : topology.nodes()) {
            try {
                final Path file = state.manifestsDir(node).resolve(LabManifests.podFile(podName));
                latest = Math.max(latest, Files.getLastModifiedTime(file).toMillis() / 1000.0);
            } catch (final IOException e) {
                throw new LabException("cannot read the manifest of pod " + podName + " on " + node.name() + ": " + e.getMessage(), e);
            }
        }
        return latest;
    }

    /** True when the node's agent answers 200 on /healthz inside the node's namespace. */
    public static boolean agentHealthy(final LabTopology.Node node) {
        final LabClient.Outcome outcome = LabClient.http(node.netns(),
            new LabClient.Request(null, "127.0.0.1", AGENT_HEALTHZ_PORT, "/healthz", 1000));
        return outcome.answered() && outcome.status() == 200;
    }

    /** The pid of the node's agent, if one runs. */
    public static Optional<Long> agentPid(final LabTopology.Node node) {
        return LabNetwork.pids(node.netns()).stream().filter(pid -> role(pid) == Role.AGENT).findFirst();
    }

    /** Stops the pod's server (SIGTERM, then SIGKILL) and waits until its processes are gone. */
    public void stopPod(final String name) {
        final LabTopology.Pod pod = topology().requirePod(name);
        terminate(LabNetwork.pids(pod.netns()));
        say("stopped the server of pod " + name);
    }

    /** Starts the pod's server again. */
    public void startPod(final String name) {
        final LabTopology.Pod pod = topology().requirePod(name);
        if (!LabNetwork.existingNamespaces(prefix).contains(pod.netns())) {
            throw new LabException("pod " + name + " has no namespace: is the lab up? ('ferry lab status')");
        }
        if (!LabNetwork.pids(pod.netns()).isEmpty()) {
            throw new LabException("pod " + name + " is already running (stop it first with 'ferry lab pod stop " + name + "')");
        }
        startPodServer(pod);
        say("started the server of pod " + name);
    }

    /** Takes everything down; see {@link #down(boolean)}. */
    public void down() {
        down(false);
    }

    /**
     * Ends every process inside the lab's namespaces (agents first, so that they remove what
     * they installed while their namespaces still exist), deletes the namespaces, checks that
     * nothing is left, and deletes the state directory unless {@code keepLogs}.
     */
    public void down(final boolean keepLogs) {
        final List<String> before = LabNetwork.existingNamespaces(prefix);
        final List<Long> agents = new ArrayList<>();
        final List<Long> others = new ArrayList<>();
        for (final String ns : before) {
            for (final long pid : LabNetwork.pids(ns)) {
                (role(pid) == Role.AGENT ? agents : others).add(pid);
            }
        }
        terminate(agents);
        terminate(others);
        terminate(LabNetwork.allLabPids(prefix)); // anything started meanwhile (an exec'd shell)
        LabNetwork.removeNamespaces(prefix);
        final List<String> left = LabNetwork.existingNamespaces(prefix);
        if (!left.isEmpty()) {
            throw new LabException("lab namespaces still exist after down: " + String.join(", ", left));
        }
        final List<Long> survivors = new ArrayList<>(agents);
        survivors.addAll(others);
        survivors.removeIf(pid -> ProcessHandle.of(pid).map(h -> !h.isAlive()).orElse(true));
        if (!survivors.isEmpty()) {
            throw new LabException("lab processes still running after down: " + survivors);
        }
        if (!keepLogs) {
            try {
                removeState();
            } catch (final IOException e) {
                throw new LabException("cannot delete " + state.dir() + ": " + e.getMessage(), e);
            }
        }
        if (!before.isEmpty()) {
            say("lab is down: removed " + before.size() + " namespaces and " + (agents.size() + others.size()) + " processes");
        }
    }

    /** SIGTERM to each pid, then SIGKILL to those still alive after {@link #STOP_TIMEOUT_MS}. */
    private static void terminate(final List<Long> pids) {
        final List<ProcessHandle> handles = pids.stream().map(ProcessHandle::of).flatMap(Optional::stream).toList();
        handles.forEach(ProcessHandle::destroy);
        final long deadline = System.nanoTime() + STOP_TIMEOUT_MS * 1_000_000;
        for (final ProcessHandle handle : handles) {
            while (handle.isAlive() && System.nanoTime() < deadline) {
                pause(50);
            }
            if (handle.isAlive()) {
                handle.destroyForcibly();
            }
        }
        for (final ProcessHandle handle : handles) {
            final long killDeadline = System.nanoTime() + 5_000_000_000L;
            while (handle.isAlive() && System.nanoTime() < killDeadline) {
                pause(20);
            }
        }
    }

    /** What a lab process is, from its command line. */
    public enum Role { AGENT, POD_SERVER, CONTROLLER, OTHER }

    public static Role role(final long pid) {
        final List<String> args = cmdline(pid);
        if (args.contains(LabJava.LAB_MAIN) && args.contains("pod-server")) {
            return Role.POD_SERVER;
        }
        if (args.contains(LabJava.LAB_MAIN) && args.contains("controller")) {
            return Role.CONTROLLER;
        }
        if (args.contains("agent") && (args.contains(LabJava.FERRY_MAIN) || args.stream().anyMatch(a -> a.endsWith("ferry.jar")))) {
            return Role.AGENT;
        }
        return Role.OTHER;
    }

    /** The command line of {@code pid} from /proc, or empty when it is gone. */
    public static List<String> cmdline(final long pid) {
        try {
            final byte[] raw = Files.readAllBytes(Path.of("/proc", Long.toString(pid), "cmdline"));
            final List<String> args = new ArrayList<>();
            int start = 0;
            for (int i = 0; i < raw.length; i++) {
                if (raw[i] == 0) {
                    args.add(new String(raw, start, i - start, StandardCharsets.UTF_8));
                    start = i + 1;
                }
            }
            return args;
        } catch (final IOException e) {
            return List.of();
        }
    }

    /** A snapshot of the lab for {@code ferry lab status}. */
    public record Status(List<String> namespaces, Map<String, List<String>> processesByNamespace,
                         Map<String, String> agents, Map<String, String> pods) {
        public boolean up() {
            return !namespaces.isEmpty();
        }
    }

    public Status status() {
        final LabTopology topology = topology();
        final List<String> namespaces = LabNetwork.existingNamespaces(prefix);
        final Map<String, List<String>> processes = new LinkedHashMap<>();
        for (final String ns : namespaces) {
            final List<String> described = new ArrayList<>();
            for (final long pid : LabNetwork.pids(ns)) {
                described.add(role(pid).name().toLowerCase().replace('_', '-') + " " + pid);
            }
            processes.put(ns, described);
        }
        final Map<String, String> agents = new LinkedHashMap<>();
        final Map<String, String> pods = new LinkedHashMap<>();
        if (!namespaces.isEmpty()) {
            for (final LabTopology.Node node : topology.nodes()) {
                if (!namespaces.contains(node.netns())) {
                    agents.put(node.name(), "no namespace");
                    continue;
                }
                final Optional<Long> pid = agentPid(node);
                agents.put(node.name(), pid.map(p -> "pid " + p + ", /healthz " + (agentHealthy(node) ? "ok" : "failing"))
                    .orElse("not running"));
            }
            final Map<String, Boolean> readiness = new HashMap<>();
            final Path dir = state.manifestsDir(topology.nodes().get(0));
            for (final LabTopology.Pod pod : topology.pods()) {
                readiness.put(pod.name(), readReady(dir, pod.name()));
                final boolean serving = namespaces.contains(pod.netns()) && !LabNetwork.pids(pod.netns()).isEmpty();
                final Boolean ready = readiness.get(pod.name());
                pods.put(pod.name(), pod.ip() + " on " + pod.node().name() + ", server " + (serving ? "running" : "stopped")
                    + ", Ready=" + (ready == null ? "unknown" : ready ? "True" : "False"));
            }
        }
        return new Status(namespaces, processes, agents, pods);
    }

    private void say(final String line) {
        if (out != null) {
            out.println("lab: " + line);
            out.flush();
        }
    }

    private static String firstLine(final String text) {
        return text.strip().lines().findFirst().orElse("");
    }

    static void pause(final long ms) {
        try {
            Thread.sleep(ms);
        } catch (final InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new LabException("interrupted", e);
        }
    }

    /** Deletes what the lab wrote in its state directory, and the directory when that leaves it empty. */
    private void removeState() throws IOException {
        deleteRecursively(state.dir().resolve("nodes"));
        deleteRecursively(state.logsDir());
        Files.deleteIfExists(state.settingsFile());
        if (Files.isDirectory(state.dir())) {
            try (Stream<Path> rest = Files.list(state.dir())) {
                if (rest.findAny().isEmpty()) {
                    Files.delete(state.dir());
                }
            }
        }
    }

    static void deleteRecursively(final Path dir) throws IOException {
        if (!Files.exists(dir)) {
            return;
        }
        try (Stream<Path> walk = Files.walk(dir)) {
            for (final Path p : walk.sorted(Comparator.reverseOrder()).toList()) {
                Files.deleteIfExists(p);
            }
        }
    }
}
