package dev.ferry.conntrack;

import dev.ferry.nativeio.IpProtocol;

/**
 * A mutable, reusable 5-tuple: protocol, source and destination address and port. Addresses are
 * 128 bits, held as two longs each (high and low halves, network order), so IPv6 fits without a
 * change of layout; IPv4 addresses are stored IPv4-mapped ({@code ::ffff:a.b.c.d}). Workers keep
 * one or two instances and refill them per packet: nothing here allocates except
 * {@link #toString()}.
 *
 * <p>{@link #hash()} is a fixed function of the tuple (no per-process seed), because the hash
 * decides slot positions in a table that outlives the process in a mapped file.
 */
public final class FlowKey {

    /** Low half of an IPv4-mapped address without the IPv4 part: {@code 0000:0000:ffff:}. */
    static final long IPV4_MAPPED_PREFIX = 0x0000_FFFF_0000_0000L;

    private int protocol;
    private int srcPort;
    private int dstPort;
    private long srcHi;
    private long srcLo;
    private long dstHi;
    private long dstLo;

    /**
     * Sets an IPv4 tuple.
     *
     * @param protocol IP protocol number (6 TCP, 17 UDP, ...), 0..255.
     * @param srcAddr  source IPv4 address, first octet most significant.
     * @param srcPort  source port (or ICMP identifier), 0..65535.
     * @param dstAddr  destination IPv4 address, first octet most significant.
     * @param dstPort  destination port, 0..65535.
     * @return this.
     */
    public FlowKey setIpv4(final int protocol, final int srcAddr, final int srcPort, final int dstAddr, final int dstPort) {
        this.protocol = protocol & 0xFF;
        this.srcPort = srcPort & 0xFFFF;
        this.dstPort = dstPort & 0xFFFF;
        this.srcHi = 0;
        this.srcLo = IPV4_MAPPED_PREFIX | (srcAddr & 0xFFFF_FFFFL);
        this.dstHi = 0;
        this.dstLo = IPV4_MAPPED_PREFIX | (dstAddr & 0xFFFF_FFFFL);
        return this;
    }

    /**
     * Sets a tuple from 128-bit addresses (IPv6, or IPv4-mapped).
     *
     * @param protocol IP protocol number, 0..255.
     * @param srcHi    first 8 bytes of the source address, network order.
     * @param srcLo    last 8 bytes of the source address.
     * @param srcPort  source port, 0..65535.
     * @param dstHi    first 8 bytes of the destination address.
     * @param dstLo    last 8 bytes of the destination address.
     * @param dstPort  destination port, 0..65535.
     * @return this.
     */
    public FlowKey set(
        final int protocol,
        final long srcHi,
        final long srcLo,
        final int srcPort,
        final long dstHi,
        final long dstLo,
        final int dstPort) {
        this.protocol = protocol & 0xFF;
        this.srcPort = srcPort & 0xFFFF;
        this.dstPort = dstPort & 0xFFFF;
        this.srcHi = srcHi;
        this.srcLo = srcLo;
        this.dstHi = dstHi;
        this.dstLo = dstLo;
        return this;
    }

    /** @return IP protocol number. */
    public int protocol() {
        return protocol;
    }

    /** @return source port. */
    public int srcPort() {
        return srcPort;
    }

    /** @return destination port. */
    public int dstPort() {
        return dstPort;
    }

    /** @return first 8 bytes of the source address. */
    public long srcAddrHi() {
        return srcHi;
    }

    /** @return last 8 bytes of the source address. */
    public long srcAddrLo() {
        return srcLo;
    }

    /** @return first 8 bytes of the destination address. */
    public long dstAddrHi() {
        return dstHi;
    }

    /** @return last 8 bytes of the destination address. */
    public long dstAddrLo() {
        return dstLo;
    }

    /** @return true when both addresses are IPv4-mapped. */
    public boolean isIpv4() {
        return isMapped(srcHi, srcLo) && isMapped(dstHi, dstLo);
    }

    /** @return source IPv4 address (valid when {@link #isIpv4()}). */
    public int srcIpv4() {
        return (int)srcLo;
    }

    /** @return destination IPv4 address (valid when {@link #isIpv4()}). */
    public int dstIpv4() {
        return (int)dstLo;
    }

