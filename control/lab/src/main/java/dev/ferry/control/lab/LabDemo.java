package dev.ferry.control.lab;

import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

import java.io.PrintStream;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.Callable;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * {@code ferry lab demo} (and {@code sudo ./ferry demo}): brings the lab up, shows every
 * Service type working with real requests (curl inside the lab's namespaces; UDP from a
 * socket inside a pod), and takes the lab down again, also on Ctrl-C or failure (a shutdown
 * hook). Each scene prints the command a reader can rerun with {@code ferry lab exec} while
 * the lab is up ({@code --keep}), then what answered and the source address the pod saw.
 * Exit code 1 when any scene saw something other than what Kubernetes promises.
 */
@Command(name = "demo", mixinStandardHelpOptions = true,
    description = {"Bring the lab up, show every Service type with real requests, take it down (also on Ctrl-C)."})
final class LabDemo implements Callable<Integer> {
    private static final Pattern ANSWER = Pattern.compile("pod=(\\S+) client=(\\S+):(\\d+)");

    @Spec
    CommandSpec spec;
    @CommandLine.Mixin
    LabCommand.StateOption stateOption = new LabCommand.StateOption();
    @CommandLine.Mixin
    LabCommand.ClusterOptions cluster = new LabCommand.ClusterOptions();
    @Option(names = "--keep", description = "Leave the lab up at the end (take it down with 'ferry lab down').")
    boolean keep;

    private PrintStream out;
    private Lab lab;
    private LabTopology topology;
    private final List<String> surprises = new ArrayList<>();
    private int scene;

    @Override
    public Integer call() {
        out = System.out;
        try {
            Shell.requireRoot("ferry lab demo");
            Shell.requireTools("ip", "setsid", "bash", "curl");
        } catch (final LabException e) {
            return LabCommand.fail(spec, e);
        }
        lab = stateOption.lab(out);
        final AtomicBoolean tornDown = new AtomicBoolean(keep);
        final AtomicBoolean interrupted = new AtomicBoolean();
        final Thread hook = new Thread(() -> {
            interrupted.set(true);
            if (tornDown.compareAndSet(false, true)) {
                out.println();
                out.println("demo interrupted: taking the lab down");
                lab.down();
            }
        }, "lab-demo-teardown");
        Runtime.getRuntime().addShutdownHook(hook);
        try {
            lab.up(cluster.settings(true));
            topology = lab.topology();
            introduce();
            clusterIp();
            hairpinAndNode();
            nodePorts();
            loadBalancer();
            affinity();
            outsideAndExternalName();
            noEndpoints();
            udp();
            readiness();
        } catch (final RuntimeException e) {
            if (interrupted.get()) {
                return 130; // Ctrl-C: the hook is taking the lab down; what failed meanwhile is its doing
            }
            surprises.add(e.getMessage());
            spec.commandLine().getErr().println("ferry lab demo: " + e.getMessage());
        } finally {
            if (tornDown.compareAndSet(false, true)) {
                out.println();
                lab.down();
            } else if (keep) {
                out.println();
                out.println("the lab stays up (--keep): try 'sudo ./ferry lab status', then 'sudo ./ferry lab down'");
            }
            try {
                Runtime.getRuntime().removeShutdownHook(hook);
            } catch (final IllegalStateException shuttingDown) {
                // the hook is running already
            }
        }
        out.println();
        if (surprises.isEmpty()) {
            out.println("demo: every Service type behaved as Kubernetes promises.");
            return 0;
        }
        out.println("demo: " + surprises.size() + " thing(s) did not behave as expected:");
        surprises.forEach(s -> out.println("  - " + s));
        return 1;
    }

