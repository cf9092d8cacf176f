package dev.ferry.control.lab;

import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

import java.io.PrintStream;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;

/**
 * {@code ferry lab}: a multi-node cluster in network namespaces on this machine, each node
 * running its own {@code ferry agent}, with pods, an external client and a router (see
 * {@link LabTopology}); and the demo that shows every Service type working through it.
 * Exit codes: 0 success, 1 the lab failed (the message says why and what to do), 2 bad usage.
 */
@Command(name = "lab",
    mixinStandardHelpOptions = true,
    description = {"A multi-node Kubernetes Service lab in network namespaces on this machine (needs root).",
        "Nothing outside the lab's namespaces is changed; 'ferry lab down' removes everything."},
    subcommands = {LabCommand.Up.class, LabCommand.Down.class, LabCommand.Status.class, LabCommand.Exec.class,
        LabDemo.class, LabCommand.PodCommand.class, LabCommand.PodServerCommand.class, LabCommand.Controller.class,
        LabCommand.VmNode.class},
    footer = {"", "Examples:",
        "  sudo ferry lab up                      # two nodes, tun port type",
        "  sudo ferry lab exec client -- curl -s http://198.18.100.1/",
        "  sudo ferry lab status",
        "  sudo ferry lab down",
        "  sudo ferry lab demo                    # up, show every Service type, down"})
public final class LabCommand implements Callable<Integer> {
    @Spec
    CommandSpec spec;

    /** Runs {@code ferry lab} alone: how the lab starts its own helper processes. */
    public static void main(final String[] args) {
        System.exit(new CommandLine(new LabCommand()).execute(args));
    }

    @Override
    public Integer call() {
        spec.commandLine().usage(spec.commandLine().getErr());
        return CommandLine.ExitCode.USAGE;
    }

    /** Options every lab command shares. */
    public static final class StateOption {
        @Option(names = "--state-dir", paramLabel = "DIR", defaultValue = LabState.DEFAULT_DIR,
            description = "Where the lab keeps node configs, manifests and logs (default: ${DEFAULT-VALUE}).")
        Path stateDir;

        @Option(names = "--prefix", hidden = true, defaultValue = LabTopology.PREFIX,
            description = "Prefix of the lab's namespace names (default: ${DEFAULT-VALUE}).")
        String prefix;

        Lab lab(final PrintStream out) {
            return new Lab(new LabState(stateDir), LabJava.current(), out, null, prefix);
        }
    }

    static int fail(final CommandSpec spec, final LabException e) {
        final PrintWriter err = spec.commandLine().getErr();
        err.println("ferry lab: " + e.getMessage());
        err.flush();
        return 1;
    }

    /** Options shaping the cluster, shared by up and demo. */
    public static final class ClusterOptions {
        @Option(names = "--nodes", paramLabel = "N", defaultValue = "2",
            description = "Number of nodes, 2 to 9 (default: ${DEFAULT-VALUE}).")
        int nodes;

        @Option(names = "--port-type", paramLabel = "TYPE", defaultValue = "tun",
            description = "How each agent attaches: tun or packet (default: ${DEFAULT-VALUE}).")
        String portType;

        LabState.Settings settings(final boolean agents) {
            if (!portType.equals("tun") && !portType.equals("packet")) {
                throw new CommandLine.ParameterException(new CommandLine(this), "--port-type must be tun or packet, not '" + portType + "'");
            }
            if (nodes < LabTopology.MIN_NODES || nodes > LabTopology.MAX_NODES) {
                throw new CommandLine.ParameterException(new CommandLine(this), "--nodes must be 2 to 9, not " + nodes);
            }
            return new LabState.Settings(nodes, portType, agents);
        }
    }

    @Command(name = "up", mixinStandardHelpOptions = true,
        description = "Create the lab: router, client, nodes with one ferry agent each, pods, manifests.")
    static final class Up implements Callable<Integer> {
        @Spec
        CommandSpec spec;
        @CommandLine.Mixin
        StateOption state = new StateOption();
        @CommandLine.Mixin
        ClusterOptions cluster = new ClusterOptions();
        @Option(names = "--no-agents", description = "Build the network and pods without starting agents (no Services then).")
        boolean noAgents;

