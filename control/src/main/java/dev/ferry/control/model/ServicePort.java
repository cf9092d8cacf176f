package dev.ferry.control.model;

import dev.ferry.dataplane.service.Protocol;

/**
 * One entry of spec.ports, defaults applied.
 *
 * @param name       the port's name, "" when unnamed
 * @param protocol   TCP when absent
 * @param port       the service port
 * @param targetPort the port on the pods; the service port when absent
 * @param nodePort   the node port, 0 when none given
 */
public record ServicePort(String name, Protocol protocol, int port, TargetPort targetPort, int nodePort) {
    public ServicePort withNodePort(final int newNodePort) {
        return new ServicePort(name, protocol, port, targetPort, newNodePort);
    }
}
