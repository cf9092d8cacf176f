package dev.ferry.control.cli;

import com.fasterxml.jackson.databind.JsonNode;
import dev.ferry.control.admin.ConntrackFilter;
import dev.ferry.control.admin.AgentPaths;
import dev.ferry.control.ops.AgentClient;
import dev.ferry.control.ops.ControlClient;
import dev.ferry.control.ops.ConntrackView;
import picocli.CommandLine;
import picocli.CommandLine.ArgGroup;
import picocli.CommandLine.Command;
import picocli.CommandLine.ITypeConverter;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;
import picocli.CommandLine.TypeConversionException;

import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.concurrent.Callable;

/**
 * {@code ferry conntrack}: list or delete a running agent's conntrack entries, with
 * {@code conntrack -L/-D}'s filters, through its {@code /conntrack} endpoint.
 */
@Command(name = "conntrack",
    mixinStandardHelpOptions = true,
    sortOptions = false,
    description = {
        "List (-L, the default) or delete (-D) a running agent's conntrack entries, like conntrack -L/-D.",
        "Filters match the original direction (what the client sent); all given filters must match.",
        "-D without a filter deletes every entry."},
    footer = {
        "",
        "Examples:",
        "  ferry conntrack",
        "  ferry conntrack -L --proto udp --dst 10.96.0.10 --dport 53",
        "  ferry conntrack -D --service default/web",
        "",
        "Exit status: 0 done; 1 the agent could not be asked; 2 bad usage."})
final class ConntrackCommand implements Callable<Integer> {
    @Spec
    CommandSpec spec;

    @Mixin
    AgentOption agent;

    @ArgGroup(exclusive = true)
    Action action;

    static final class Action {
        @Option(names = {"-L", "--list"}, description = "List entries (the default).")
        boolean list;

        @Option(names = {"-D", "--delete"}, description = "Delete the matching entries.")
        boolean delete;
    }

    @Option(names = {"-p", "--proto"}, paramLabel = "PROTO", converter = ProtoNumber.class,
        description = "tcp, udp, sctp, icmp or a protocol number.")
    Integer protocol;

    @Option(names = {"-s", "--src"}, paramLabel = "IP", converter = Converters.Address.class,
        description = "Original source address (the client).")
    Integer src;

    @Option(names = {"-d", "--dst"}, paramLabel = "IP", converter = Converters.Address.class,
        description = "Original destination address (the service address the client used).")
    Integer dst;

    @Option(names = "--dport", paramLabel = "N", converter = Converters.Port.class,
        description = "Original destination port.")
    Integer dport;

    @Option(names = "--service", paramLabel = "NAME",
        description = "Service (namespace/name) or service port (namespace/name:port) the flow was sent to.")
    String service;

    @Option(names = "--json", description = "Print JSON: one entry per line for -L, {\"deleted\": N} for -D.")
    boolean json;

    @Option(names = "--control-socket", paramLabel = "PATH", defaultValue = AgentPaths.DEFAULT_CONTROL_SOCKET,
        description = "-D: the agent's control socket, the only listener that deletes (the agent's user and root only). Default: ${DEFAULT-VALUE}.")
    Path controlSocket;

    @Override
    public Integer call() {
        final PrintWriter out = spec.commandLine().getOut();
        final PrintWriter err = spec.commandLine().getErr();
        final AgentClient client;
        try {
            client = new AgentClient(agent.url);
        } catch (final IllegalArgumentException e) {
            throw new CommandLine.ParameterException(spec.commandLine(), e.getMessage());
        }
        final String query = new ConntrackFilter(protocol, src, dst, dport, service).toQuery();
        final boolean delete = action != null && action.delete;
        try {
            if (delete) {
                final JsonNode result = new ControlClient(controlSocket).delete("/conntrack", query);
                final long deleted = result.path("deleted").asLong();
                if (json) {
                    out.println(result);
                }
                err.println("ferry conntrack: " + deleted + " flow entries have been deleted.");
            } else {
                final JsonNode entries = client.get("/conntrack", query);
                for (final JsonNode entry : entries) {
                    out.println(json ? entry.toString() : ConntrackView.line(entry));
                }
                err.println("ferry conntrack: " + entries.size() + " flow entries have been shown.");
            }
        } catch (final AgentClient.AgentException e) {
            err.println("ferry conntrack: " + e.getMessage());
            return CommandLine.ExitCode.SOFTWARE;
        } finally {
            out.flush();
            err.flush();
        }
        return CommandLine.ExitCode.OK;
    }

    /** A protocol name or number, as the agent's filter takes it. */
    static final class ProtoNumber implements ITypeConverter<Integer> {
        @Override
        public Integer convert(final String value) {
            try {
                return ConntrackFilter.protocolNumber(value);
            } catch (final IllegalArgumentException e) {
                throw new TypeConversionException("'" + value + "' is not a protocol (tcp, udp, sctp, icmp or 0-255)");
            }
        }
    }
}