        @Override
        public Integer call() {
            try {
                state.lab(System.out).up(cluster.settings(!noAgents));
                return 0;
            } catch (final LabException e) {
                return fail(spec, e);
            }
        }
    }

    @Command(name = "down", mixinStandardHelpOptions = true,
        description = "Stop every lab process and delete every lab namespace (ferry-lab-*).")
    static final class Down implements Callable<Integer> {
        @Spec
        CommandSpec spec;
        @CommandLine.Mixin
        StateOption state = new StateOption();
        @Option(names = "--keep-logs", description = "Keep the state directory (logs, manifests).")
        boolean keepLogs;

        @Override
        public Integer call() {
            try {
                Shell.requireRoot("ferry lab down");
                final Lab lab = state.lab(System.out);
                final boolean wasUp = !LabNetwork.existingNamespaces(lab.prefix()).isEmpty();
                lab.down(keepLogs);
                if (!wasUp) {
                    System.out.println("lab: nothing to take down");
                }
                return 0;
            } catch (final LabException e) {
                return fail(spec, e);
            }
        }
    }

    @Command(name = "status", mixinStandardHelpOptions = true,
        description = "List the lab's namespaces and processes, each agent's /healthz and each pod's readiness.")
    static final class Status implements Callable<Integer> {
        @Spec
        CommandSpec spec;
        @CommandLine.Mixin
        StateOption state = new StateOption();

        @Override
        public Integer call() {
            try {
                Shell.requireRoot("ferry lab status");
                final Lab lab = state.lab(null);
                final Lab.Status status = lab.status();
                final PrintWriter out = spec.commandLine().getOut();
                if (!status.up()) {
                    out.println("lab: down (no " + lab.prefix() + "* namespaces)");
                    out.flush();
                    return 0;
                }
                out.println("NAMESPACE                 PROCESSES");
                for (final Map.Entry<String, List<String>> e : status.processesByNamespace().entrySet()) {
                    out.printf("%-25s %s%n", e.getKey(), e.getValue().isEmpty() ? "-" : String.join(", ", e.getValue()));
                }
                out.println();
                out.println("AGENT     STATE");
                status.agents().forEach((node, s) -> out.printf("%-9s %s%n", node, s));
                out.println();
                out.println("POD       STATE");
                status.pods().forEach((pod, s) -> out.printf("%-9s %s%n", pod, s));
                out.flush();
                return 0;
            } catch (final LabException e) {
                return fail(spec, e);
            }
        }
    }

    @Command(name = "exec", mixinStandardHelpOptions = true,
        description = {"Run a command inside a lab namespace: router, client, node-K, a pod name, or a full namespace name."},
        footer = {"", "Examples:", "  ferry lab exec client -- curl -s http://198.18.0.11:30080/",
            "  ferry lab exec node-1 -- ip rule", "  ferry lab exec web-3 -- curl -s http://10.96.0.10/"})
    static final class Exec implements Callable<Integer> {
        @Spec
        CommandSpec spec;
        @CommandLine.Mixin
        StateOption state = new StateOption();
        @Parameters(index = "0", paramLabel = "NAME", description = "Where to run.")
        String name;
        @Parameters(index = "1..*", paramLabel = "COMMAND", arity = "1..*", description = "The command and its arguments (after --).")
        List<String> command = new ArrayList<>();