    private void introduce() {
        out.println();
        out.println("The cluster (all inside network namespaces " + topology.prefix() + "*):");
        out.println("  client " + LabTopology.CLIENT_IP + " -- router " + LabTopology.ROUTER_IP
            + " (routes pod CIDRs to their nodes; ECMP for " + LabTopology.SERVICE_CIDR + " and " + LabTopology.LB_POOL + ")");
        for (final LabTopology.Node node : topology.nodes()) {
            final List<String> pods = topology.pods().stream().filter(p -> p.node().equals(node))
                .map(p -> p.name() + " " + p.ip()).toList();
            out.println("  " + node.name() + " " + node.ip() + ", ferry agent (" + cluster.portType + "), pods: " + String.join(", ", pods));
        }
        out.println("  off-cluster server 'external' at " + LabTopology.EXTERNAL_IP + ":" + LabTopology.HTTP_PORT);
        out.println("Every pod answers HTTP with 'pod=NAME client=IP:PORT': who answered, and whom it saw.");
    }

    private void heading(final String title) {
        out.println();
        out.println("== " + ++scene + ". " + title);
    }

    /** What one curl printed and how it ended. */
    private record Curl(String pod, String clientIp, String output, int exitCode, long elapsedMs) {
        boolean answered() {
            return pod != null;
        }
    }

    private Curl curl(final String where, final String source, final String url, final int timeoutS, final boolean show) {
        final String netns = topology.resolveNamespace(where).orElseThrow();
        final List<String> args = new ArrayList<>(List.of("curl", "-sS", "-m", Integer.toString(timeoutS)));
        if (source != null) {
            args.addAll(List.of("--interface", source));
        }
        args.add(url);
        final List<String> command = new ArrayList<>(List.of("ip", "netns", "exec", netns));
        command.addAll(args);
        final long start = System.nanoTime();
        final Shell.Result result = Shell.exec(command, (timeoutS + 5) * 1000L);
        final long elapsedMs = (System.nanoTime() - start) / 1_000_000;
        final String output = result.output().strip();
        if (show) {
            out.println("   $ ferry lab exec " + where + " -- " + String.join(" ", args));
            out.println("     " + (output.isEmpty() ? "(nothing)" : output.replace("\n", "\n     ")));
        }
        final Matcher m = ANSWER.matcher(output);
        return m.find() ? new Curl(m.group(1), m.group(2), output, result.exitCode(), elapsedMs)
            : new Curl(null, null, output, result.exitCode(), elapsedMs);
    }

    private void expect(final boolean condition, final String surprise) {
        if (!condition) {
            surprises.add("scene " + scene + ": " + surprise);
            out.println("   !! unexpected: " + surprise);
        }
    }

    private void note(final String text) {
        out.println("   -> " + text);
    }

    private String nodeOf(final String pod) {
        if (LabTopology.EXTERNAL_NAME.equals(pod)) {
            return "off-cluster";
        }
        return topology.pod(pod).map(p -> p.node().name()).orElse("?");
    }

    private void clusterIp() {
        heading("ClusterIP: a pod calls Service 'web' (" + LabManifests.WEB_IP + ":80, three backends on two nodes)");
        final LabTopology.Pod from = topology.requirePod("local-1");
        final Set<String> pods = new LinkedHashSet<>();
        final Set<String> sources = new LinkedHashSet<>();
        for (int i = 0; i < 6; i++) {
            final Curl c = curl(from.name(), null, "http://" + LabManifests.WEB_IP + "/", 3, i < 3);
            expect(c.answered(), "local-1 -> web got no answer: " + c.output());
            if (c.answered()) {
                pods.add(c.pod() + " (" + nodeOf(c.pod()) + ")");
                sources.add(c.clientIp());
            }
        }
        note("6 new connections answered by " + String.join(", ", pods) + "; backends saw " + String.join(", ", sources)
            + " = local-1's own address (no masquerade inside the cluster)");
        expect(sources.equals(Set.of(from.ip())), "backends saw " + sources + ", not local-1's " + from.ip());

        final Curl remote = curl("web-3", null, "http://" + LabManifests.SOLO_IP + "/", 3, true);
        expect("web-1".equals(remote.pod()) && topology.requirePod("web-3").ip().equals(remote.clientIp()),
            "web-3 -> solo should reach web-1 on node-1 seeing web-3's address: " + remote.output());
        note("Service 'solo' (" + LabManifests.SOLO_IP + ") has one backend, web-1 on node-1: web-3 on node-2 reached it"
            + " across nodes, and web-1 saw web-3's own address");
    }

