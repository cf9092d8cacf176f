package dev.ferry.nativeio.netlink;

import static java.lang.foreign.ValueLayout.JAVA_BYTE;
import static java.lang.foreign.ValueLayout.JAVA_INT_UNALIGNED;
import static java.lang.foreign.ValueLayout.JAVA_SHORT_UNALIGNED;

import java.lang.foreign.MemorySegment;
import java.net.InetAddress;
import java.nio.charset.StandardCharsets;
import java.util.HashMap;
import java.util.Map;

/**
 * Writes one netlink request into a buffer (header, family struct, attributes, nests) and
 * reads attributes of replies. Control path only: it allocates freely.
 */
final class NetlinkMessage {
    private final MemorySegment buf;
    private int length;

    NetlinkMessage(MemorySegment buffer, int type, int flags, int seq) {
        this.buf = buffer;
        buf.asSlice(0, Math.min(buf.byteSize(), 4096)).fill((byte) 0);
        buf.set(JAVA_SHORT_UNALIGNED, NetlinkStructs.NLMSG_TYPE, (short) type);
        buf.set(JAVA_SHORT_UNALIGNED, NetlinkStructs.NLMSG_FLAGS, (short) flags);
        buf.set(JAVA_INT_UNALIGNED, NetlinkStructs.NLMSG_SEQ, seq);
        length = NetlinkStructs.NLMSG_HDRLEN;
    }

    static int align(int n) {
        return (n + 3) & ~3;
    }

    /** Reserves a zeroed family header of {@code size} bytes; returns its offset. */
    int struct(long size) {
        int at = length;
        buf.asSlice(at, size).fill((byte) 0);
        length = align(at + (int) size);
        return at;
    }

    MemorySegment segment() {
        return buf;
    }

    void u8(int off, int v) {
        buf.set(JAVA_BYTE, off, (byte) v);
    }

    void u16(int off, int v) {
        buf.set(JAVA_SHORT_UNALIGNED, off, (short) v);
    }

    void u32(int off, int v) {
        buf.set(JAVA_INT_UNALIGNED, off, v);
    }

    /** Appends an attribute with {@code size} value bytes; returns the value's offset. */
    private int attr(int type, int size) {
        int at = length;
        buf.set(JAVA_SHORT_UNALIGNED, at, (short) (4 + size));
        buf.set(JAVA_SHORT_UNALIGNED, at + 2, (short) type);
        buf.asSlice(at + 4, align(size)).fill((byte) 0);
        length = align(at + 4 + size);
        return at + 4;
    }

    NetlinkMessage attrU8(int type, int v) {
        buf.set(JAVA_BYTE, attr(type, 1), (byte) v);
        return this;
    }

    NetlinkMessage attrU32(int type, int v) {
        buf.set(JAVA_INT_UNALIGNED, attr(type, 4), v);
        return this;
    }

    NetlinkMessage attrBytes(int type, byte[] v) {
        MemorySegment.copy(v, 0, buf, JAVA_BYTE, attr(type, v.length), v.length);
        return this;
    }

    NetlinkMessage attrString(int type, String v) {
        byte[] b = v.getBytes(StandardCharsets.US_ASCII);
        byte[] z = new byte[b.length + 1];
        System.arraycopy(b, 0, z, 0, b.length);
        return attrBytes(type, z);
    }

    NetlinkMessage attrAddress(int type, InetAddress a) {
        return attrBytes(type, a.getAddress());
    }

    /** Starts a nested attribute; pass the result to {@link #endNest}. */
    int beginNest(int type) {
        int at = length;
        attr(type | Rtnl.NLA_F_NESTED, 0);
        return at;
    }

    void endNest(int at) {
        buf.set(JAVA_SHORT_UNALIGNED, at, (short) (length - at));
    }

    /** Sets nlmsg_len; returns the message length. */
    int finish() {
        buf.set(JAVA_INT_UNALIGNED, NetlinkStructs.NLMSG_LEN, length);
        return length;
    }

    /** The attributes between {@code from} and {@code to} of {@code msg}, by type (last wins). */
    static Map<Integer, MemorySegment> attributes(MemorySegment msg, long from, long to) {
        Map<Integer, MemorySegment> out = new HashMap<>();
        long at = from;
        while (at + 4 <= to) {
            int len = Short.toUnsignedInt(msg.get(JAVA_SHORT_UNALIGNED, at));
            int type = Short.toUnsignedInt(msg.get(JAVA_SHORT_UNALIGNED, at + 2)) & Rtnl.NLA_TYPE_MASK;
            if (len < 4 || at + len > to) {
                break;
            }
            out.put(type, msg.asSlice(at + 4, len - 4));
            at += align(len);
        }
        return out;
    }

    static Map<Integer, MemorySegment> nested(MemorySegment attr) {
        return attributes(attr, 0, attr.byteSize());
    }

    static String string(MemorySegment attr) {
        if (attr == null) {
            return null;
        }
        byte[] b = attr.toArray(JAVA_BYTE);
        int n = 0;
        while (n < b.length && b[n] != 0) {
            n++;
        }
        return new String(b, 0, n, StandardCharsets.US_ASCII);
    }

    static int u32(MemorySegment attr, int orElse) {
        return attr == null ? orElse : attr.get(JAVA_INT_UNALIGNED, 0);
    }

    static int u8(MemorySegment attr, int orElse) {
        return attr == null ? orElse : Byte.toUnsignedInt(attr.get(JAVA_BYTE, 0));
    }

    static InetAddress address(MemorySegment attr) {
        if (attr == null) {
            return null;
        }
        try {
            return InetAddress.getByAddress(attr.toArray(JAVA_BYTE));
        } catch (java.net.UnknownHostException e) {
            return null;
        }
    }

    static String mac(MemorySegment attr) {
        if (attr == null) {
            return null;
        }
        StringBuilder sb = new StringBuilder();
        for (byte b : attr.toArray(JAVA_BYTE)) {
            if (!sb.isEmpty()) {
                sb.append(':');
            }
            sb.append(String.format("%02x", b));
        }
        return sb.toString();
    }

    static byte[] parseMac(String mac) {
        String[] p = mac.split(":");
        byte[] out = new byte[p.length];
        for (int i = 0; i < p.length; i++) {
            out[i] = (byte) Integer.parseInt(p[i], 16);
        }
        return out;
    }
}