        @Override
        public Integer call() {
            try {
                Shell.requireRoot("ferry lab exec");
                final LabTopology topology = state.lab(null).topology();
                final String netns = topology.resolveNamespace(name).orElseThrow(() -> new LabException(
                    "no lab namespace '" + name + "'; names: " + String.join(", ", topology.namespacesByShortName().keySet())));
                if (!LabNetwork.existingNamespaces(topology.prefix()).contains(netns)) {
                    throw new LabException("namespace " + netns + " does not exist: is the lab up? (sudo ferry lab up)");
                }
                final List<String> full = new ArrayList<>(List.of("ip", "netns", "exec", netns));
                full.addAll(command);
                final Process process = new ProcessBuilder(full).inheritIO().start();
                return process.waitFor();
            } catch (final LabException e) {
                return fail(spec, e);
            } catch (final java.io.IOException e) {
                return fail(spec, new LabException("cannot run " + command + ": " + e.getMessage()));
            } catch (final InterruptedException e) {
                Thread.currentThread().interrupt();
                return 130;
            }
        }
    }

    @Command(name = "pod", mixinStandardHelpOptions = true, description = "Stop or start a pod's server (its readiness follows).",
        subcommands = {PodCommand.Stop.class, PodCommand.Start.class})
    static final class PodCommand implements Callable<Integer> {
        @Spec
        CommandSpec spec;

        @Override
        public Integer call() {
            spec.commandLine().usage(spec.commandLine().getErr());
            return CommandLine.ExitCode.USAGE;
        }

        @Command(name = "stop", mixinStandardHelpOptions = true, description = "Stop a pod's server: it turns unready and leaves its services' endpoints.")
        static final class Stop extends PodAction {
            @Override
            void act(final Lab lab) {
                lab.stopPod(pod);
            }
        }

        @Command(name = "start", mixinStandardHelpOptions = true, description = "Start a stopped pod's server again.")
        static final class Start extends PodAction {
            @Override
            void act(final Lab lab) {
                lab.startPod(pod);
            }
        }

        /** What stop and start share: root, the lab's state, one pod, errors reported as a lab failure. */
        abstract static class PodAction implements Callable<Integer> {
            @Spec
            CommandSpec spec;
            @CommandLine.Mixin
            StateOption state = new StateOption();
            @Parameters(index = "0", paramLabel = "POD")
            String pod;

            abstract void act(Lab lab);

            @Override
            public Integer call() {
                try {
                    Shell.requireRoot("ferry lab pod " + spec.name());
                    act(state.lab(System.out));
                    return 0;
                } catch (final LabException | IllegalArgumentException e) {
                    return fail(spec, e instanceof LabException le ? le : new LabException(e.getMessage()));
                }
            }
        }
    }

    @Command(name = "pod-server", mixinStandardHelpOptions = true,
        description = {"Run a lab pod's server in the current network namespace until SIGTERM:",
            "HTTP 'pod=NAME client=IP:PORT', GET /healthz, and a UDP echo saying the same."})
    static final class PodServerCommand implements Callable<Integer> {
        @Option(names = "--name", required = true, description = "The pod's name, in every answer.")
        String name;
        @Option(names = "--http-port", defaultValue = "8080", description = "HTTP port (default: ${DEFAULT-VALUE}).")
        int httpPort;
        @Option(names = "--udp-port", defaultValue = "5353", description = "UDP echo port, 0 for none (default: ${DEFAULT-VALUE}).")
        int udpPort;

        @Override
        public Integer call() throws Exception {
            final PodServer server = PodServer.start(name, httpPort, udpPort);
            final CountDownLatch stopped = new CountDownLatch(1);
            Runtime.getRuntime().addShutdownHook(new Thread(() -> {
                server.close();
                stopped.countDown();
            }));
            System.out.println("pod " + name + " serving HTTP on :" + httpPort + (udpPort > 0 ? " and UDP on :" + udpPort : ""));
            System.out.flush();
            stopped.await();
            return 0;
        }
    }

    @Command(name = "controller", hidden = true, mixinStandardHelpOptions = true,
        description = {"The lab's readiness controller: probes pods, rewrites their manifests.",
            "netns lab (started by 'lab up'): --state-dir; each pod probed from its own namespace.",
            "VM lab: --manifests DIR --nodes N; every pod probed over the network from this machine."})
    static final class Controller implements Callable<Integer> {
        @CommandLine.Mixin
        StateOption state = new StateOption();
        @Option(names = "--manifests", paramLabel = "DIR", description = "VM lab: this node's manifests directory.")
        Path manifests;
        @Option(names = "--nodes", defaultValue = "2", description = "VM lab: number of nodes.")
        int nodes;

