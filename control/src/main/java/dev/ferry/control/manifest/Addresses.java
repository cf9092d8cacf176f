package dev.ferry.control.manifest;

import dev.ferry.control.tree.Field;
import dev.ferry.dataplane.addr.Ipv4;
import dev.ferry.dataplane.addr.Ipv4Cidr;

/**
 * Address fields of manifests. IPv6 values (anything with a colon) are legal in dual-stack
 * clusters and are skipped, since the dataplane is IPv4-only for now; anything else that does
 * not parse is an error naming the field.
 */
final class Addresses {
    private Addresses() {
    }

    static boolean isIpv6(final String text) {
        return text.indexOf(':') >= 0;
    }

    /** The IPv4 address in {@code field}; throws naming the field when it is not one. */
    static int ipv4(final Field field) {
        final String text = field.text();
        try {
            return Ipv4.parse(text);
        } catch (final IllegalArgumentException e) {
            throw field.error("'" + text + "' is not an IP address");
        }
    }

    static Ipv4Cidr cidr(final Field field) {
        final String text = field.text();
        try {
            return Ipv4Cidr.parse(text);
        } catch (final IllegalArgumentException e) {
            throw field.error("'" + text + "' is not a CIDR such as 203.0.113.0/24");
        }
    }
}
