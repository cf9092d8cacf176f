package dev.ferry.nativeio.testing;

import java.nio.ByteBuffer;

/** Builds and reads IPv4/UDP packets for tests, with real checksums. */
public final class Ipv4 {
    private Ipv4() {
    }

    public static byte[] addr(String dotted) {
        String[] p = dotted.split("\\.");
        return new byte[] {(byte) Integer.parseInt(p[0]), (byte) Integer.parseInt(p[1]),
            (byte) Integer.parseInt(p[2]), (byte) Integer.parseInt(p[3])};
    }

    /** An IPv4 header + UDP header + payload. */
    public static byte[] udp(String src, String dst, int sport, int dport, byte[] payload) {
        int len = 20 + 8 + payload.length;
        ByteBuffer b = ByteBuffer.allocate(len);
        b.put((byte) 0x45).put((byte) 0).putShort((short) len).putShort((short) 0x1234).putShort((short) 0x4000)
                .put((byte) 64).put((byte) 17).putShort((short) 0).put(addr(src)).put(addr(dst));
        b.putShort(10, (short) checksum(b.array(), 0, 20, 0));
        b.putShort((short) sport).putShort((short) dport).putShort((short) (8 + payload.length)).putShort((short) 0)
                .put(payload);
        long pseudo = sum(b.array(), 12, 8) + 17 + 8 + payload.length;
        int c = checksum(b.array(), 20, 8 + payload.length, pseudo);
        b.putShort(26, (short) (c == 0 ? 0xffff : c));
        return b.array();
    }

    private static long sum(byte[] d, int off, int len) {
        long s = 0;
        for (int i = 0; i + 1 < len; i += 2) {
            s += ((d[off + i] & 0xff) << 8) | (d[off + i + 1] & 0xff);
        }
        if ((len & 1) == 1) {
            s += (d[off + len - 1] & 0xff) << 8;
        }
        return s;
    }

    static int checksum(byte[] d, int off, int len, long initial) {
        long s = sum(d, off, len) + initial;
        while ((s >> 16) != 0) {
            s = (s & 0xffff) + (s >> 16);
        }
        return (int) (~s & 0xffff);
    }

    /** True when {@code p} is IPv4 UDP to {@code dport}. */
    public static boolean isUdpTo(byte[] p, int len, int dport) {
        return len >= 28 && (p[0] >> 4) == 4 && p[9] == 17
                && (((p[22] & 0xff) << 8) | (p[23] & 0xff)) == dport;
    }

    /** 0 when the IPv4 header checksum is right. */
    public static int verifyIpHeader(byte[] p) {
        int ihl = (p[0] & 0xf) * 4;
        return checksum(p, 0, ihl, 0);
    }

    /** 0 when the UDP checksum (with pseudo-header) is right. */
    public static int verifyUdp(byte[] p) {
        int ihl = (p[0] & 0xf) * 4;
        int udpLen = ((p[ihl + 4] & 0xff) << 8) | (p[ihl + 5] & 0xff);
        long pseudo = sum(p, 12, 8) + 17 + udpLen;
        return checksum(p, ihl, udpLen, pseudo);
    }
}
