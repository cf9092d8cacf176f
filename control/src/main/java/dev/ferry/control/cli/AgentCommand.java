package dev.ferry.control.cli;

import dev.ferry.control.agent.Agent;
import dev.ferry.control.agent.AgentOptions;
import dev.ferry.control.agent.ManifestStateSource;
import dev.ferry.control.config.NodeConfig;
import dev.ferry.control.config.NodeConfigException;
import dev.ferry.control.config.NodeConfigOptions;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.Callable;

/**
 * {@code ferry agent}: the process that runs on every worker node. Validates its
 * configuration before touching anything, then runs until SIGTERM, when it removes everything
 * it installed.
 */
@Command(name = "agent",
    description = {"Run the node agent: attach ferry0, serve Services from the manifests, until SIGTERM.",
        "Needs root or CAP_NET_ADMIN (and /dev/net/tun for portType tun)."})
final class AgentCommand implements Callable<Integer> {
    @Spec
    CommandLine.Model.CommandSpec spec;

    @CommandLine.Mixin
    NodeConfigOptions node = new NodeConfigOptions();

    @Option(names = "--manifests", required = true, paramLabel = "PATH",
        description = "Manifest file or directory (watched, reloaded on change); repeatable.")
    List<Path> manifests;

    @Option(names = "--run-dir", paramLabel = "DIR", description = "Runtime files (counters, host state). Default: ${DEFAULT-VALUE}.")
    Path runDir = AgentOptions.DEFAULT_RUN_DIR;

    @Option(names = "--state-dir", paramLabel = "DIR", description = "Files kept across restarts (conntrack). Default: ${DEFAULT-VALUE}.")
    Path stateDir = AgentOptions.DEFAULT_STATE_DIR;

    @Option(names = "--workers", paramLabel = "N", description = "Worker threads. Default: ${DEFAULT-VALUE}.")
    int workers = AgentOptions.DEFAULT_WORKERS;

    @Option(names = "--conntrack-capacity", paramLabel = "N", description = "Conntrack entries. Default: ${DEFAULT-VALUE}.")
    int conntrackCapacity = AgentOptions.DEFAULT_CONNTRACK_CAPACITY;

    @Option(names = "--sync-min-interval-ms", paramLabel = "MS", description = "Minimum time between syncs. Default: ${DEFAULT-VALUE}.")
    long syncMinIntervalMs = AgentOptions.DEFAULT_SYNC_MIN_INTERVAL_MS;

    @Option(names = "--sync-max-interval-ms", paramLabel = "MS", description = "Periodic resync. Default: ${DEFAULT-VALUE}.")
    long syncMaxIntervalMs = AgentOptions.DEFAULT_SYNC_MAX_INTERVAL_MS;

    @Option(names = "--healthz-bind-address", paramLabel = "HOST:PORT", description = "/healthz and /livez. Default: ${DEFAULT-VALUE}.")
    String healthzBindAddress = AgentOptions.DEFAULT_HEALTHZ_BIND_ADDRESS;

    @Option(names = "--metrics-bind-address", paramLabel = "HOST:PORT",
        description = "/metrics, /services, /conntrack. Default: ${DEFAULT-VALUE}.")
    String metricsBindAddress = AgentOptions.DEFAULT_METRICS_BIND_ADDRESS;

    @Override
    public Integer call() throws Exception {
        final NodeConfig config;
        try {
            config = node.resolve();
        } catch (final NodeConfigException e) {
            spec.commandLine().getErr().println("ferry agent: refusing to start, the node config is invalid:");
            e.problems().forEach(p -> spec.commandLine().getErr().println("  " + p));
            return CommandLine.ExitCode.USAGE;
        }
        final AgentOptions options;
        try {
            options = new AgentOptions(config, manifests, runDir, stateDir, workers, conntrackCapacity,
                syncMinIntervalMs, syncMaxIntervalMs, healthzBindAddress, metricsBindAddress);
        } catch (final IllegalArgumentException e) {
            spec.commandLine().getErr().println("ferry agent: " + e.getMessage());
            return CommandLine.ExitCode.USAGE;
        }
        final Agent agent = new Agent(options);
        // SIGTERM and SIGINT stop the agent cleanly and exit 0 (a plain shutdown hook would
        // also run, but the JVM would then exit 143, which systemd reports as a failure).
        for (final String signal : new String[] {"TERM", "INT"}) {
            sun.misc.Signal.handle(new sun.misc.Signal(signal), s -> Thread.ofPlatform().name("ferry-stop").start(agent::close));
        }
        Runtime.getRuntime().addShutdownHook(new Thread(agent::close, "ferry-shutdown"));
        try {
            agent.start(new ManifestStateSource(config, manifests, options.stateDir().resolve("allocations")));
        } catch (final RuntimeException e) {
            spec.commandLine().getErr().println("ferry agent: failed to start: " + e.getMessage());
            return CommandLine.ExitCode.SOFTWARE;
        }
        agent.awaitStopped();
        return CommandLine.ExitCode.OK;
    }
}
