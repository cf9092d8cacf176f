package dev.ferry.control.manifest;

import dev.ferry.control.model.Endpoints;
import dev.ferry.control.model.ObjectRef;
import dev.ferry.control.model.SliceEndpoint;
import dev.ferry.control.model.SlicePort;
import dev.ferry.control.tree.Field;

import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;

/**
 * Turns a v1 Endpoints document into {@link Endpoints}. Addresses are ready endpoints,
 * notReadyAddresses not-ready ones (as the mirroring controller sets their conditions); IPv6
 * addresses are skipped, anything else that is not an address is an error naming the field.
 */
final class EndpointsDecoder {
    private EndpointsDecoder() {
    }

    static Endpoints decode(final ObjectRef ref, final Field root) {
        final List<Endpoints.Subset> subsets = new ArrayList<>();
        for (final Field subset : root.get("subsets").list()) {
            subset.requireObject();
            final List<SliceEndpoint> endpoints = new ArrayList<>();
            addresses(subset.get("addresses"), true, endpoints);
            addresses(subset.get("notReadyAddresses"), false, endpoints);
            subsets.add(new Endpoints.Subset(endpoints, ports(subset.get("ports"))));
        }
        return new Endpoints(ref, subsets);
    }

    private static void addresses(final Field list, final boolean ready, final List<SliceEndpoint> into) {
        for (final Field address : list.list()) {
            address.requireObject();
            final Field ip = address.get("ip");
            final String text = ip.text();
            if (Addresses.isIpv6(text)) {
                continue;
            }
            final Field nodeName = address.get("nodeName");
            into.add(new SliceEndpoint(Addresses.ipv4(ip), ready, ready, false, nodeName.isPresent() ? nodeName.text() : null,
                List.of(), List.of(), Names.hostname(address.get("hostname"))));
        }
    }

    private static List<SlicePort> ports(final Field list) {
        final List<Field> items = list.list();
        final List<SlicePort> ports = new ArrayList<>();
        final Set<String> names = new HashSet<>();
        for (final Field item : items) {
            item.requireObject();
            final Field nameField = item.get("name");
            final String name = nameField.textOr("");
            if (name.isEmpty() && items.size() > 1) {
                throw nameField.error("is required when a subset has more than one port");
            }
            if (!name.isEmpty() && !Names.isRfc1123Label(name)) {
                throw nameField.error("'" + name + "' is not a valid port name: it must be " + Names.RFC_1123_RULE);
            }
            if (!names.add(name)) {
                throw nameField.error("'" + name + "' appears twice in this subset's ports");
            }
            ports.add(new SlicePort(name, ServiceDecoder.protocol(item.get("protocol")), item.get("port").port()));
        }
        return ports;
    }
}
