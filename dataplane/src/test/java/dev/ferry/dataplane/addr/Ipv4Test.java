package dev.ferry.dataplane.addr;

import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.ValueSource;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class Ipv4Test {
    @ParameterizedTest
    @CsvSource(delimiter = '|', value = {
        "10.96.0.1       | 10.96.0.1",
        "0.0.0.0         | 0.0.0.0",
        "255.255.255.255 | 255.255.255.255",
        "' 10.0.0.1 '    | 10.0.0.1",
        "010.001.0.1     | 10.1.0.1",
        "198.18.0.11     | 198.18.0.11"})
    void shouldParseDottedQuads(final String text, final String formatted) {
        assertTrue(Ipv4.isValid(text));
        assertEquals(formatted, Ipv4.format(Ipv4.parse(text)));
    }

    @ParameterizedTest
    @ValueSource(strings = {"", ".", "1.2.3", "1.2.3.4.", ".1.2.3", "1..2.3", "1.2.3.4.5", "1234.1.1.1", "1.2.3.0004", "256.0.0.1",
        "1.2.3.999", "a.b.c.d", "1.2.3.-4", "1.2.3.+4", "1.2.3.4/32", "1.2 .3.4", "\u0661.2.3.4", "1.2.3.\u0664", "::1"})
    void shouldRejectWhatIsNotADottedQuadOfAsciiDigits(final String text) {
        assertFalse(Ipv4.isValid(text), text);
        final IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> Ipv4.parse(text));
        assertTrue(e.getMessage().startsWith("not an IPv4 address: '" + text + "'"), e.getMessage());
    }

    @ParameterizedTest
    @CsvSource(delimiter = '|', value = {
        "256.0.0.1   | not an IPv4 address: '256.0.0.1' (octet 256 > 255)",
        "1.2.3.999   | not an IPv4 address: '1.2.3.999' (octet 999 > 255)",
        "999         | not an IPv4 address: '999'",
        "300.1.1     | not an IPv4 address: '300.1.1'",
        "256.1.1.1.1 | not an IPv4 address: '256.1.1.1.1'"})
    void shouldNameALargeOctetOnlyInFourOctets(final String text, final String message) {
        assertEquals(message, assertThrows(IllegalArgumentException.class, () -> Ipv4.parse(text)).getMessage());
    }
}
