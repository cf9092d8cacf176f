package dev.ferry.control.cli;

import dev.ferry.control.admin.AgentPaths;
import dev.ferry.control.ops.AgentClient;
import dev.ferry.dataplane.addr.Ipv4;
import java.util.function.Function;
import dev.ferry.control.config.NodeConfig;
import dev.ferry.control.config.NodeConfigException;
import dev.ferry.control.config.NodeConfigLoader;
import dev.ferry.control.manifest.ManifestError;
import dev.ferry.control.source.ManifestSource;
import dev.ferry.control.source.SourceSnapshot;
import dev.ferry.control.trace.FlowParser;
import dev.ferry.control.trace.TraceFormat;
import dev.ferry.dataplane.service.Protocol;
import dev.ferry.dataplane.service.ServiceTable;
import dev.ferry.dataplane.trace.TraceFlow;
import dev.ferry.dataplane.trace.TraceResult;
import dev.ferry.dataplane.trace.Tracer;
import picocli.CommandLine;
import picocli.CommandLine.ArgGroup;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.PrintWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.Callable;

/**
 * {@code ferry trace}: compiles a node config and manifests into the dataplane's service table
 * and runs synthetic first packets through the workers' packet processing, printing what
 * happened to each: one flow from options, or many from a file of JSON lines.
 */
@Command(name = "trace",
    mixinStandardHelpOptions = true,
    sortOptions = false,
    description = {
        "Show what the dataplane does with a connection's first packet, from a node config and manifests.",
        "Manifest objects that fail validation are reported on stderr and left out; the rest still apply."},
    footer = {
        "",
        "Examples:",
        "  ferry trace --node-config node.yaml --manifests manifests/ \\",
        "              --proto TCP --src 10.244.1.9 --dst 10.96.0.10 --dport 80",
        "  ferry trace --node-config node.yaml --manifests manifests/ \\",
        "              --flows flows.jsonl --json",
        "",
        "Exit status: 0 traced; 1 a flow could not be traced; 2 bad usage or a bad node config."})
final class TraceCommand implements Callable<Integer> {
    @Spec
    CommandSpec spec;

    @Option(names = "--node-config", paramLabel = "FILE", description = "Node config YAML file.")
    Path nodeConfig;

    @Option(names = "--manifests", paramLabel = "PATH",
        description = "Manifest file or directory (*.yaml, *.yml, *.json); repeatable.")
    List<Path> manifests;

    @Option(names = "--agent", paramLabel = "URL",
        description = "Trace against a running agent's current state (its metrics address, e.g. "
            + AgentPaths.DEFAULT_AGENT_URL + ") instead of --node-config and --manifests.")
    String agent;

    @ArgGroup(exclusive = true, multiplicity = "1")
    FlowSource source;

    @Option(names = "--json", description = "Print one JSON object per flow.")
    boolean json;

    static final class FlowSource {
        @ArgGroup(exclusive = false, multiplicity = "1", heading = "One flow:%n")
        SingleFlow single;

        @Option(names = "--flows", required = true, paramLabel = "FILE",
            description = "File with one JSON flow per line ({\"proto\": \"TCP\", \"src\": ..., \"sport\": ..., \"dst\": ..., \"dport\": ...}); - reads stdin.")
        Path flows;
    }

    static final class SingleFlow {
        @Option(names = "--proto", required = true, paramLabel = "TCP|UDP|SCTP", converter = Converters.Proto.class,
            description = "Protocol.")
        Protocol protocol;

        @Option(names = "--src", required = true, paramLabel = "IP", converter = Converters.Address.class,
            description = "Source address.")
        int src;

        @Option(names = "--sport", paramLabel = "N", converter = Converters.Port.class,
            description = "Source port (default " + TraceFlow.DEFAULT_SOURCE_PORT + ").")
        int sport;

        @Option(names = "--dst", required = true, paramLabel = "IP", converter = Converters.Address.class,
            description = "Destination address.")
        int dst;

        @Option(names = "--dport", required = true, paramLabel = "N", converter = Converters.Port.class,
            description = "Destination port.")
        int dport;
    }

