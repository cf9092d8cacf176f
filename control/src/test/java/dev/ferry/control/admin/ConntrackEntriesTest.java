package dev.ferry.control.admin;

import dev.ferry.dataplane.addr.Ipv6Address;
import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;

/** How /conntrack writes an entry's addresses: IPv4-mapped ones as dotted quads, IPv6 in RFC 5952's form. */
class ConntrackEntriesTest {
    @Test
    void shouldWriteIpv4AsADottedQuadAndIpv6Canonically() {
        final Ipv6Address v4 = Ipv6Address.parse("::ffff:10.96.0.10");
        assertEquals("10.96.0.10", ConntrackEntries.address(v4.hi(), v4.lo()));
        final Ipv6Address v6 = Ipv6Address.parse("fd00:10:244:0:0:0:0:5");
        assertEquals("fd00:10:244::5", ConntrackEntries.address(v6.hi(), v6.lo()));
    }
}
