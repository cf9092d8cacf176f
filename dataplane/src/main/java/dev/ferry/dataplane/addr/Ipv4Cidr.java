package dev.ferry.dataplane.addr;

import java.util.LinkedHashSet;
import java.util.List;

/**
 * An IPv4 prefix such as 10.96.0.0/12. The base address is normalised (host bits cleared)
 * so that two spellings of the same range are equal.
 *
 * @param base      network address in {@link Ipv4} form, host bits zero
 * @param prefixLen 0..32
 */
public record Ipv4Cidr(int base, int prefixLen) {

    public Ipv4Cidr {
        if (prefixLen < 0 || prefixLen > 32) {
            throw new IllegalArgumentException("prefix length " + prefixLen + " is outside 0..32");
        }
        base = base & mask(prefixLen);
    }

    /** Parses "a.b.c.d/n"; a bare address means /32. */
    public static Ipv4Cidr parse(final String text) {
        final String trimmed = text.trim();
        final int slash = trimmed.indexOf('/');
        if (slash < 0) {
            return new Ipv4Cidr(Ipv4.parse(trimmed), 32);
        }
        final int prefix;
        try {
            prefix = Integer.parseInt(trimmed.substring(slash + 1));
        } catch (final NumberFormatException e) {
            throw new IllegalArgumentException("not an IPv4 CIDR: '" + text + "'");
        }
        if (prefix < 0 || prefix > 32) {
            throw new IllegalArgumentException("not an IPv4 CIDR: '" + text + "' (prefix " + prefix + " outside 0..32)");
        }
        return new Ipv4Cidr(Ipv4.parse(trimmed.substring(0, slash)), prefix);
    }

    public static int mask(final int prefixLen) {
        return prefixLen == 0 ? 0 : -1 << (32 - prefixLen);
    }

    public boolean contains(final int address) {
        return (address & mask(prefixLen)) == base;
    }

    /** True when every address of {@code other} is in this range (it is this range or inside it). */
    public boolean covers(final Ipv4Cidr other) {
        return prefixLen <= other.prefixLen && contains(other.base);
    }

    /** {@code first}, then the ranges of {@code second} not already in it, each once, in order. */
    public static List<Ipv4Cidr> union(final List<Ipv4Cidr> first, final List<Ipv4Cidr> second) {
        final LinkedHashSet<Ipv4Cidr> out = new LinkedHashSet<>(first);
        out.addAll(second);
        return List.copyOf(out);
    }

    public boolean overlaps(final Ipv4Cidr other) {
        final int shorter = Math.min(prefixLen, other.prefixLen);
        return (base & mask(shorter)) == (other.base & mask(shorter));
    }

    @Override
    public String toString() {
        return Ipv4.format(base) + "/" + prefixLen;
    }
}
