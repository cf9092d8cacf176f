package dev.ferry.dataplane.packet;

import dev.ferry.nativeio.IpProtocol;

import java.io.ByteArrayOutputStream;
import java.net.InetAddress;
import java.net.UnknownHostException;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.List;

/**
 * Builds IPv6 test packets: a fixed header, a chain of extension headers, an upper layer with
 * its checksum computed here, independently of {@link Checksums} (a pseudo-header written out
 * byte by byte), so tests of the checksum code do not grade themselves.
 */
public final class Ipv6Packets {
    private final byte[] src;
    private final byte[] dst;
    private final List<int[]> extensions = new ArrayList<>(); // {next-header value, length, fragment word}

    private Ipv6Packets(final String src, final String dst) {
        this.src = address(src);
        this.dst = address(dst);
    }

    public static Ipv6Packets from(final String src, final String dst) {
        return new Ipv6Packets(src, dst);
    }

    /** The 16 bytes of an IPv6 literal. */
    public static byte[] address(final String literal) {
        try {
            final byte[] bytes = InetAddress.getByName(literal).getAddress();
            if (bytes.length != 16) {
                throw new IllegalArgumentException("not IPv6: " + literal);
            }
            return bytes;
        } catch (final UnknownHostException e) {
            throw new IllegalArgumentException(literal, e);
        }
    }

    /** High and low halves of an IPv6 literal, as FlowKey and Ipv6Packet hold them. */
    public static long[] halves(final String literal) {
        final ByteBuffer b = ByteBuffer.wrap(address(literal));
        return new long[] {b.getLong(), b.getLong()};
    }

    public Ipv6Packets hopByHop() {
        return extension(IpProtocol.IPV6_HOP_BY_HOP, 8, 0);
    }

    public Ipv6Packets destinationOptions(final int bytes) {
        return extension(IpProtocol.IPV6_DESTINATION_OPTIONS, bytes, 0);
    }

    public Ipv6Packets routing() {
        return extension(IpProtocol.IPV6_ROUTING, 24, 0);
    }

    /** AH with {@code bytes} in all (a multiple of 4; its length field counts 4-byte words less 2). */
    public Ipv6Packets authentication(final int bytes) {
        return extension(IpProtocol.AH, bytes, 0);
    }

    /** A fragment header: offset in 8-byte units, and whether more fragments follow. */
    public Ipv6Packets fragment(final int offsetUnits, final boolean more) {
        return extension(IpProtocol.IPV6_FRAGMENT, 8, offsetUnits << 3 | (more ? 1 : 0));
    }

    private Ipv6Packets extension(final int type, final int length, final int fragmentWord) {
        extensions.add(new int[] {type, length, fragmentWord});
        return this;
    }

    public byte[] udp(final int srcPort, final int dstPort, final byte[] payload) {
        final ByteBuffer l4 = ByteBuffer.allocate(8 + payload.length);
        l4.putShort((short) srcPort).putShort((short) dstPort).putShort((short) (8 + payload.length)).putShort((short) 0).put(payload);
        return build(IpProtocol.UDP, l4.array(), 6);
    }

    public byte[] tcp(final int srcPort, final int dstPort, final int flags, final byte[] payload) {
        final ByteBuffer l4 = ByteBuffer.allocate(20 + payload.length);
        l4.putShort((short) srcPort).putShort((short) dstPort).putInt(1000).putInt(flags == 0x02 ? 0 : 2000);
        l4.put((byte) 0x50).put((byte) flags).putShort((short) 64240).putShort((short) 0).putShort((short) 0).put(payload);
        return build(IpProtocol.TCP, l4.array(), 16);
    }

