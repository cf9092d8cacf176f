package dev.ferry.control.dns;

import dev.ferry.dataplane.addr.Ipv4;

import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.util.Locale;

/**
 * One resource record of the zone with its RDATA already in wire form (RFC 1035 section 3.3),
 * encoded once when the zone is compiled so that answering copies bytes and encodes nothing but
 * owner names. Names are lower case without the trailing dot; names inside RDATA (CNAME, PTR,
 * SRV and SOA targets) are written uncompressed, which RFC 3597 requires of SRV and allows of all.
 *
 * @param name  the owner name, e.g. "web.default.svc.cluster.local"
 * @param type  the RR type code (1 A, 5 CNAME, 6 SOA, 12 PTR, 16 TXT, 33 SRV)
 * @param rdata the RDATA bytes
 */
public record Rr(String name, int type, byte[] rdata) {
    public static final int A = 1;
    public static final int NS = 2;
    public static final int CNAME = 5;
    public static final int SOA = 6;
    public static final int PTR = 12;
    public static final int TXT = 16;
    public static final int AAAA = 28;
    public static final int SRV = 33;
    public static final int OPT = 41;
    public static final int ANY = 255;
    /** Longest name on the wire (RFC 1035 section 2.3.4), and longest label. */
    static final int MAX_NAME_BYTES = 255;
    static final int MAX_LABEL_BYTES = 63;

    static Rr a(final String name, final int address) {
        return new Rr(name, A, new byte[] {(byte) (address >>> 24), (byte) (address >>> 16), (byte) (address >>> 8), (byte) address});
    }

    static Rr cname(final String name, final String target) {
        return new Rr(name, CNAME, wireName(target));
    }

    static Rr ptr(final String name, final String target) {
        return new Rr(name, PTR, wireName(target));
    }

    static Rr srv(final String name, final int priority, final int weight, final int port, final String target) {
        final ByteArrayOutputStream out = new ByteArrayOutputStream();
        writeShort(out, priority);
        writeShort(out, weight);
        writeShort(out, port);
        out.writeBytes(wireName(target));
        return new Rr(name, SRV, out.toByteArray());
    }

    static Rr txt(final String name, final String text) {
        final byte[] bytes = text.getBytes(StandardCharsets.US_ASCII);
        final byte[] rdata = new byte[bytes.length + 1];
        rdata[0] = (byte) bytes.length;
        System.arraycopy(bytes, 0, rdata, 1, bytes.length);
        return new Rr(name, TXT, rdata);
    }

    /** SOA with the timers CoreDNS's kubernetes plugin uses (refresh 7200, retry 1800, expire 86400); minimum is the negative-caching TTL. */
    static Rr soa(final String name, final String mname, final String rname, final long serial, final long minimumSeconds) {
        final ByteArrayOutputStream out = new ByteArrayOutputStream();
        out.writeBytes(wireName(mname));
        out.writeBytes(wireName(rname));
        for (final long value : new long[] {serial, 7200, 1800, 86400, minimumSeconds}) {
            writeShort(out, (int) (value >>> 16));
            writeShort(out, (int) value);
        }
        return new Rr(name, SOA, out.toByteArray());
    }

    /** "4.3.2.1.in-addr.arpa" for 1.2.3.4. */
    static String reverseName(final int address) {
        return (address & 0xFF) + "." + (address >>> 8 & 0xFF) + "." + (address >>> 16 & 0xFF) + "." + (address >>> 24) + ".in-addr.arpa";
    }

    /** "10-244-1-5": the name a headless endpoint without a hostname gets, as CoreDNS names it. */
    static String dashed(final int address) {
        return Ipv4.format(address).replace('.', '-');
    }

    /** Bytes this record takes in a message when its owner name is written uncompressed (as Netty's encoder writes it). */
    int wireLength() {
        return wireNameLength(name) + 10 + rdata.length;
    }

    /** Bytes of {@code name} on the wire, uncompressed: each label with its length byte, then the root's zero. */
    static int wireNameLength(final String name) {
        return name.isEmpty() ? 1 : name.length() + 2;
    }

    /**
     * The name as labels on the wire. Throws {@link IllegalArgumentException} for a name DNS cannot
     * carry (an empty label, a label over 63 bytes, more than 255 bytes in all).
     */
    static byte[] wireName(final String name) {
        final ByteArrayOutputStream out = new ByteArrayOutputStream(name.length() + 2);
        if (!name.isEmpty()) {
            for (final String label : name.split("\\.", -1)) {
                final byte[] bytes = label.getBytes(StandardCharsets.US_ASCII);
                if (bytes.length == 0 || bytes.length > MAX_LABEL_BYTES) {
                    throw new IllegalArgumentException("'" + name + "' cannot be a DNS name: a label is empty or longer than 63 bytes");
                }
                out.write(bytes.length);
                out.writeBytes(bytes);
            }
        }
        out.write(0);
        if (out.size() > MAX_NAME_BYTES) {
            throw new IllegalArgumentException("'" + name + "' cannot be a DNS name: longer than 255 bytes");
        }
        return out.toByteArray();
    }

    /** A query name as the zone keys it: lower case, no trailing dot ("." is the root, ""). */
    static String normalize(final String name) {
        final String lower = name.toLowerCase(Locale.ROOT);
        return lower.endsWith(".") ? lower.substring(0, lower.length() - 1) : lower;
    }

    private static void writeShort(final ByteArrayOutputStream out, final int value) {
        out.write(value >>> 8 & 0xFF);
        out.write(value & 0xFF);
    }
}
