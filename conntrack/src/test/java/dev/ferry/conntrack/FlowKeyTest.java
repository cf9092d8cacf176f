package dev.ferry.conntrack;

import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertTrue;

class FlowKeyTest {
    static int ip(final int a, final int b, final int c, final int d) {
        return (a << 24) | (b << 16) | (c << 8) | d;
    }

    @Test
    void shouldStoreIpv4AsIpv4MappedAndReadItBack() {
        final FlowKey key = new FlowKey().setIpv4(6, ip(10, 0, 0, 1), 1234, ip(192, 168, 255, 254), 80);

        assertTrue(key.isIpv4());
        assertEquals(ip(10, 0, 0, 1), key.srcIpv4());
        assertEquals(ip(192, 168, 255, 254), key.dstIpv4());
        assertEquals(0L, key.srcAddrHi());
        assertEquals(0x0000_FFFF_0A00_0001L, key.srcAddrLo());
        assertEquals(0x0000_FFFF_C0A8_FFFEL, key.dstAddrLo());
        assertEquals(6, key.protocol());
        assertEquals(1234, key.srcPort());
        assertEquals(80, key.dstPort());
    }

    @Test
    void shouldPrintTupleLikeConntrackTool() {
        assertEquals("TCP 10.0.0.1:1234 -> 10.96.0.10:80",
            new FlowKey().setIpv4(6, ip(10, 0, 0, 1), 1234, ip(10, 96, 0, 10), 80).toString());
        assertEquals("UDP 255.255.255.255:65535 -> 0.0.0.0:0",
            new FlowKey().setIpv4(17, -1, 65535, 0, 0).toString());
        assertEquals("TCP [2001:db8:0:0:0:0:0:1]:443 -> [0:0:0:0:0:0:0:1]:80",
            new FlowKey().set(6, 0x2001_0db8_0000_0000L, 1, 443, 0, 1, 80).toString());
    }

    @Test
    void shouldReverseTupleIncludingInPlace() {
        final FlowKey key = new FlowKey().setIpv4(17, ip(10, 0, 0, 1), 5000, ip(10, 96, 0, 10), 53);
        final FlowKey out = new FlowKey();

        assertSame(out, key.reverseInto(out));
        assertEquals("UDP 10.96.0.10:53 -> 10.0.0.1:5000", out.toString());
        assertEquals(key, out.reverseInto(out).reverseInto(out).reverseInto(out));
        assertEquals(key, new FlowKey().copyFrom(key));
    }

    @Test
    void shouldNotTreatIpv6AsIpv4() {
        assertFalse(new FlowKey().set(6, 0x2001_0db8_0000_0000L, 1, 443, 0, 0x0000_FFFF_0A00_0001L, 80).isIpv4());
    }

    @Test
    void shouldHashDeterministicallyAcrossProcesses() {
        final FlowKey key = new FlowKey().setIpv4(6, ip(10, 0, 0, 1), 1234, ip(10, 96, 0, 10), 80);
        // Pinned: slot positions persist in mapped files, so the hash must never change silently.
        assertEquals(PINNED_HASH, key.hash());
        assertEquals(key.hash(), key.hashCode());
        assertNotEquals(key.hash(), key.reverseInto(new FlowKey()).hash());
        assertNotEquals(key.hash(), new FlowKey().setIpv4(6, ip(10, 0, 0, 1), 1235, ip(10, 96, 0, 10), 80).hash());
    }

    static final int PINNED_HASH = -940398745;
}
