package dev.ferry.dataplane.addr;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.ValueSource;

import java.net.InetAddress;
import java.nio.ByteBuffer;
import java.util.SplittableRandom;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** IPv6 text both ways: RFC 4291's forms in, RFC 5952's canonical form out. */
class Ipv6AddressTest {
    @ParameterizedTest(name = "{0} -> {1}")
    @CsvSource({
        // RFC 5952's own examples (sections 4.1-4.3) and the corners of '::'
        "2001:db8:0:0:1:0:0:1, 2001:db8::1:0:0:1",
        "2001:0db8:0:0:1:0:0:1, 2001:db8::1:0:0:1",
        "2001:db8::0:1, 2001:db8::1",
        "2001:db8:0:1:1:1:1:1, 2001:db8:0:1:1:1:1:1",
        "2001:db8:0:0:1:0:0:0, 2001:db8:0:0:1::",
        "2001:DB8::AbCd, 2001:db8::abcd",
        "::, ::",
        "::1, ::1",
        "1::, 1::",
        "0:0:0:0:0:0:0:0, ::",
        "fd00:10:96::a, fd00:10:96::a",
        "fe80:0:0:0:0:0:0:1, fe80::1",
        "1:0:0:2:0:0:0:3, 1:0:0:2::3",
        "::ffff:10.96.0.10, ::ffff:10.96.0.10",
        "::ffff:a60:a, ::ffff:10.96.0.10",
        "64:ff9b::192.0.2.33, 64:ff9b::c000:221",
        "  2001:db8::1  , 2001:db8::1",
    })
    void shouldParseAndWriteTheCanonicalForm(final String text, final String canonical) {
        assertEquals(canonical, Ipv6Address.parse(text).toString());
    }

    @ParameterizedTest
    @ValueSource(strings = {"", ":", ":1", "1:", "1:2:3:4:5:6:7", "1:2:3:4:5:6:7:8:9", "1::2::3", ":::", "1:::2",
        "12345::", "g::", "::1%eth0", "[::1]", "::1/128", "1:2:3:4:5:6:7::8", "::1.2.3", "::1.2.3.256",
        "1:2:3:4:5:6:7:1.2.3.4", "::ab.1.2.3", "10.96.0.10", "localhost", "::\u0661"})
    void shouldRefuseWhatIsNotAnAddress(final String text) {
        final IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> Ipv6Address.parse(text));
        assertTrue(e.getMessage().contains("'" + text + "'"), e.getMessage());
        assertFalse(Ipv6Address.isValid(text));
    }

    @Test
    void shouldAgreeWithTheJdkOnRandomAddressesAndReadItsOwnText() throws Exception {
        final SplittableRandom random = new SplittableRandom(5952);
        for (int round = 0; round < 20_000; round++) {
            long hi = 0;
            long lo = 0;
            for (int g = 0; g < 8; g++) { // runs of zero groups are what '::' is about: make them common
                final long group = random.nextInt(3) == 0 ? 0 : random.nextInt(0x10000);
                if (g < 4) {
                    hi = hi << 16 | group;
                } else {
                    lo = lo << 16 | group;
                }
            }
            final Ipv6Address address = new Ipv6Address(hi, lo);
            final String text = address.toString();
            if (!address.isIpv4Mapped()) { // the JDK turns those into IPv4 addresses
                // a literal (it has colons): the JDK parses it, never looks a name up
                final ByteBuffer jdk = ByteBuffer.wrap(InetAddress.getByName(text).getAddress());
                assertEquals(hi, jdk.getLong(), text);
                assertEquals(lo, jdk.getLong(), text);
            }
            assertEquals(address, Ipv6Address.parse(text), text);
            assertFalse(text.contains(":::") || text.indexOf("::") != text.lastIndexOf("::"), text);
        }
    }

    @Test
    void shouldMapIpv4Addresses() {
        final Ipv6Address mapped = Ipv6Address.ipv4Mapped(Ipv4.parse("198.18.0.11"));
        assertTrue(mapped.isIpv4Mapped());
        assertEquals("::ffff:198.18.0.11", mapped.toString());
        assertEquals(mapped, Ipv6Address.parse("::ffff:198.18.0.11"));
        assertFalse(Ipv6Address.parse("fd00::ffff:c612:b").isIpv4Mapped());
    }
}