        @Override
        public Integer call() throws Exception {
            final ReadinessController controller;
            if (manifests != null) {
                final LabTopology topology = new LabTopology(nodes);
                controller = new ReadinessController(topology.pods().stream()
                    .map(p -> new ReadinessController.Target(p, null)).toList(), List.of(manifests), System.out);
            } else {
                final LabState.Stored stored = new LabState(state.stateDir).read();
                if (stored == null) {
                    System.err.println("no lab state in " + state.stateDir);
                    return 1;
                }
                final Lab lab = new Lab(new LabState(state.stateDir), LabJava.current(), null, null, stored.prefix());
                controller = ReadinessController.forLab(lab.topology(), lab.state(), System.out);
            }
            try (controller) {
                controller.start();
                System.out.println("readiness controller probing pods every " + ReadinessController.PERIOD_MS + " ms");
                System.out.flush();
                final CountDownLatch stopped = new CountDownLatch(1);
                Runtime.getRuntime().addShutdownHook(new Thread(stopped::countDown));
                stopped.await();
            }
            return 0;
        }
    }

    @Command(name = "vm-node", hidden = true, mixinStandardHelpOptions = true,
        description = {"VM lab provisioning (vagrant/provision/vm-node.sh), run on the node VM itself:",
            "writes node.yaml and the manifests, sets up node networking and this node's pods with the",
            "same scripts as the netns lab, in host mode. Starts nothing: systemd units do."})
    static final class VmNode implements Callable<Integer> {
        @Spec
        CommandSpec spec;
        @Option(names = "--node", required = true, description = "This node's name (node-K).")
        String node;
        @Option(names = "--nodes", defaultValue = "2", description = "Number of nodes.")
        int nodes;
        @Option(names = "--port-type", defaultValue = "tun", description = "tun or packet.")
        String portType;
        @Option(names = "--etc", defaultValue = "/etc/ferry", description = "Where node.yaml and manifests/ go.")
        Path etc;
        @Option(names = "--control", required = true, description = "The control VM's address (router, client, external server).")
        String control;
        @Option(names = "--scripts", required = true, description = "The provisioning scripts' directory.")
        Path scripts;

        @Override
        public Integer call() throws Exception {
            try {
                if (!"1".equals(System.getenv("FERRY_PROVISION_HOST"))) {
                    throw new LabException("vm-node configures this machine's own network: run it only on a lab VM, "
                        + "with FERRY_PROVISION_HOST=1");
                }
                final LabTopology topology = new LabTopology(nodes);
                final LabTopology.Node self = topology.nodes().stream().filter(n -> n.name().equals(node)).findFirst()
                    .orElseThrow(() -> new LabException("no node '" + node + "' in a " + nodes + "-node lab"));
                LabManifests.writeNode(topology, self, etc, portType, java.util.Map.of());
                final List<String> net = new ArrayList<>(List.of("--pod-cidr", self.podCidr()));
                for (final LabTopology.Node peer : topology.nodes()) {
                    if (peer.index() != self.index()) {
                        net.addAll(List.of("--route", peer.podCidr() + "=" + peer.ip()));
                    }
                }
                net.addAll(List.of("--route", "198.18.1.0/24=" + control, "--route", LabTopology.EXTERNAL_IP + "/32=" + control));
                Shell.run(LabJava.script(scripts, "node-net.sh", net.toArray(String[]::new)));
                for (final LabTopology.Pod pod : topology.pods()) {
                    if (pod.node().index() == self.index()) {
                        Shell.run(LabJava.script(scripts, "pod.sh", "add", "--pod-netns", pod.netns(), "--host-if", pod.hostIf(),
                            "--ip", pod.ip()));
                        System.out.println(pod.name());
                    }
                }
                return 0;
            } catch (final LabException e) {
                return fail(spec, e);
            }
        }
    }
}
