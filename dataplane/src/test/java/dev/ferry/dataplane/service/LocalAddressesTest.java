package dev.ferry.dataplane.service;

import dev.ferry.dataplane.addr.Ipv4;
import dev.ferry.dataplane.addr.Ipv4Cidr;
import org.junit.jupiter.api.Test;

import java.util.List;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

class LocalAddressesTest {

    private static List<Ipv4Cidr> cidrs(final String... text) {
        return Stream.of(text).map(Ipv4Cidr::parse).toList();
    }

    @Test
    void shouldHoldNothingUntilFilled() {
        final LocalAddresses local = new LocalAddresses();
        assertFalse(local.contains(Ipv4.parse("127.0.0.1")));
        assertEquals(List.of(), local.describe());
    }

    @Test
    void shouldMatchHostsAndWiderPrefixes() {
        // addresses on both sides of the sign bit, where a signed sort must still find them
        final LocalAddresses local = LocalAddresses.of(cidrs("198.18.0.11", "10.0.2.15", "255.255.255.254", "127.0.0.0/8"));
        for (final String yes : List.of("198.18.0.11", "10.0.2.15", "255.255.255.254", "127.0.0.1", "127.255.0.9")) {
            assertTrue(local.contains(Ipv4.parse(yes)), yes);
        }
        for (final String no : List.of("198.18.0.12", "10.0.2.14", "128.0.0.1", "0.0.0.0", "255.255.255.255")) {
            assertFalse(local.contains(Ipv4.parse(no)), no);
        }
        assertEquals(List.of("10.0.2.15", "198.18.0.11", "255.255.255.254", "127.0.0.0/8"), local.describe());
    }

    @Test
    void shouldReplaceTheWholeSet() {
        final LocalAddresses local = LocalAddresses.of(cidrs("172.17.0.1", "198.19.0.0/16"));
        local.replace(cidrs("172.18.0.1"));
        assertFalse(local.contains(Ipv4.parse("172.17.0.1")), "a removed address is gone");
        assertFalse(local.contains(Ipv4.parse("198.19.1.1")), "a removed prefix is gone");
        assertTrue(local.contains(Ipv4.parse("172.18.0.1")));
    }
}
