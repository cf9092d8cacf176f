package dev.ferry.control.agent;

/** {@link AgentNamespaceTest} with portType tun. */
class TunAgentNamespaceTest extends AgentNamespaceTest {
    @Override
    String portType() {
        return "tun";
    }
}