    public byte[] sctp(final int srcPort, final int dstPort) {
        final ByteBuffer l4 = ByteBuffer.allocate(12 + 16);
        l4.putShort((short) srcPort).putShort((short) dstPort).putInt(0x01020304).putInt(0);
        l4.put((byte) 1).put((byte) 0).putShort((short) 16).putInt(7).putInt(65535).putShort((short) 1).putShort((short) 1);
        final java.util.zip.CRC32C crc = new java.util.zip.CRC32C();
        crc.update(l4.array());
        l4.order(java.nio.ByteOrder.LITTLE_ENDIAN).putInt(8, (int) crc.getValue()); // as Linux stores it
        return build(IpProtocol.SCTP, l4.array(), -1);
    }

    public byte[] icmpEcho(final int type, final int id, final int sequence) {
        final ByteBuffer l4 = ByteBuffer.allocate(8 + 8);
        l4.put((byte) type).put((byte) 0).putShort((short) 0).putShort((short) id).putShort((short) sequence).putLong(0x0102030405060708L);
        return build(IpProtocol.ICMPV6, l4.array(), 2);
    }

    /** An ICMPv6 error (types 1-4) quoting {@code quoted} (cut by the caller), with {@code word} at 4 (Packet Too Big: the MTU). */
    public byte[] icmpError(final int type, final int code, final int word, final byte[] quoted) {
        final ByteBuffer l4 = ByteBuffer.allocate(8 + quoted.length);
        l4.put((byte) type).put((byte) code).putShort((short) 0).putInt(word).put(quoted);
        return build(IpProtocol.ICMPV6, l4.array(), 2);
    }

    /** The upper layer as given (no checksum computed). */
    public byte[] raw(final int protocol, final byte[] l4) {
        return build(protocol, l4, -1);
    }

    private byte[] build(final int protocol, final byte[] l4, final int checksumAt) {
        if (checksumAt >= 0) {
            final int sum = checksum(src, dst, protocol, l4);
            l4[checksumAt] = (byte) (sum >>> 8);
            l4[checksumAt + 1] = (byte) sum;
        }
        final ByteArrayOutputStream chain = new ByteArrayOutputStream();
        for (int i = 0; i < extensions.size(); i++) {
            final int[] e = extensions.get(i);
            final int next = i + 1 < extensions.size() ? extensions.get(i + 1)[0] : protocol;
            final byte[] h = new byte[e[1]];
            h[0] = (byte) next;
            if (e[0] == IpProtocol.IPV6_FRAGMENT) {
                h[2] = (byte) (e[2] >>> 8);
                h[3] = (byte) e[2];
                h[7] = 42; // identification
            } else if (e[0] == IpProtocol.AH) {
                h[1] = (byte) (e[1] / 4 - 2);
            } else {
                h[1] = (byte) (e[1] / 8 - 1);
                h[2] = 1; // a PadN option filling the rest
                h[3] = (byte) (e[1] - 4);
            }
            chain.writeBytes(h);
        }
        final int payload = chain.size() + l4.length;
        final ByteBuffer p = ByteBuffer.allocate(40 + payload);
        p.putInt(0x6000_0000).putShort((short) payload);
        p.put((byte) (extensions.isEmpty() ? protocol : extensions.getFirst()[0])).put((byte) 64);
        p.put(src).put(dst).put(chain.toByteArray()).put(l4);
        return p.array();
    }

    /** The upper-layer checksum over the IPv6 pseudo-header, written out as RFC 8200 section 8.1 draws it. */
    public static int checksum(final byte[] src, final byte[] dst, final int protocol, final byte[] l4) {
        final ByteBuffer pseudo = ByteBuffer.allocate(40 + l4.length + 1);
        pseudo.put(src).put(dst).putInt(l4.length).put(new byte[3]).put((byte) protocol).put(l4);
        final byte[] all = pseudo.array();
        long sum = 0;
        for (int i = 0; i + 1 < all.length; i += 2) {
            sum += (all[i] & 0xFF) << 8 | all[i + 1] & 0xFF;
        }
        while (sum >>> 16 != 0) {
            sum = (sum & 0xFFFF) + (sum >>> 16);
        }
        final int result = (int) (~sum & 0xFFFF);
        return protocol == IpProtocol.UDP && result == 0 ? 0xFFFF : result;
    }
}
