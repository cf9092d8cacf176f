package dev.ferry.control.model;

import dev.ferry.dataplane.service.Protocol;

/**
 * One entry of an EndpointSlice's ports[]: matched to a Service port by name and protocol.
 *
 * @param name     "" when absent
 * @param protocol TCP when absent
 * @param port     the endpoints' port number; 0 when absent (such a port carries no traffic)
 */
public record SlicePort(String name, Protocol protocol, int port) {
}
