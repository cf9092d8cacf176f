package dev.ferry.control.manifest;

import dev.ferry.control.model.ContainerPort;
import dev.ferry.control.model.ObjectRef;
import dev.ferry.control.model.Pod;
import dev.ferry.control.tree.Field;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Turns a v1 Pod document into a {@link Pod}: the fields the endpoints controller reads
 * (labels, spec.nodeName, container ports, status.podIP(s), the Ready condition, the phase
 * and metadata.deletionTimestamp). A pod without an IPv4 address is valid: it has not started
 * yet, and the controller leaves it out.
 */
final class PodDecoder {
    private static final Set<String> PHASES = Set.of("Pending", "Running", "Succeeded", "Failed", "Unknown");
    private static final Set<String> CONDITION_STATUSES = Set.of("True", "False", "Unknown");

    private PodDecoder() {
    }

    static Pod decode(final ObjectRef ref, final Field root) {
        final Field metadata = root.get("metadata");
        final Map<String, String> labels = Names.labels(metadata.get("labels"));
        final boolean terminating = metadata.get("deletionTimestamp").isPresent();

        final Field spec = root.get("spec");
        spec.requireObject();
        final Field nodeNameField = spec.get("nodeName");
        final String nodeName = nodeNameField.isPresent() && !nodeNameField.text().isEmpty() ? nodeNameField.text() : null;
        final List<ContainerPort> ports = new ArrayList<>();
        for (final Field container : spec.get("containers").list()) {
            containerPorts(container, ports);
        }
        for (final Field container : spec.get("initContainers").list()) {
            // Only sidecars (restartable init containers) keep running and serve their ports.
            if ("Always".equals(container.get("restartPolicy").textOr(""))) {
                containerPorts(container, ports);
            }
        }

        final Field status = root.get("status");
        status.requireObject();
        final Field phase = status.get("phase");
        if (phase.isPresent() && !PHASES.contains(phase.text())) {
            throw phase.error(phase.describe() + " is not a pod phase (Pending, Running, Succeeded, Failed or Unknown)");
        }
        final boolean terminal = phase.isPresent() && ("Succeeded".equals(phase.text()) || "Failed".equals(phase.text()));
        return new Pod(ref, labels, nodeName, podIp(status), ports, ready(status), terminating, terminal,
            Names.hostname(spec.get("hostname")), Names.hostname(spec.get("subdomain")));
    }

    private static void containerPorts(final Field container, final List<ContainerPort> into) {
        container.requireObject();
        for (final Field item : container.get("ports").list()) {
            item.requireObject();
            final Field nameField = item.get("name");
            final String name = nameField.textOr("");
            if (!name.isEmpty() && !Names.isIanaServiceName(name)) {
                throw nameField.error("'" + name + "' is not a valid container port name (" + Names.IANA_RULE + ")");
            }
            into.add(new ContainerPort(name, item.get("containerPort").port(), ServiceDecoder.protocol(item.get("protocol"))));
        }
    }

    /** The first IPv4 address of status.podIPs, else status.podIP; every entry must be an address. */
    private static int podIp(final Field status) {
        int ip = Pod.NO_IP;
        for (final Field entry : status.get("podIPs").list()) {
            entry.requireObject();
            final Field field = entry.get("ip");
            if (!Addresses.isIpv6(field.text())) {
                final int parsed = Addresses.ipv4(field);
                if (ip == Pod.NO_IP) {
                    ip = parsed;
                }
            }
        }
        final Field single = status.get("podIP");
        if (single.isPresent() && !single.text().isEmpty() && !Addresses.isIpv6(single.text())) {
            final int parsed = Addresses.ipv4(single);
            if (ip == Pod.NO_IP) {
                ip = parsed;
            }
        }
        return ip;
    }

    private static boolean ready(final Field status) {
        boolean ready = false;
        for (final Field condition : status.get("conditions").list()) {
            condition.requireObject();
            final String type = condition.get("type").text();
            final Field statusField = condition.get("status");
            final String value = statusField.text();
            if (!CONDITION_STATUSES.contains(value)) {
                throw statusField.error(statusField.describe() + " is not a condition status (True, False or Unknown)");
            }
            if ("Ready".equals(type)) {
                ready = "True".equals(value);
            }
        }
        return ready;
    }
}
