package dev.ferry.dataplane.addr;

/**
 * IPv4 addresses as the dataplane holds them: one {@code int} in network order (the first
 * octet in the most significant byte), so that comparisons, masks and hashing need no object.
 * Parsing and formatting allocate and belong to the control side and to trace.
 */
public final class Ipv4 {
    private Ipv4() {
    }

    /** Parses dotted-quad text; throws {@link IllegalArgumentException} naming the text. */
    public static int parse(final String text) {
        final String[] parts = text.trim().split("\\.", -1);
        if (parts.length != 4) {
            throw new IllegalArgumentException("not an IPv4 address: '" + text + "'");
        }
        int address = 0;
        for (final String part : parts) {
            if (part.isEmpty() || part.length() > 3 || !part.chars().allMatch(Character::isDigit)) {
                throw new IllegalArgumentException("not an IPv4 address: '" + text + "'");
            }
            final int octet = Integer.parseInt(part);
            if (octet > 255) {
                throw new IllegalArgumentException("not an IPv4 address: '" + text + "' (octet " + octet + " > 255)");
            }
            address = (address << 8) | octet;
        }
        return address;
    }

    /** True when {@code text} parses as an IPv4 address. */
    public static boolean isValid(final String text) {
        try {
            parse(text);
            return true;
        } catch (final IllegalArgumentException e) {
            return false;
        }
    }

    public static String format(final int address) {
        return ((address >>> 24) & 0xFF) + "." + ((address >>> 16) & 0xFF) + "." + ((address >>> 8) & 0xFF) + "." + (address & 0xFF);
    }

    /** "a.b.c.d:port", the form trace and the CLI print endpoints in. */
    public static String format(final int address, final int port) {
        return format(address) + ":" + port;
    }
}
