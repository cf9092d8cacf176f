package dev.ferry.nativeio;

import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.ferry.nativeio.libc.IfReq;
import dev.ferry.nativeio.libc.LibC;
import dev.ferry.nativeio.testing.CProbe;
import java.util.List;
import org.junit.jupiter.api.Test;

/** Every struct layout against the real one, as gcc and the kernel headers on this machine see it. */
class StructLayoutTest {

    static CProbe probe() {
        return new CProbe()
                .include("sys/ioctl.h", "net/if.h", "poll.h")
                .expect("sizeof(struct ifreq)", IfReq.LAYOUT.byteSize())
                .expect("offsetof(struct ifreq, ifr_name)", IfReq.NAME)
                .expect("offsetof(struct ifreq, ifr_flags)", IfReq.FLAGS)
                .expect("offsetof(struct ifreq, ifr_ifindex)", IfReq.IFINDEX)
                .expect("offsetof(struct ifreq, ifr_data)", IfReq.DATA)
                .expect("sizeof(struct pollfd)", LibC.POLLFD.byteSize())
                .expect("offsetof(struct pollfd, revents)", 6);
    }

    @Test
    void shouldMatchKernelStructLayouts() throws Exception {
        List<String> mismatches = probe().mismatches();
        assertEquals(List.of(), mismatches, "struct layouts differ from the C headers");
    }
}
