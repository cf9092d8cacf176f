package dev.ferry.control.cli;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.json.JsonMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import dev.ferry.control.ops.AgentClient;
import dev.ferry.control.ops.ServicesView;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

import java.io.PrintWriter;
import java.util.concurrent.Callable;

/**
 * {@code ferry services}: the service ports of a running agent's current snapshot, with their
 * addresses and the endpoints new connections go to, from its {@code /services} endpoint.
 */
@Command(name = "services",
    mixinStandardHelpOptions = true,
    sortOptions = false,
    description = {
        "List the service ports a running agent serves: addresses, ports and endpoints, as its dataplane holds them."},
    footer = {
        "",
        "Examples:",
        "  ferry services",
        "  ferry services default/web --json",
        "",
        "Exit status: 0 listed; 1 the agent could not be asked; 2 bad usage."})
final class ServicesCommand implements Callable<Integer> {
    private static final ObjectMapper JSON = JsonMapper.builder().build();

    @Spec
    CommandSpec spec;

    @Mixin
    AgentOption agent;

    @Parameters(arity = "0..1", paramLabel = "SERVICE",
        description = "Only this service (namespace/name) or service port (namespace/name:port).")
    String service;

    @Option(names = "--json", description = "Print the agent's JSON (an array, one object per service port).")
    boolean json;

    @Override
    public Integer call() throws Exception {
        final PrintWriter out = spec.commandLine().getOut();
        final PrintWriter err = spec.commandLine().getErr();
        final AgentClient client;
        try {
            client = new AgentClient(agent.url);
        } catch (final IllegalArgumentException e) {
            throw new CommandLine.ParameterException(spec.commandLine(), e.getMessage());
        }
        final JsonNode services;
        try {
            services = client.get("/services", null);
        } catch (final AgentClient.AgentException e) {
            err.println("ferry services: " + e.getMessage());
            err.flush();
            return CommandLine.ExitCode.SOFTWARE;
        }
        final ArrayNode shown = JSON.createArrayNode();
        for (final JsonNode port : services) {
            final String name = port.path("name").asText();
            if (service == null || name.equals(service) || (service.indexOf(':') < 0 && name.startsWith(service + ":"))) {
                shown.add(port);
            }
        }
        out.print(json ? JSON.writerWithDefaultPrettyPrinter().writeValueAsString(shown) + "\n" : ServicesView.table(shown));
        out.flush();
        return CommandLine.ExitCode.OK;
    }
}
