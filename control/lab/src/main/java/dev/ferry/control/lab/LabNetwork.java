package dev.ferry.control.lab;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;

/**
 * Creates and removes the lab's namespaces and wiring. The "cabling" (namespaces, the bridge
 * in the router, each node's uplink and address) is done here; the configuration of each
 * machine (node, router, client, pods) by the provisioning scripts the Vagrant lab runs too.
 * Every command names its namespace ({@code ip -n NS}, {@code ip netns exec NS}, the scripts'
 * {@code --netns}): nothing here changes the root namespace, which only gains the namespaces.
 */
public final class LabNetwork {
    /**
     * Where {@code ip netns exec NS} finds files to bind-mount over {@code /etc} for the command
     * it runs: each pod's {@code resolv.conf} lives in its namespace's folder here, so that a
     * resolver run in the pod asks its node's agent.
     */
    public static final Path NETNS_ETC = Path.of("/etc/netns");
    private final LabTopology topology;
    private final Path scripts;

    public LabNetwork(final LabTopology topology, final Path scripts) {
        this.topology = topology;
        this.scripts = scripts;
    }

    /** Builds everything; on failure removes what it built and rethrows. */
    public void up() {
        try {
            build();
        } catch (final RuntimeException e) {
            removeNamespaces(topology.prefix());
            throw e;
        }
    }

    private void build() {
        final String router = topology.routerNetns();
        addNamespace(router);
        Shell.ip("-n", router, "link", "add", "br0", "type", "bridge");
        Shell.ip("-n", router, "addr", "add", LabTopology.ROUTER_IP + "/24", "dev", "br0");
        Shell.ip("-n", router, "link", "set", "br0", "up");

        final List<String> routerArgs = new ArrayList<>(List.of("--netns", router, "--local", LabTopology.EXTERNAL_IP + "/32"));
        final List<String> allNodeIps = topology.nodes().stream().map(LabTopology.Node::ip).toList();
        for (final LabTopology.Node node : topology.nodes()) {
            addNamespace(node.netns());
            Shell.ip("-n", router, "link", "add", node.routerPort(), "type", "veth", "peer", "name", "eth0", "netns", node.netns());
            Shell.ip("-n", router, "link", "set", node.routerPort(), "master", "br0", "up");
            Shell.ip("-n", node.netns(), "addr", "add", node.ip() + "/24", "dev", "eth0");
            Shell.ip("-n", node.netns(), "link", "set", "eth0", "up");
            Shell.ip("-n", node.netns(), "route", "add", "default", "via", LabTopology.ROUTER_IP);
            routerArgs.addAll(List.of("--route", node.podCidr() + "=" + node.ip()));

            final List<String> nodeArgs = new ArrayList<>(List.of("--netns", node.netns(), "--pod-cidr", node.podCidr()));
            for (final LabTopology.Node peer : topology.nodes()) {
                if (peer.index() != node.index()) {
                    nodeArgs.addAll(List.of("--route", peer.podCidr() + "=" + peer.ip()));
                }
            }
            Shell.run(LabJava.script(scripts, "node-net.sh", nodeArgs.toArray(String[]::new)));
        }
        routerArgs.addAll(List.of("--ecmp", LabTopology.SERVICE_CIDR + "=" + String.join(",", allNodeIps)));
        routerArgs.addAll(List.of("--ecmp", LabTopology.LB_POOL + "=" + String.join(",", allNodeIps)));
        Shell.run(LabJava.script(scripts, "router.sh", routerArgs.toArray(String[]::new)));

        final List<String> clientArgs = new ArrayList<>(List.of("add", "--router-netns", router,
            "--client-netns", topology.clientNetns(), "--router-if", "client",
            "--gateway", LabTopology.CLIENT_GATEWAY + "/24", "--ip", LabTopology.CLIENT_IP + "/24"));
        for (final String extra : LabTopology.extraClients()) {
            clientArgs.addAll(List.of("--extra", extra + "/24"));
        }
        Shell.run(LabJava.script(scripts, "client.sh", clientArgs.toArray(String[]::new)));

        for (final LabTopology.Pod pod : topology.pods()) {
            Shell.run(LabJava.script(scripts, "pod.sh", "add", "--node-netns", pod.node().netns(),
                "--pod-netns", pod.netns(), "--host-if", pod.hostIf(), "--ip", pod.ip()));
            writeResolvConf(pod);
        }
    }

