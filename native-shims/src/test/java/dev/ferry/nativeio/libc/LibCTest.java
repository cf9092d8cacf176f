package dev.ferry.nativeio.libc;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.lang.foreign.Arena;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.CyclicBarrier;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;

class LibCTest {

    @Test
    void shouldReturnNegativeErrnoFromFailedCall() {
        assertEquals(-Errno.ENOENT, LibC.open("/nonexistent/ferry", LibC.O_RDONLY));
        assertEquals(-Errno.EBADF, LibC.close(-1));
    }

    @Test
    void shouldNameCallAndErrnoInException() {
        NativeException e = assertThrows(NativeException.class,
                () -> LibC.check("open(/nonexistent/ferry)", LibC.open("/nonexistent/ferry", LibC.O_RDONLY)));
        assertEquals("open(/nonexistent/ferry): ENOENT (No such file or directory)", e.getMessage());
        assertEquals("ENOENT", e.errnoName());
        assertEquals(Errno.ENOENT, e.errno());
    }

    @Test
    void shouldNameIoctlErrorOnNonDeviceFd() {
        int fd = LibC.check("open(/dev/null)", LibC.open("/dev/null", LibC.O_RDWR | LibC.O_CLOEXEC));
        try (Arena arena = Arena.ofConfined()) {
            NativeException e = assertThrows(NativeException.class,
                    () -> LibC.check("ioctl(TUNSETIFF)", LibC.ioctl(fd, 0x400454caL, IfReq.allocate(arena, "x"))));
            assertTrue(e.getMessage().startsWith("ioctl(TUNSETIFF): ENOTTY ("), e.getMessage());
        } finally {
            LibC.close(fd);
        }
    }

    @Test
    void shouldKeepErrnoPerThread() throws Exception {
        // Two threads fail different calls at the same moment; each must see its own errno.
        int rounds = 2000;
        AtomicInteger wrong = new AtomicInteger();
        CyclicBarrier barrier = new CyclicBarrier(2);
        CountDownLatch done = new CountDownLatch(2);
        Runnable enoent = () -> {
            try {
                for (int i = 0; i < rounds; i++) {
                    barrier.await();
                    if (LibC.open("/nonexistent/ferry", LibC.O_RDONLY) != -Errno.ENOENT) {
                        wrong.incrementAndGet();
                    }
                }
            } catch (Exception e) {
                wrong.incrementAndGet();
            } finally {
                done.countDown();
            }
        };
        Runnable ebadf = () -> {
            try {
                for (int i = 0; i < rounds; i++) {
                    barrier.await();
                    if (LibC.close(-1) != -Errno.EBADF) {
                        wrong.incrementAndGet();
                    }
                }
            } catch (Exception e) {
                wrong.incrementAndGet();
            } finally {
                done.countDown();
            }
        };
        Thread.ofPlatform().start(enoent);
        Thread.ofPlatform().start(ebadf);
        done.await();
        assertEquals(0, wrong.get());
    }

    @Test
    void shouldResolveLoopbackIndexAndRejectUnknownName() {
        assertTrue(LibC.ifNameToIndex("lo") > 0);
        assertEquals(-Errno.ENODEV, LibC.ifNameToIndex("ferrynosuch0"));
    }
}