    /**
     * Writes the reverse tuple (destination to source) into {@code out}.
     *
     * @param out key to overwrite; may be this.
     * @return out.
     */
    public FlowKey reverseInto(final FlowKey out) {
        final long sHi = srcHi;
        final long sLo = srcLo;
        final int sPort = srcPort;
        out.protocol = protocol;
        out.srcHi = dstHi;
        out.srcLo = dstLo;
        out.srcPort = dstPort;
        out.dstHi = sHi;
        out.dstLo = sLo;
        out.dstPort = sPort;
        return out;
    }

    /**
     * Copies another key into this one.
     *
     * @param other source.
     * @return this.
     */
    public FlowKey copyFrom(final FlowKey other) {
        protocol = other.protocol;
        srcPort = other.srcPort;
        dstPort = other.dstPort;
        srcHi = other.srcHi;
        srcLo = other.srcLo;
        dstHi = other.dstHi;
        dstLo = other.dstLo;
        return this;
    }

    /**
     * Protocol and ports packed as stored in the table: {@code protocol << 32 | srcPort << 16 | dstPort}.
     *
     * @return the packed word.
     */
    long meta() {
        return ((long)protocol << 32) | ((long)srcPort << 16) | dstPort;
    }

    void setFromStored(final long meta, final long srcHi, final long srcLo, final long dstHi, final long dstLo) {
        this.protocol = (int)(meta >>> 32) & 0xFF;
        this.srcPort = (int)(meta >>> 16) & 0xFFFF;
        this.dstPort = (int)meta & 0xFFFF;
        this.srcHi = srcHi;
        this.srcLo = srcLo;
        this.dstHi = dstHi;
        this.dstLo = dstLo;
    }

    /**
     * A well-mixed 32-bit hash of the tuple, the same in every process (the table's slot positions
     * persist in a mapped file).
     *
     * @return the hash.
     */
    public int hash() {
        return hash(meta(), srcHi, srcLo, dstHi, dstLo);
    }

    static int hash(final long meta, final long srcHi, final long srcLo, final long dstHi, final long dstLo) {
        long h = mix(0x9E37_79B9_7F4A_7C15L ^ meta);
        h = mix(h ^ srcHi);
        h = mix(h + srcLo);
        h = mix(h ^ dstHi);
        h = mix(h + dstLo);
        return (int)(h ^ (h >>> 32));
    }

    private static long mix(final long value) {
        // SplitMix64 / Stafford variant 13 finaliser.
        long z = value;
        z = (z ^ (z >>> 30)) * 0xBF58_476D_1CE4_E5B9L;
        z = (z ^ (z >>> 27)) * 0x94D0_49BB_1331_11EBL;
        return z ^ (z >>> 31);
    }

    /** {@inheritDoc} */
    @Override
    public boolean equals(final Object obj) {
        return obj instanceof FlowKey other &&
            protocol == other.protocol && srcPort == other.srcPort && dstPort == other.dstPort &&
            srcHi == other.srcHi && srcLo == other.srcLo && dstHi == other.dstHi && dstLo == other.dstLo;
    }

    /** {@inheritDoc} */
    @Override
    public int hashCode() {
        return hash();
    }

    /**
     * Human-readable form, e.g. {@code "TCP 10.0.0.1:1234 -> 10.96.0.10:80"}, IPv6 as
     * {@code "[2001:db8:0:0:0:0:0:1]:80"}.
     */
    @Override
    public String toString() {
        final StringBuilder sb = new StringBuilder(64);
        sb.append(IpProtocol.name(protocol)).append(' ');
        appendAddress(sb, srcHi, srcLo, srcPort);
        sb.append(" -> ");
        appendAddress(sb, dstHi, dstLo, dstPort);
        return sb.toString();
    }

    static boolean isMapped(final long hi, final long lo) {
        return hi == 0 && (lo & 0xFFFF_FFFF_0000_0000L) == IPV4_MAPPED_PREFIX;
    }

    private static void appendAddress(final StringBuilder sb, final long hi, final long lo, final int port) {
        if (isMapped(hi, lo)) {
            sb.append((lo >>> 24) & 0xFF).append('.').append((lo >>> 16) & 0xFF).append('.')
                .append((lo >>> 8) & 0xFF).append('.').append(lo & 0xFF);
        } else {
            sb.append('[');
            for (int i = 0; i < 8; i++) {
                final long half = i < 4 ? hi : lo;
                final int shift = 48 - 16 * (i & 3);
                if (i > 0) {
                    sb.append(':');
                }
                sb.append(Long.toHexString((half >>> shift) & 0xFFFF));
            }
            sb.append(']');
        }
        sb.append(':').append(port);
    }
}
