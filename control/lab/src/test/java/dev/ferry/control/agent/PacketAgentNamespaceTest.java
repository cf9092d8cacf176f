package dev.ferry.control.agent;

/** {@link AgentNamespaceTest} with portType packet: veth + AF_PACKET rings, offloads at their defaults. */
class PacketAgentNamespaceTest extends AgentNamespaceTest {
    @Override
    String portType() {
        return "packet";
    }
}
