package dev.ferry.nativeio.probe;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import org.junit.jupiter.api.Test;

class NativeAccessProbeTest {

    @Test
    void shouldReadEffectiveCapabilitiesFromProcSelfStatus() {
        assertTrue(NativeAccessProbe.effectiveCapabilities() >= 0);
    }

    @Test
    void shouldReportNativeAccessEnabledUnderSurefire() {
        // surefire passes --enable-native-access=ALL-UNNAMED; the probe must see it
        NativeAccessProbe.Availability a = NativeAccessProbe.check();
        assertTrue(a.missing().stream().noneMatch(m -> m.startsWith("native access")), a.describe());
    }

    @Test
    void shouldSayWhatIsMissing() {
        NativeAccessProbe.Availability a = new NativeAccessProbe.Availability(
                List.of("CAP_NET_RAW (effective capabilities 0x0): needed for AF_PACKET sockets"));
        IllegalStateException e = assertThrows(IllegalStateException.class, a::require);
        assertEquals("native packet I/O unavailable: CAP_NET_RAW (effective capabilities 0x0): needed for AF_PACKET sockets",
                e.getMessage());
    }
}
