package dev.ferry.nativeio.tun;

import dev.ferry.nativeio.libc.IfReq;
import dev.ferry.nativeio.libc.LibC;
import dev.ferry.nativeio.libc.NativeException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.Objects;

/**
 * One queue of a Linux TUN device (Documentation/networking/tuntap.rst): IP packets without
 * a link-layer header ({@code IFF_TUN | IFF_NO_PI}), opened non-blocking, optionally one of
 * several queues of a multi-queue device ({@code IFF_MULTI_QUEUE}, a queue per worker; the
 * kernel spreads flows across queues by hash).
 *
 * <p>Hot path: {@link #read} and {@link #write} never throw and never allocate; they return
 * the length, or {@code -errno} ({@code -EAGAIN} when nothing is waiting). Each packet is one
 * read or one write. One thread may read while another writes: each direction has its own
 * errno capture.
 *
 * <p>Without {@code IFF_VNET_HDR} the kernel hands over complete checksums and segments,
 * so packets can be rewritten and written back as they are.
 */
public final class TunDevice implements AutoCloseable {
    public static final String CLONE_DEVICE = "/dev/net/tun";

    public static final short IFF_TUN = 0x0001;
    public static final short IFF_NO_PI = 0x1000;
    public static final short IFF_MULTI_QUEUE = 0x0100;

    // _IOW('T', n, int)
    static final long TUNSETIFF = 0x400454caL;
    static final long TUNSETPERSIST = 0x400454cbL;

    private final String name;
    private final boolean multiQueue;
    private final MemorySegment rxErrno = LibC.newErrnoState();
    private final MemorySegment txErrno = LibC.newErrnoState();
    private volatile int fd;

    private TunDevice(int fd, String name, boolean multiQueue) {
        this.fd = fd;
        this.name = name;
        this.multiQueue = multiQueue;
    }

    /** Opens (creating if needed) single-queue TUN device {@code name}; an empty name lets the kernel pick {@code tunN}. */
    public static TunDevice open(String name) {
        return open(name, false);
    }

    /**
     * Opens a queue of TUN device {@code name}, creating the device when it does not exist.
     * For a multi-queue device call this once per queue. The device is created down; bring
     * it up with rtnetlink. It disappears when its last queue closes unless made persistent.
     *
     * @throws NativeException naming the failing call, e.g. {@code ioctl(TUNSETIFF ferry0): EPERM}
     */
    public static TunDevice open(String name, boolean multiQueue) {
        Objects.requireNonNull(name, "name");
        int fd = LibC.check("open(" + CLONE_DEVICE + ")",
                LibC.open(CLONE_DEVICE, LibC.O_RDWR | LibC.O_NONBLOCK | LibC.O_CLOEXEC));
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment ifr = IfReq.allocate(arena, name);
            IfReq.flags(ifr, (short) (IFF_TUN | IFF_NO_PI | (multiQueue ? IFF_MULTI_QUEUE : 0)));
            LibC.check("ioctl(TUNSETIFF " + (name.isEmpty() ? "tun%d" : name) + ")",
                    LibC.ioctl(fd, TUNSETIFF, ifr));
            return new TunDevice(fd, IfReq.name(ifr), multiQueue);
        } catch (RuntimeException e) {
            LibC.close(fd);
            throw e;
        }
    }

    /** Keeps the device after its last queue closes (TUNSETPERSIST); delete it with rtnetlink. */
    public void persist(boolean persistent) {
        LibC.check("ioctl(TUNSETPERSIST " + name + ")",
                LibC.ioctl(fd, TUNSETPERSIST, MemorySegment.ofAddress(persistent ? 1 : 0)));
    }

    /** The interface name the kernel gave the device. */
    public String name() {
        return name;
    }

    public boolean multiQueue() {
        return multiQueue;
    }

    /** The file descriptor, -1 once closed. */
    public int fd() {
        return fd;
    }

    /** Reads one packet into {@code capacity} bytes at {@code address}; its length, or -errno (-EAGAIN: none waiting). */
    public int read(long address, int capacity) {
        return (int) LibC.read(rxErrno, fd, address, capacity);
    }

    /** Reads one packet into {@code segment} (native memory) at {@code offset}; as {@link #read(long, int)}. */
    public int read(MemorySegment segment, long offset, int capacity) {
        Objects.checkFromIndexSize(offset, capacity, segment.byteSize());
        return read(segment.address() + offset, capacity);
    }

    /** Writes one packet of {@code length} bytes at {@code address}; bytes written or -errno. */
    public int write(long address, int length) {
        return (int) LibC.write(txErrno, fd, address, length);
    }

    /** Writes one packet from {@code segment} (native memory) at {@code offset}; as {@link #write(long, int)}. */
    public int write(MemorySegment segment, long offset, int length) {
        Objects.checkFromIndexSize(offset, length, segment.byteSize());
        return write(segment.address() + offset, length);
    }

    /**
     * Blocks up to {@code timeoutMs} (-1: forever) until a packet is waiting; true when one is.
     * For idle strategies that park instead of spinning.
     */
    public boolean awaitReadable(int timeoutMs) {
        int revents = LibC.pollOne(fd, LibC.POLLIN, timeoutMs);
        return revents > 0 && (revents & LibC.POLLIN) != 0;
    }

    /** Closes this queue; idempotent. */
    @Override
    public void close() {
        int f = fd;
        if (f >= 0) {
            fd = -1;
            LibC.close(f);
        }
    }

    @Override
    public String toString() {
        return "tun:" + name;
    }
}
