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
 * so packets can be rewritten and written back as they are. With it ({@link #open(String,
 * boolean, boolean)}) every read and write starts with a 10-byte
 * {@link dev.ferry.nativeio.virtio.VirtioNetHdr}, and after {@link #enableOffloads()} the kernel
 * hands over TCP (and, where it has them, UDP) super-packets of up to 64 KB with a partial
 * checksum, and takes them back the same way: a packet is read, rewritten and written once,
 * not once per segment.
 */
public final class TunDevice implements AutoCloseable {
    public static final String CLONE_DEVICE = "/dev/net/tun";

    public static final short IFF_TUN = 0x0001;
    public static final short IFF_NO_PI = 0x1000;
    public static final short IFF_MULTI_QUEUE = 0x0100;
    public static final short IFF_VNET_HDR = 0x4000;

    // _IOW('T', n, int / unsigned int)
    public static final long TUNSETIFF = 0x400454caL;
    public static final long TUNSETPERSIST = 0x400454cbL;
    public static final long TUNSETOFFLOAD = 0x400454d0L;

    /** TUNSETOFFLOAD flags: what the device may hand us unfinished (and we may hand back). */
    public static final int TUN_F_CSUM = 0x01;
    public static final int TUN_F_TSO4 = 0x02;
    public static final int TUN_F_TSO6 = 0x04;
    public static final int TUN_F_USO4 = 0x20;
    public static final int TUN_F_USO6 = 0x40;
    /** Checksum offload and TCP segmentation offload: what every kernel with IFF_VNET_HDR takes. */
    public static final int TCP_OFFLOADS = TUN_F_CSUM | TUN_F_TSO4 | TUN_F_TSO6;
    /** UDP segmentation offload (Linux 6.2 and later). */
    public static final int UDP_OFFLOADS = TUN_F_USO4 | TUN_F_USO6;

    private final String name;
    private final boolean multiQueue;
    private final boolean vnetHeader;
    private final MemorySegment rxErrno = LibC.newErrnoState();
    private final MemorySegment txErrno = LibC.newErrnoState();
    private volatile int fd;

    private TunDevice(int fd, String name, boolean multiQueue, boolean vnetHeader) {
        this.fd = fd;
        this.name = name;
        this.multiQueue = multiQueue;
        this.vnetHeader = vnetHeader;
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
        return open(name, multiQueue, false);
    }

    /**
     * As {@link #open(String, boolean)}; with {@code vnetHeader} ({@code IFF_VNET_HDR}) each packet
     * read or written is preceded by a {@code virtio_net_hdr}. Every queue of a device must be
     * opened with the same flags.
     */
    public static TunDevice open(String name, boolean multiQueue, boolean vnetHeader) {
        Objects.requireNonNull(name, "name");
        int fd = LibC.check("open(" + CLONE_DEVICE + ")",
                LibC.open(CLONE_DEVICE, LibC.O_RDWR | LibC.O_NONBLOCK | LibC.O_CLOEXEC));
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment ifr = IfReq.allocate(arena, name);
            IfReq.flags(ifr, (short) (IFF_TUN | IFF_NO_PI | (multiQueue ? IFF_MULTI_QUEUE : 0) | (vnetHeader ? IFF_VNET_HDR : 0)));
            LibC.check("ioctl(TUNSETIFF " + (name.isEmpty() ? "tun%d" : name) + ")",
                    LibC.ioctl(fd, TUNSETIFF, ifr));
            return new TunDevice(fd, IfReq.name(ifr), multiQueue, vnetHeader);
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

    /**
     * Sets the device's offloads (TUNSETOFFLOAD, {@code TUN_F_*} flags): rc 0 or -errno
     * ({@code -EINVAL} for a flag this kernel does not know). Needs {@code IFF_VNET_HDR}.
     */
    public int setOffload(int flags) {
        return LibC.ioctl(fd, TUNSETOFFLOAD, MemorySegment.ofAddress(Integer.toUnsignedLong(flags)));
    }

    /**
     * Turns on checksum offload and TCP segmentation offload, plus UDP segmentation offload
     * where the kernel has it (falling back to TCP only when it refuses); returns the flags
     * set. Needs {@code IFF_VNET_HDR}.
     *
     * @throws NativeException when even {@link #TCP_OFFLOADS} is refused
     */
    public int enableOffloads() {
        if (!vnetHeader) {
            throw new IllegalStateException(name + ": offloads need IFF_VNET_HDR (open with vnetHeader)");
        }
        int all = TCP_OFFLOADS | UDP_OFFLOADS;
        if (setOffload(all) == 0) {
            return all;
        }
        LibC.check("ioctl(TUNSETOFFLOAD " + name + " csum|tso4|tso6)", setOffload(TCP_OFFLOADS));
        return TCP_OFFLOADS;
    }

    /** True when packets carry a {@code virtio_net_hdr} ({@code IFF_VNET_HDR}). */
    public boolean vnetHeader() {
        return vnetHeader;
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
