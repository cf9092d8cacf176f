package dev.ferry.dataplane.addr;

/**
 * IPv4 addresses as the dataplane holds them: one {@code int} in network order (the first
 * octet in the most significant byte), so that comparisons, masks and hashing need no object.
 * Parsing and formatting allocate and belong to the control side and to trace.
 */
public final class Ipv4 {
    private Ipv4() {
    }

    /**
     * Parses dotted-quad text (four octets of one to three ASCII digits, surrounding blanks
     * ignored); throws {@link IllegalArgumentException} naming the text. A loop over the
     * characters: the manifest and API sources parse every endpoint address with it.
     */
    public static int parse(final String text) {
        final String t = text.trim();
        final int length = t.length();
        int address = 0;
        int i = 0;
        int tooLarge = -1; // the first octet over 255, said only once the text is four octets (as before)
        for (int octets = 1; ; octets++) {
            final int start = i;
            int octet = 0;
            while (i < length && i - start < 3 && t.charAt(i) >= '0' && t.charAt(i) <= '9') {
                octet = octet * 10 + (t.charAt(i) - '0');
                i++;
            }
            if (i == start || (i < length && t.charAt(i) != '.')) {
                throw new IllegalArgumentException("not an IPv4 address: '" + text + "'");
            }
            if (octet > 255 && tooLarge < 0) {
                tooLarge = octet;
            }
            address = (address << 8) | octet;
            if (octets == 4) {
                if (i != length) {
                    throw new IllegalArgumentException("not an IPv4 address: '" + text + "'");
                }
                if (tooLarge >= 0) {
                    throw new IllegalArgumentException("not an IPv4 address: '" + text + "' (octet " + tooLarge + " > 255)");
                }
                return address;
            }
            if (i == length) {
                throw new IllegalArgumentException("not an IPv4 address: '" + text + "'");
            }
            i++; // the dot
        }
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
