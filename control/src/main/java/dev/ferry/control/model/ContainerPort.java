package dev.ferry.control.model;

import dev.ferry.dataplane.service.Protocol;

/**
 * One entry of a container's ports[]: what a Service's named targetPort resolves through.
 *
 * @param name          ports[].name, "" when unnamed
 * @param containerPort ports[].containerPort
 * @param protocol      TCP when absent
 */
public record ContainerPort(String name, int containerPort, Protocol protocol) {
}
