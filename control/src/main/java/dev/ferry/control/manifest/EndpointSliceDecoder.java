package dev.ferry.control.manifest;

import dev.ferry.control.model.EndpointSlice;
import dev.ferry.control.model.ObjectRef;
import dev.ferry.control.model.SliceEndpoint;
import dev.ferry.control.model.SlicePort;
import dev.ferry.control.tree.Field;

import java.util.ArrayList;
import java.util.List;

/**
 * Turns a discovery.k8s.io/v1 EndpointSlice document into an {@link EndpointSlice}, applying the
 * API's defaults to ports and conditions. Slices of another address type than IPv4 are not
 * decoded (the caller skips them); fields Ferry does not use (hints, zone, targetRef) are ignored.
 */
final class EndpointSliceDecoder {
    private EndpointSliceDecoder() {
    }

    /** The slice's addressType, which decides whether it is decoded at all. */
    static String addressType(final Field root) {
        return root.get("addressType").text();
    }

    static EndpointSlice decode(final ObjectRef ref, final Field root) {
        final Field label = root.get("metadata").get("labels").getKeyed(EndpointSlice.SERVICE_NAME_LABEL);
        if (!label.isPresent() || label.text().isEmpty()) {
            throw label.error("is required: it names the Service this slice belongs to");
        }
        final String serviceName = label.text();

        final List<SlicePort> ports = new ArrayList<>();
        for (final Field item : root.get("ports").list()) {
            item.requireObject();
            final Field port = item.get("port");
            ports.add(new SlicePort(item.get("name").textOr(""), ServiceDecoder.protocol(item.get("protocol")),
                port.isPresent() ? port.port() : 0));
        }

        final List<SliceEndpoint> endpoints = new ArrayList<>();
        for (final Field item : root.get("endpoints").list()) {
            item.requireObject();
            final List<Field> addresses = item.get("addresses").list();
            if (addresses.isEmpty()) {
                throw item.get("addresses").error("at least one address is required");
            }
            for (final Field address : addresses) {
                Addresses.ipv4(address); // all must be IPv4 in an IPv4 slice, even those not used
            }
            final Field conditions = item.get("conditions");
            conditions.requireObject();
            final boolean ready = conditions.get("ready").boolOr(true);
            final boolean serving = conditions.get("serving").boolOr(ready);
            final boolean terminating = conditions.get("terminating").boolOr(false);
            final Field nodeName = item.get("nodeName");
            final Field hints = item.get("hints");
            hints.requireObject();
            endpoints.add(new SliceEndpoint(Addresses.ipv4(addresses.get(0)), ready, serving, terminating,
                nodeName.isPresent() ? nodeName.text() : null, hintNames(hints.get("forZones")), hintNames(hints.get("forNodes")),
                Names.hostname(item.get("hostname"))));
        }
        return new EndpointSlice(ref, serviceName, ports, endpoints);
    }

    /** hints.forZones or hints.forNodes: a list of {name: ...}. */
    private static List<String> hintNames(final Field list) {
        final List<String> names = new ArrayList<>();
        for (final Field item : list.list()) {
            item.requireObject();
            final Field name = item.get("name");
            if (!name.isPresent() || name.text().isEmpty()) {
                throw name.error("is required: a hint names a zone or a node");
            }
            names.add(name.text());
        }
        return names;
    }
}
