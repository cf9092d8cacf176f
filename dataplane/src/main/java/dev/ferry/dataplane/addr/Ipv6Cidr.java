package dev.ferry.dataplane.addr;

/**
 * An IPv6 prefix such as fd00:10:96::/112, the counterpart of {@link Ipv4Cidr}. The base is
 * normalised (host bits cleared), so two spellings of one range are equal. {@link #contains}
 * takes the two longs the packet path holds and allocates nothing.
 *
 * @param base      the network address, host bits zero
 * @param prefixLen 0..128
 */
public record Ipv6Cidr(Ipv6Address base, int prefixLen) {

    public Ipv6Cidr {
        if (prefixLen < 0 || prefixLen > 128) {
            throw new IllegalArgumentException("prefix length " + prefixLen + " is outside 0..128");
        }
        base = new Ipv6Address(base.hi() & highMask(prefixLen), base.lo() & lowMask(prefixLen));
    }

    /** Parses "address/n"; a bare address means /128. Throws {@link IllegalArgumentException} naming the text. */
    public static Ipv6Cidr parse(final String text) {
        final String trimmed = text.trim();
        final int slash = trimmed.indexOf('/');
        if (slash < 0) {
            return new Ipv6Cidr(Ipv6Address.parse(trimmed), 128);
        }
        final int prefix;
        try {
            prefix = Integer.parseInt(trimmed.substring(slash + 1));
        } catch (final NumberFormatException e) {
            throw new IllegalArgumentException("not an IPv6 CIDR: '" + text + "'");
        }
        if (prefix < 0 || prefix > 128) {
            throw new IllegalArgumentException("not an IPv6 CIDR: '" + text + "' (prefix " + prefix + " outside 0..128)");
        }
        return new Ipv6Cidr(Ipv6Address.parse(trimmed.substring(0, slash)), prefix);
    }

    /** The mask of the first 64 bits for a prefix length. */
    public static long highMask(final int prefixLen) {
        return prefixLen <= 0 ? 0 : prefixLen >= 64 ? -1L : -1L << (64 - prefixLen);
    }

    /** The mask of the last 64 bits for a prefix length. */
    public static long lowMask(final int prefixLen) {
        return prefixLen <= 64 ? 0 : prefixLen >= 128 ? -1L : -1L << (128 - prefixLen);
    }

    /** True when the address ({@code hi}, {@code lo}) is in this range. */
    public boolean contains(final long hi, final long lo) {
        return (hi & highMask(prefixLen)) == base.hi() && (lo & lowMask(prefixLen)) == base.lo();
    }

    public boolean contains(final Ipv6Address address) {
        return contains(address.hi(), address.lo());
    }

    /** True when every address of {@code other} is in this range (it is this range or inside it). */
    public boolean covers(final Ipv6Cidr other) {
        return prefixLen <= other.prefixLen && contains(other.base);
    }

    /** How many addresses the range holds, capped at {@link Long#MAX_VALUE} (a /64 already has 2^64). */
    public long size() {
        final int hostBits = 128 - prefixLen;
        return hostBits >= 63 ? Long.MAX_VALUE : 1L << hostBits;
    }

    @Override
    public String toString() {
        return base + "/" + prefixLen;
    }
}