    private void hairpinAndNode() {
        heading("Hairpin and node: web-1 calls its own Service; a node calls a ClusterIP");
        final Curl hairpin = curl("web-1", null, "http://" + LabManifests.SOLO_IP + "/", 3, true);
        expect("web-1".equals(hairpin.pod()), "web-1 -> solo should land on web-1: " + hairpin.output());
        note("web-1 reached itself through its Service; the source was masqueraded to " + hairpin.clientIp()
            + " (a pod answering itself must not see its own address)");
        expect(hairpin.clientIp() == null || !hairpin.clientIp().equals(topology.requirePod("web-1").ip()),
            "hairpin traffic was not masqueraded");
        final Curl node = curl("node-2", null, "http://" + LabManifests.WEB_IP + "/", 3, true);
        expect(node.answered(), "node-2 -> web got no answer: " + node.output());
        final String masquerade = topology.node(2).masqueradeIp();
        expect(masquerade.equals(node.clientIp()), "node-2's own connection should be masqueraded to " + masquerade + ": " + node.output());
        note("node-2's own connection reached " + node.pod() + " (" + nodeOf(node.pod()) + "), which saw " + node.clientIp()
            + ": masqueraded as kube-proxy does for a source outside the clusterCIDRs, so the reply comes back to node-2's agent");
    }

    private void nodePorts() {
        heading("NodePort, externalTrafficPolicy Cluster: the external client calls port " + LabManifests.NODEPORT_HTTP + " on each node");
        for (final LabTopology.Node node : topology.nodes()) {
            final Curl c = curl("client", null, "http://" + node.ip() + ":" + LabManifests.NODEPORT_HTTP + "/", 3, true);
            expect(c.answered(), "client -> " + node.name() + " NodePort got no answer: " + c.output());
            expect(node.masqueradeIp().equals(c.clientIp()), "Cluster policy should masquerade the client to "
                + node.masqueradeIp() + ": " + c.output());
        }
        note("any backend may answer, on any node; the pod sees the node's masquerade address (198.18.0.11K: the node's own,"
            + " all its ports for masqueraded flows), not the client's");

        heading("NodePort, externalTrafficPolicy Local: port " + LabManifests.LOCAL_NODE_PORT + ", whose only backend local-1 is on node-1");
        final Curl local = curl("client", null, "http://" + topology.node(1).ip() + ":" + LabManifests.LOCAL_NODE_PORT + "/", 3, true);
        expect("local-1".equals(local.pod()) && LabTopology.CLIENT_IP.equals(local.clientIp()),
            "node-1 should answer from local-1 seeing the client's own address: " + local.output());
        final Curl dropped = curl("client", null, "http://" + topology.node(2).ip() + ":" + LabManifests.LOCAL_NODE_PORT + "/", 2, true);
        expect(!dropped.answered() && dropped.elapsedMs() >= 1500, "node-2 has no local backend and should drop: " + dropped.output());
        note("node-1 answered from its local pod and kept the client's address " + LabTopology.CLIENT_IP
            + "; node-2 has no local backend, so it drops (a timeout, as with kube-proxy)");
    }

    private void loadBalancer() {
        heading("LoadBalancer: the router sends " + LabManifests.LB_IP + " to the nodes (ECMP by source address)");
        final Map<String, String> bySource = new LinkedHashMap<>();
        final List<String> sources = new ArrayList<>(List.of(LabTopology.CLIENT_IP));
        sources.addAll(LabTopology.extraClients().subList(0, 3));
        for (final String source : sources) {
            final Curl c = curl("client", source.equals(LabTopology.CLIENT_IP) ? null : source, "http://" + LabManifests.LB_IP + "/", 3,
                bySource.size() < 2);
            expect(c.answered(), "client " + source + " -> LB got no answer: " + c.output());
            bySource.put(source, c.answered() ? c.pod() + " via " + c.clientIp() : "no answer");
        }
        note("answers per client address: " + bySource);
    }

