package dev.ferry.dataplane.addr;

/**
 * An IPv6 address as the dataplane holds it: two {@code long}s, the first eight bytes and the
 * last eight in network order (as {@code FlowKey} and {@code Ipv6Packet} read them). The packet
 * path keeps the two longs and never makes one of these; parsing and formatting belong to the
 * control side, trace and the admin pages.
 *
 * <p>Text: {@link #parse} takes RFC 4291's forms (eight groups of one to four hex digits, one
 * {@code ::} standing for a run of zero groups, a dotted IPv4 address as the last 32 bits) and
 * nothing else: no zone ({@code %eth0}), no brackets, no prefix, and never a name to look up.
 * {@link #toString} writes RFC 5952's canonical form: lower case, no leading zeros, the longest
 * run of two or more zero groups (the first of equal ones) as {@code ::}, and an IPv4-mapped
 * address as {@code ::ffff:a.b.c.d}.
 *
 * @param hi the first 64 bits
 * @param lo the last 64 bits
 */
public record Ipv6Address(long hi, long lo) {
    private static final long MAPPED_PREFIX = 0x0000_FFFF_0000_0000L;

    /** Parses IPv6 text (surrounding blanks ignored); throws {@link IllegalArgumentException} naming the text. */
    public static Ipv6Address parse(final String text) {
        final String t = text.trim();
        final int[] groups = new int[8];
        int count = 0;
        int gap = -1; // the group index where "::" stands
        int i = 0;
        final int length = t.length();
        if (t.startsWith("::")) {
            gap = 0;
            i = 2;
        } else if (t.startsWith(":")) {
            throw invalid(text, "starts with a single ':'");
        }
        while (i < length) {
            if (count == 8) {
                throw invalid(text, "more than eight groups");
            }
            final int start = i;
            int value = 0;
            while (i < length && i - start < 5 && hexDigit(t.charAt(i)) >= 0) {
                value = value * 16 + hexDigit(t.charAt(i));
                i++;
            }
            if (i < length && t.charAt(i) == '.') { // the last 32 bits as a dotted IPv4 address
                if (count > 6) {
                    throw invalid(text, "an IPv4 part past the sixth group");
                }
                final int v4;
                try {
                    v4 = Ipv4.parse(t.substring(start));
                } catch (final IllegalArgumentException e) {
                    throw invalid(text, "its IPv4 part is not a dotted quad");
                }
                groups[count++] = v4 >>> 16;
                groups[count++] = v4 & 0xFFFF;
                i = length;
                break;
            }
            if (i == start || i - start > 4) {
                throw invalid(text, i == start ? "an empty group" : "a group of more than four hex digits");
            }
            groups[count++] = value;
            if (i == length) {
                break;
            }
            if (t.charAt(i) != ':') {
                throw invalid(text, "'" + t.charAt(i) + "' where ':' or a hex digit belongs");
            }
            i++;
            if (i < length && t.charAt(i) == ':') {
                if (gap >= 0) {
                    throw invalid(text, "'::' twice");
                }
                gap = count;
                i++;
            } else if (i == length) {
                throw invalid(text, "ends with a single ':'");
            }
        }
        if (gap < 0 && count != 8) {
            throw invalid(text, count + " groups without '::'");
        }
        if (gap >= 0 && count == 8) {
            throw invalid(text, "'::' standing for no group");
        }
        final int[] all = new int[8];
        final int tail = count - (gap < 0 ? count : gap);
        final int head = count - tail;
        System.arraycopy(groups, 0, all, 0, head);
        System.arraycopy(groups, head, all, 8 - tail, tail);
        long hi = 0;
        long lo = 0;
        for (int g = 0; g < 4; g++) {
            hi = hi << 16 | all[g];
            lo = lo << 16 | all[g + 4];
        }
        return new Ipv6Address(hi, lo);
    }

    /** True when {@code text} parses as an IPv6 address. */
    public static boolean isValid(final String text) {
        try {
            parse(text);
            return true;
        } catch (final IllegalArgumentException e) {
            return false;
        }
    }

    /** The IPv4-mapped address {@code ::ffff:a.b.c.d} of an {@link Ipv4} int. */
    public static Ipv6Address ipv4Mapped(final int ipv4) {
        return new Ipv6Address(0, MAPPED_PREFIX | (ipv4 & 0xFFFF_FFFFL));
    }

    public boolean isIpv4Mapped() {
        return hi == 0 && (lo & 0xFFFF_FFFF_0000_0000L) == MAPPED_PREFIX;
    }

    /** Group {@code index} (0..7), 16 bits. */
    public int group(final int index) {
        final long half = index < 4 ? hi : lo;
        return (int) (half >>> (48 - 16 * (index & 3))) & 0xFFFF;
    }

    /** RFC 5952's canonical text. */
    @Override
    public String toString() {
        if (isIpv4Mapped()) {
            return "::ffff:" + Ipv4.format((int) lo);
        }
        int bestStart = -1;
        int bestLength = 1; // a single zero group is written as 0, never as ::
        int g = 0;
        while (g < 8) {
            final int start = g;
            while (g < 8 && group(g) == 0) {
                g++;
            }
            if (g - start > bestLength) {
                bestStart = start;
                bestLength = g - start;
            }
            g = Math.max(g, start + 1);
        }
        final StringBuilder sb = new StringBuilder(39);
        for (int i = 0; i < 8; i++) {
            if (i == bestStart) {
                sb.append("::");
                i += bestLength - 1;
                continue;
            }
            if (sb.length() > 0 && sb.charAt(sb.length() - 1) != ':') {
                sb.append(':');
            }
            sb.append(Integer.toHexString(group(i)));
        }
        return sb.toString();
    }

    /** The value of an ASCII hex digit, or -1 (Character.digit would take other scripts' digits too). */
    private static int hexDigit(final char c) {
        if (c >= '0' && c <= '9') {
            return c - '0';
        }
        if (c >= 'a' && c <= 'f') {
            return c - 'a' + 10;
        }
        return c >= 'A' && c <= 'F' ? c - 'A' + 10 : -1;
    }

    private static IllegalArgumentException invalid(final String text, final String why) {
        return new IllegalArgumentException("not an IPv6 address: '" + text + "' (" + why + ")");
    }
}
