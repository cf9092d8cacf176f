package dev.ferry.control.host;

import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Which kernels the packet port coalesces UDP on (virtio UDP_L4 GSO: Linux 6.2 and later). */
class KernelReleaseTest {
    @Test
    void shouldCompareMajorThenMinorOfAReleaseString() {
        assertTrue(PacketAttach.kernelAtLeast("6.18.44-fc-v1147", 6, 2));
        assertTrue(PacketAttach.kernelAtLeast("6.2.0", 6, 2));
        assertTrue(PacketAttach.kernelAtLeast("7.0.1", 6, 2));
        assertFalse(PacketAttach.kernelAtLeast("6.1.187-1-amd64", 6, 2));
        assertFalse(PacketAttach.kernelAtLeast("5.15.0-91-generic", 6, 2));
        assertFalse(PacketAttach.kernelAtLeast("", 6, 2), "unknown: no coalescing");
        assertFalse(PacketAttach.kernelAtLeast(null, 6, 2));
    }
}