    @Override
    public Integer call() {
        final PrintWriter out = spec.commandLine().getOut();
        final PrintWriter err = spec.commandLine().getErr();
        if (agent != null) {
            if (nodeConfig != null || manifests != null) {
                throw new CommandLine.ParameterException(spec.commandLine(), "--agent traces a running agent: give it without --node-config and --manifests");
            }
            final AgentClient client = new AgentClient(agent);
            final Function<TraceFlow, TraceResult> remote = flow -> TraceFormat.parse(client.get("/trace", query(flow)));
            return finish(out, err, source.flows != null ? traceFlows(remote, out, err) : traceOne(remote, out, err));
        }
        if (nodeConfig == null || manifests == null) {
            throw new CommandLine.ParameterException(spec.commandLine(), "give --node-config and --manifests, or --agent URL");
        }

        final NodeConfig config;
        try {
            config = NodeConfigLoader.load(nodeConfig);
        } catch (final NodeConfigException e) {
            err.println("ferry trace: the node config is not usable:");
            e.problems().forEach(problem -> err.println("  " + problem));
            err.flush();
            return CommandLine.ExitCode.USAGE;
        }

        // What the agent would serve from these manifests: allocations, endpoints from Pods for
        // selectors without written slices, each bad object reported and left out.
        final SourceSnapshot snapshot = ManifestSource.readOnce(config, manifests, null);
        for (final ManifestError error : snapshot.errors()) {
            err.println("rejected: " + error);
        }
        err.flush();

        final Tracer tracer;
        try {
            tracer = new Tracer(ServiceTable.compile(config.toNodeSpec(), snapshot.servicePorts()));
        } catch (final RuntimeException e) {
            err.println("ferry trace: the services could not be compiled into a service table: " + e.getMessage());
            err.flush();
            return CommandLine.ExitCode.SOFTWARE;
        }

        return finish(out, err, source.flows != null ? traceFlows(tracer::trace, out, err) : traceOne(tracer::trace, out, err));
    }

    private static int finish(final PrintWriter out, final PrintWriter err, final int status) {
        out.flush();
        err.flush();
        return status;
    }

    private static String query(final TraceFlow flow) {
        return "proto=" + flow.protocol() + "&src=" + Ipv4.format(flow.srcAddr())
            + (flow.srcPort() == 0 ? "" : "&sport=" + flow.srcPort())
            + "&dst=" + Ipv4.format(flow.dstAddr()) + "&dport=" + flow.dstPort();
    }

    private int traceOne(final Function<TraceFlow, TraceResult> tracer, final PrintWriter out, final PrintWriter err) {
        final SingleFlow one = source.single;
        final TraceFlow flow = new TraceFlow(one.protocol, one.src, one.sport, one.dst, one.dport);
        final TraceResult result;
        try {
            result = tracer.apply(flow);
        } catch (final RuntimeException e) {
            err.println("ferry trace: " + TraceFormat.flow(flow) + ": could not be traced: " + e);
            return CommandLine.ExitCode.SOFTWARE;
        }
        out.print(json ? TraceFormat.json(result) + "\n" : TraceFormat.text(flow, result));
        return CommandLine.ExitCode.OK;
    }

    private int traceFlows(final Function<TraceFlow, TraceResult> tracer, final PrintWriter out, final PrintWriter err) {
        boolean anyBad = false;
        try (BufferedReader lines = "-".equals(source.flows.toString())
            ? new BufferedReader(new InputStreamReader(System.in, StandardCharsets.UTF_8))
            : Files.newBufferedReader(source.flows, StandardCharsets.UTF_8)) {
            int number = 0;
            String line;
            while ((line = lines.readLine()) != null) {
                number++;
                if (line.isBlank()) {
                    continue;
                }
                final TraceFlow flow;
                try {
                    flow = FlowParser.parse(line);
                } catch (final IllegalArgumentException e) {
                    anyBad = true;
                    printError(out, "line " + number + ": " + e.getMessage());
                    continue;
                }
                try {
                    final TraceResult result = tracer.apply(flow);
                    out.print(json ? TraceFormat.json(result) + "\n" : TraceFormat.text(flow, result));
                } catch (final RuntimeException e) {
                    anyBad = true;
                    printError(out, "line " + number + ": " + TraceFormat.flow(flow) + ": could not be traced: " + e);
                }
            }
        } catch (final IOException e) {
            err.println("ferry trace: --flows " + source.flows + ": cannot read: " + e.getMessage());
            return CommandLine.ExitCode.USAGE;
        }
        return anyBad ? CommandLine.ExitCode.SOFTWARE : CommandLine.ExitCode.OK;
    }

    private void printError(final PrintWriter out, final String message) {
        out.print(json ? TraceFormat.jsonError(message) + "\n" : "error: " + message + "\n");
    }
}
