package dev.ferry.control.cli;

import dev.ferry.control.admin.AgentPaths;
import picocli.CommandLine.Option;

/** {@code --agent URL}: the running agent's metrics listener, shared by the commands that ask an agent. */
final class AgentOption {
    @Option(names = "--agent", paramLabel = "URL", defaultValue = AgentPaths.DEFAULT_AGENT_URL,
        description = "The agent's metrics listener (default ${DEFAULT-VALUE}).")
    String url;
}