    private void affinity() {
        heading("sessionAffinity ClientIP: Service 'sticky', NodePort " + LabManifests.STICKY_NODE_PORT + " on node-1");
        final String url = "http://" + topology.node(1).ip() + ":" + LabManifests.STICKY_NODE_PORT + "/";
        final Set<String> one = new LinkedHashSet<>();
        for (int i = 0; i < 10; i++) {
            final Curl c = curl("client", null, url, 3, i < 2);
            one.add(c.answered() ? c.pod() : "no answer");
        }
        note("10 new connections from " + LabTopology.CLIENT_IP + " all went to " + one);
        expect(one.size() == 1 && !one.contains("no answer"), "affinity did not hold: " + one);
        final Map<String, String> others = new LinkedHashMap<>();
        for (final String source : LabTopology.extraClients().subList(0, 6)) {
            final Curl c = curl("client", source, url, 3, false);
            others.put(source, c.answered() ? c.pod() : "no answer");
        }
        note("other clients get their own pod: " + others);
    }

    private void outsideAndExternalName() {
        heading("Selector-less Service 'outside' (" + LabManifests.OUTSIDE_IP + "): hand-written Endpoints point off the cluster");
        final Curl c = curl("web-2", null, "http://" + LabManifests.OUTSIDE_IP + "/", 3, true);
        expect(LabTopology.EXTERNAL_NAME.equals(c.pod()), "web-2 -> outside should reach the external server: " + c.output());
        note("answered by the server at " + LabTopology.EXTERNAL_IP + " outside the cluster");
        heading("Service names: every pod resolves through its node's agent (--dns-address " + LabTopology.dnsAddress(topology.node(1))
            + ":" + LabTopology.DNS_PORT + " on node-1)");
        final String fqdn = "web." + LabTopology.POD_NAMESPACE + ".svc." + LabTopology.CLUSTER_DOMAIN;
        final String full = inPod("local-1", "getent", "hosts", fqdn);
        expect(full.startsWith(LabManifests.WEB_IP + " "), fqdn + " should resolve to " + LabManifests.WEB_IP + ": " + full);
        final String shortName = inPod("local-1", "getent", "hosts", "web");
        expect(shortName.startsWith(LabManifests.WEB_IP + " "), "'web' should resolve through the search list: " + shortName);
        note("the pod's resolver (its resolv.conf, as the kubelet writes one) asked the agent, which answers from the table it serves");
        heading("ExternalName Service 'ext-name' -> " + LabManifests.EXTERNAL_NAME_TARGET);
        note("a DNS alias only: it has no ClusterIP, so neither kube-proxy nor Ferry builds a data path for it");
        if (Shell.which("dig").isPresent()) {
            final String cname = inPod("local-1", "dig", "+short", "+time=2", "+tries=1",
                "ext-name." + LabTopology.POD_NAMESPACE + ".svc." + LabTopology.CLUSTER_DOMAIN);
            expect(cname.equals(LabManifests.EXTERNAL_NAME_TARGET + "."), "ext-name should be a CNAME to "
                + LabManifests.EXTERNAL_NAME_TARGET + ": " + cname);
            note("the agent answers it with a CNAME");
        } else {
            note("(install dig, apt-get install bind9-dnsutils, to see the agent's CNAME for it)");
        }
    }

    /** Runs {@code args} in a pod's namespace as {@code ip netns exec} does (so with its resolv.conf), showing it; its output. */
    private String inPod(final String where, final String... args) {
        final List<String> command = new ArrayList<>(List.of("ip", "netns", "exec", topology.resolveNamespace(where).orElseThrow()));
        command.addAll(List.of(args));
        final Shell.Result result = Shell.exec(command, 10_000);
        final String output = result.output().strip();
        out.println("   $ ferry lab exec " + where + " -- " + String.join(" ", args));
        out.println("     " + (output.isEmpty() ? "(nothing, exit " + result.exitCode() + ")" : output.replace("\n", "\n     ")));
        return output;
    }