    /**
     * The pod's resolv.conf, as the kubelet writes one for a ClusterFirst pod: its node's agent
     * as the name server ({@link LabTopology#dnsAddress}), the search list of the pod's
     * namespace, ndots 5.
     */
    private static void writeResolvConf(final LabTopology.Pod pod) {
        final Path dir = NETNS_ETC.resolve(pod.netns());
        try {
            Files.createDirectories(dir);
            Files.writeString(dir.resolve("resolv.conf"), "# ferry lab: pod " + pod.name() + " asks its node's agent; removed at lab down\n"
                + "nameserver " + LabTopology.dnsAddress(pod.node()) + "\n"
                + "search " + LabTopology.POD_NAMESPACE + ".svc." + LabTopology.CLUSTER_DOMAIN + " svc." + LabTopology.CLUSTER_DOMAIN
                + " " + LabTopology.CLUSTER_DOMAIN + "\n"
                + "options ndots:5\n");
        } catch (final IOException e) {
            throw new LabException("cannot write " + dir.resolve("resolv.conf") + ": " + e.getMessage(), e);
        }
    }

    /** The lab's folders under {@link #NETNS_ETC} (one per pod with a resolv.conf). */
    public static List<Path> etcFolders(final String prefix) {
        if (!Files.isDirectory(NETNS_ETC)) {
            return List.of();
        }
        try (Stream<Path> entries = Files.list(NETNS_ETC)) {
            return entries.filter(p -> p.getFileName().toString().startsWith(prefix)).sorted().toList();
        } catch (final IOException e) {
            throw new LabException("cannot list " + NETNS_ETC + ": " + e.getMessage(), e);
        }
    }

    private static void addNamespace(final String name) {
        Shell.ip("netns", "add", name);
        Shell.ip("-n", name, "link", "set", "lo", "up");
    }

    /** Names of the lab's namespaces that exist now: anything starting with {@code prefix}. */
    public static List<String> existingNamespaces(final String prefix) {
        final Path dir = Path.of("/var/run/netns");
        if (!Files.isDirectory(dir)) {
            return List.of();
        }
        try (Stream<Path> entries = Files.list(dir)) {
            return entries.map(p -> p.getFileName().toString()).filter(n -> n.startsWith(prefix)).sorted().toList();
        } catch (final IOException e) {
            throw new LabException("cannot list " + dir + ": " + e.getMessage(), e);
        }
    }

    /** Process ids running inside namespace {@code name} ({@code ip netns pids}). */
    public static List<Long> pids(final String name) {
        final Shell.Result result = Shell.exec(List.of("ip", "netns", "pids", name), 30_000);
        if (!result.ok()) {
            return List.of();
        }
        return result.output().lines().map(String::strip).filter(s -> !s.isEmpty()).map(Long::parseLong).toList();
    }

    /** Every process in any lab namespace. */
    public static List<Long> allLabPids(final String prefix) {
        final List<Long> pids = new ArrayList<>();
        for (final String ns : existingNamespaces(prefix)) {
            pids.addAll(pids(ns));
        }
        return pids;
    }

    /**
     * Deletes every lab namespace (their veths, bridge and routes go with them) and the pods'
     * folders under {@link #NETNS_ETC}. Processes must be gone first.
     */
    public static void removeNamespaces(final String prefix) {
        final List<String> failures = new ArrayList<>();
        for (final String ns : existingNamespaces(prefix)) {
            final Shell.Result result = Shell.exec(List.of("ip", "netns", "del", ns), 30_000);
            if (!result.ok()) {
                failures.add(ns + ": " + result.output().strip());
            }
        }
        for (final Path dir : etcFolders(prefix)) {
            try (Stream<Path> files = Files.walk(dir)) {
                for (final Path f : files.sorted(java.util.Comparator.reverseOrder()).toList()) {
                    Files.deleteIfExists(f);
                }
            } catch (final IOException e) {
                failures.add(dir + ": " + e.getMessage());
            }
        }
        if (!failures.isEmpty()) {
            throw new LabException("could not delete lab namespaces: " + String.join("; ", failures));
        }
    }
}
