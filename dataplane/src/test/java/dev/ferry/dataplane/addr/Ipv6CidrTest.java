package dev.ferry.dataplane.addr;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.ValueSource;

import java.math.BigInteger;
import java.util.SplittableRandom;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** IPv6 prefixes: parsing, the normalised base, membership at every prefix length. */
class Ipv6CidrTest {
    @ParameterizedTest(name = "{0} contains {1}: {2}")
    @CsvSource({
        "fd00:10:96::/112, fd00:10:96::a, true",
        "fd00:10:96::/112, fd00:10:96::1:a, false",
        "fd00:10:96::/112, fd00:10:97::a, false",
        "fd00:244::/56, fd00:244:0:ff::1, true",
        "fd00:244::/56, fd00:244:0:100::1, false",
        "fd00:244:0:1::/64, fd00:244:0:1:ffff:ffff:ffff:ffff, true",
        "fd00:244:0:1::/64, fd00:244:0:2::, false",
        "::/0, 2001:db8::1, true",
        "2001:db8::1/128, 2001:db8::1, true",
        "2001:db8::1/128, 2001:db8::2, false",
        "2001:db8::1, 2001:db8::1, true",
        "2001:db8:ffff::/33, 2001:db8:8000::, true",
        "2001:db8:ffff::/33, 2001:db8:7fff::, false",
    })
    void shouldTellMembership(final String cidr, final String address, final boolean inside) {
        assertEquals(inside, Ipv6Cidr.parse(cidr).contains(Ipv6Address.parse(address)));
    }

    @Test
    void shouldNormaliseTheBaseSoThatSpellingsAreEqual() {
        assertEquals(Ipv6Cidr.parse("fd00:10:96::/112"), Ipv6Cidr.parse("fd00:10:96::ab/112"));
        assertEquals("fd00:10:96::/112", Ipv6Cidr.parse("fd00:10:96::ab/112").toString());
        assertTrue(Ipv6Cidr.parse("fd00::/8").covers(Ipv6Cidr.parse("fd00:10:96::/112")));
        assertFalse(Ipv6Cidr.parse("fd00:10:96::/112").covers(Ipv6Cidr.parse("fd00::/8")));
        assertEquals(65_536, Ipv6Cidr.parse("fd00:10:96::/112").size());
        assertEquals(Long.MAX_VALUE, Ipv6Cidr.parse("fd00:244:0:1::/64").size());
    }

    @Test
    void shouldAgreeWithBigIntegerArithmeticAtEveryPrefixLength() {
        final SplittableRandom random = new SplittableRandom(128);
        for (int prefix = 0; prefix <= 128; prefix++) {
            for (int round = 0; round < 200; round++) {
                final Ipv6Address base = new Ipv6Address(random.nextLong(), random.nextLong());
                final Ipv6Address address = random.nextBoolean() ? base
                    : new Ipv6Address(base.hi() ^ (1L << random.nextInt(64)), base.lo() ^ (random.nextBoolean() ? 1L << random.nextInt(64) : 0));
                final Ipv6Cidr cidr = new Ipv6Cidr(base, prefix);
                final boolean expected = value(base).shiftRight(128 - prefix).equals(value(address).shiftRight(128 - prefix));
                assertEquals(expected, cidr.contains(address), cidr + " contains " + address);
            }
        }
    }

    private static BigInteger value(final Ipv6Address a) {
        return new BigInteger(1, java.nio.ByteBuffer.allocate(16).putLong(a.hi()).putLong(a.lo()).array());
    }

    @ParameterizedTest
    @ValueSource(strings = {"fd00::/129", "fd00::/-1", "fd00::/x", "10.96.0.0/12", "fd00::/", "/64"})
    void shouldRefuseWhatIsNotAPrefix(final String text) {
        assertThrows(IllegalArgumentException.class, () -> Ipv6Cidr.parse(text));
    }
}