    private void noEndpoints() {
        heading("A Service with no endpoints: 'empty' (" + LabManifests.EMPTY_IP + ":80, its selector matches no pod)");
        final Curl c = curl("web-1", null, "http://" + LabManifests.EMPTY_IP + "/", 5, true);
        expect(!c.answered() && c.elapsedMs() < 2000, "should be refused at once, took " + c.elapsedMs() + " ms: " + c.output());
        note("refused in " + c.elapsedMs() + " ms: the dataplane answers the SYN with a reset, no timeout");
    }

    private void udp() {
        heading("UDP: datagrams to ClusterIP " + LabManifests.WEB_IP + ":" + LabManifests.WEB_UDP_PORT + " and NodePort "
            + LabManifests.NODEPORT_UDP);
        final LabTopology.Pod from = topology.requirePod("local-1");
        final LabClient.Outcome viaClusterIp = LabClient.udp(from.netns(),
            LabClient.Request.http(LabManifests.WEB_IP, LabManifests.WEB_UDP_PORT));
        out.println("   local-1 -> " + LabManifests.WEB_IP + ":" + LabManifests.WEB_UDP_PORT + "/udp: " + viaClusterIp);
        expect(viaClusterIp.answered(), "UDP via ClusterIP: " + viaClusterIp);
        final LabClient.Outcome viaNodePort = LabClient.udp(topology.clientNetns(),
            LabClient.Request.http(topology.node(2).ip(), LabManifests.NODEPORT_UDP));
        out.println("   client -> " + topology.node(2).ip() + ":" + LabManifests.NODEPORT_UDP + "/udp: " + viaNodePort);
        expect(viaNodePort.answered(), "UDP via NodePort: " + viaNodePort);
        final LabClient.Outcome closed = LabClient.udp(from.netns(),
            LabClient.Request.http(LabManifests.WEB_IP, LabManifests.WEB_CLOSED_UDP_PORT));
        out.println("   local-1 -> " + LabManifests.WEB_IP + ":" + LabManifests.WEB_CLOSED_UDP_PORT + "/udp (no listener behind it): " + closed);
        expect(closed.kind() == LabClient.Kind.REFUSED, "the backend's ICMP port unreachable should reach the client: " + closed);
        note("the backend's ICMP port unreachable came back translated, so the client's socket saw it");
    }

    private void readiness() {
        heading("Readiness: stop web-3's server; the lab's kubelet marks it unready; the agents drop it; restart it");
        final LabTopology.Pod client = topology.requirePod("local-1");
        lab.stopPod("web-3");
        lab.waitForReadiness(topology, List.of("web-3"), false, 30_000);
        lab.waitForSyncAfter(topology, lab.podManifestTime(topology, "web-3"), 30_000);
        note("web-3 is Ready=False in every node's manifests and both agents have synced");
        final Map<String, Integer> without = spread(client, 12);
        note("12 new connections from local-1: " + without);
        expect(!without.containsKey("web-3") && !without.containsKey("no answer"), "web-3 still got traffic or a connection failed: " + without);
        lab.startPod("web-3");
        lab.waitForReadiness(topology, List.of("web-3"), true, 30_000);
        lab.waitForSyncAfter(topology, lab.podManifestTime(topology, "web-3"), 30_000);
        final Map<String, Integer> with = spread(client, 24);
        note("web-3 is back (Ready=True); 24 new connections: " + with);
        expect(with.containsKey("web-3"), "web-3 got no connection after it came back: " + with);
    }

    private Map<String, Integer> spread(final LabTopology.Pod from, final int count) {
        final Map<String, Integer> counts = new LinkedHashMap<>();
        for (int i = 0; i < count; i++) {
            final Curl c = curl(from.name(), null, "http://" + LabManifests.WEB_IP + "/", 3, false);
            counts.merge(c.answered() ? c.pod() : "no answer", 1, Integer::sum);
        }
        return counts;
    }
}
