package dev.ferry.nativeio.packet;

import static dev.ferry.nativeio.packet.PacketStructs.TP_LEN;
import static dev.ferry.nativeio.packet.PacketStructs.TP_MAC;
import static dev.ferry.nativeio.packet.PacketStructs.TP_SNAPLEN;
import static dev.ferry.nativeio.packet.PacketStructs.TP_STATUS;
import static dev.ferry.nativeio.packet.PacketStructs.TX_DATA_OFFSET;
import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_SHORT;

import dev.ferry.nativeio.libc.CTypes;
import dev.ferry.nativeio.libc.LibC;
import dev.ferry.nativeio.libc.NativeException;
import dev.ferry.nativeio.virtio.VirtioNetHdr;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.invoke.VarHandle;
import java.util.Objects;

/**
 * An AF_PACKET socket bound to one interface with PACKET_MMAP rings (packet(7),
 * Documentation/networking/packet_mmap.rst): a TPACKET_V2 RX ring of fixed frame slots, each
 * with its own status word, so a frame is the user's the moment the kernel has written it (no
 * block to fill, no retire timer), and a TPACKET_V2 TX ring of fixed slots sent with one
 * {@code sendto} per batch. A frame longer than an RX slot (a GSO super-frame of up to 64 KiB
 * with PACKET_VNET_HDR) is queued whole on the socket's receive queue by the kernel
 * (PACKET_COPY_THRESH) and its slot marked TP_STATUS_COPY; {@link #receiveBatch} reads it from
 * there with one {@code recvfrom}, in ring order. Optionally PACKET_FANOUT (one socket per worker in a group),
 * PACKET_QDISC_BYPASS, PACKET_VNET_HDR and PACKET_IGNORE_OUTGOING. Frames carry their
 * Ethernet header.
 *
 * <p>One thread receives ({@link #receiveBatch}) and one sends ({@link #queueTx},
 * {@link #flushTx}), the same or two; neither allocates, throws, or makes a system call beyond
 * one {@code sendto} per flush and one {@code recvfrom} per oversized frame. The socket lives in the network namespace of the thread that
 * opened it (see {@code NetworkNamespace}).
 */
public final class PacketSocket implements AutoCloseable {
    public static final int SOL_PACKET = 263;
    public static final int PACKET_RX_RING = 5;
    public static final int PACKET_STATISTICS = 6;
    public static final int PACKET_VERSION = 10;
    public static final int PACKET_TX_RING = 13;
    public static final int PACKET_VNET_HDR = 15;
    public static final int PACKET_FANOUT = 18;
    public static final int PACKET_QDISC_BYPASS = 20;
    public static final int PACKET_IGNORE_OUTGOING = 23;
    public static final int PACKET_COPY_THRESH = 7;
    public static final int TPACKET_V2 = 1;
    public static final int ETH_P_ALL = 0x0003;

    public static final int TP_STATUS_KERNEL = 0;
    public static final int TP_STATUS_USER = 1;
    public static final int TP_STATUS_COPY = 1 << 1;
    public static final int TP_STATUS_LOSING = 1 << 2;
    public static final int TP_STATUS_CSUMNOTREADY = 1 << 3;
    public static final int TP_STATUS_VLAN_VALID = 1 << 4;
    public static final int TP_STATUS_CSUM_VALID = 1 << 7;
    public static final int TP_STATUS_AVAILABLE = 0;
    public static final int TP_STATUS_SEND_REQUEST = 1;
    public static final int TP_STATUS_SENDING = 2;
    public static final int TP_STATUS_WRONG_FORMAT = 4;

    private static final VarHandle INT = JAVA_INT.varHandle();
    /** The longest frame read by copy: a 64 KiB IP packet, its Ethernet header and virtio_net_hdr, rounded up. */
    static final int RX_COPY_CAPACITY = 65536 + 256;
    /** Receive buffer for copied frames: room for a burst of GSO super-frames while the thread catches up. */
    static final int RX_COPY_RCVBUF = 8 * 1024 * 1024;
    /** The whole address space, to copy from a raw address without making a segment per call. */
    private static final MemorySegment ALL_MEMORY = MemorySegment.NULL.reinterpret(Long.MAX_VALUE);

    private final PacketSocketConfig config;
    private final int ifindex;
    private final MemorySegment txErrno = LibC.newErrnoState();
    private volatile int fd;
    private final long mapAddress;
    private final long mapLength;
    private final MemorySegment ring;

    // RX ring geometry and cursor (receiving thread only)
    private final int rxBlockSize;
    private final int rxBlockCount;
    private final int rxFrameSize;
    private final int rxFramesPerBlock;
    private final int rxFrameCount;
    private int rxHead;
    private long rxTruncated;
    private long rxCopied;
    private final MemorySegment rxErrno = LibC.newErrnoState();
    /** Where a frame too long for a slot (TP_STATUS_COPY) is read to: virtio_net_hdr, Ethernet, 64 KiB. */
    private final Arena copyArena = Arena.ofShared();
    private final MemorySegment rxCopy;

    // TX ring geometry and cursor (sending thread only)
    private final long txBase;
    private final int txBlockSize;
    private final int txFramesPerBlock;
    private final int txFrameSize;
    private final int txFrameCount;
    private final int txCapacity;
    private int txHead;
    private int txQueued;
    private long txWrongFormat;

    private PacketSocket(PacketSocketConfig c, int fd, int ifindex, long mapAddress, long mapLength,
                         int txFramesPerBlock, int txFrameCount) {
        this.config = c;
        this.fd = fd;
        this.ifindex = ifindex;
        this.mapAddress = mapAddress;
        this.mapLength = mapLength;
        this.ring = MemorySegment.ofAddress(mapAddress).reinterpret(mapLength);
        this.rxBlockSize = c.rxRing() ? c.rxBlockSize() : 0;
        this.rxBlockCount = c.rxRing() ? c.rxBlockCount() : 0;
        this.rxFrameSize = c.rxFrameSize();
        this.rxFramesPerBlock = c.rxRing() ? rxBlockSize / rxFrameSize : 0;
        this.rxFrameCount = rxFramesPerBlock * rxBlockCount;
        this.rxCopy = copyArena.allocate(RX_COPY_CAPACITY, 64);
        this.txBase = (long) rxBlockSize * rxBlockCount;
        this.txBlockSize = c.txRing() ? c.txBlockSize() : 0;
        this.txFramesPerBlock = txFramesPerBlock;
        this.txFrameSize = c.txFrameSize();
        this.txFrameCount = txFrameCount;
        this.txCapacity = c.txRing() ? txFrameSize - TX_DATA_OFFSET : 0;
    }

    /**
     * Opens, configures, maps and binds a socket as {@code config} says, in the calling
     * thread's network namespace. Any failure closes what was opened and throws a
     * {@link NativeException} naming the step, e.g. {@code setsockopt(PACKET_RX_RING ferry0p)}.
     */
    public static PacketSocket open(PacketSocketConfig config) {
        PacketSocketConfig c = config.conclude();
        String dev = c.interfaceName();
        int ifindex = LibC.check("if_nametoindex(" + dev + ")", LibC.ifNameToIndex(dev));
        // protocol 0: nothing is queued to the socket until bind, after the rings exist
        int fd = LibC.check("socket(AF_PACKET, SOCK_RAW)",
                LibC.socket(LibC.AF_PACKET, LibC.SOCK_RAW | LibC.SOCK_CLOEXEC | LibC.SOCK_NONBLOCK, 0));
        long mapAddress = 0;
        long mapLength = 0;
        try (Arena arena = Arena.ofConfined()) {
            LibC.check("setsockopt(PACKET_VERSION TPACKET_V2 " + dev + ")",
                    LibC.setsockopt(fd, SOL_PACKET, PACKET_VERSION, TPACKET_V2));
            if (c.vnetHeader()) {
                LibC.check("setsockopt(PACKET_VNET_HDR " + dev + ")", LibC.setsockopt(fd, SOL_PACKET, PACKET_VNET_HDR, 1));
            }
            if (c.qdiscBypass()) {
                LibC.check("setsockopt(PACKET_QDISC_BYPASS " + dev + ")",
                        LibC.setsockopt(fd, SOL_PACKET, PACKET_QDISC_BYPASS, 1));
            }
            if (c.ignoreOutgoing()) {
                LibC.check("setsockopt(PACKET_IGNORE_OUTGOING " + dev + ")",
                        LibC.setsockopt(fd, SOL_PACKET, PACKET_IGNORE_OUTGOING, 1));
            }
            if (c.rxRing()) {
                // frames longer than a slot go whole to the receive queue (TP_STATUS_COPY), which
                // needs room for them; without CAP_NET_ADMIN the plain limit applies
                LibC.check("setsockopt(PACKET_COPY_THRESH " + dev + ")", LibC.setsockopt(fd, SOL_PACKET, PACKET_COPY_THRESH, 1));
                if (LibC.setsockopt(fd, LibC.SOL_SOCKET, LibC.SO_RCVBUFFORCE, RX_COPY_RCVBUF) < 0) {
                    LibC.setsockopt(fd, LibC.SOL_SOCKET, LibC.SO_RCVBUF, RX_COPY_RCVBUF);
                }
                MemorySegment req = arena.allocate(PacketStructs.TPACKET_REQ);
                req.set(JAVA_INT, PacketStructs.REQ_BLOCK_SIZE, c.rxBlockSize());
                req.set(JAVA_INT, PacketStructs.REQ_BLOCK_NR, c.rxBlockCount());
                req.set(JAVA_INT, PacketStructs.REQ_FRAME_SIZE, c.rxFrameSize());
                req.set(JAVA_INT, PacketStructs.REQ_FRAME_NR, c.rxBlockSize() / c.rxFrameSize() * c.rxBlockCount());
                LibC.check("setsockopt(PACKET_RX_RING " + dev + " " + c.rxBlockCount() + "x" + c.rxBlockSize() + ")",
                        LibC.setsockopt(fd, SOL_PACKET, PACKET_RX_RING, req));
                mapLength += (long) c.rxBlockSize() * c.rxBlockCount();
            }
            int txFramesPerBlock = 0;
            int txFrames = 0;
            if (c.txRing()) {
                int blockSize = c.txBlockSize();
                txFramesPerBlock = blockSize / c.txFrameSize();
                int blocks = (c.txFrameCount() + txFramesPerBlock - 1) / txFramesPerBlock;
                txFrames = blocks * txFramesPerBlock;
                MemorySegment req = arena.allocate(PacketStructs.TPACKET_REQ);
                req.set(JAVA_INT, PacketStructs.REQ_BLOCK_SIZE, blockSize);
                req.set(JAVA_INT, PacketStructs.REQ_BLOCK_NR, blocks);
                req.set(JAVA_INT, PacketStructs.REQ_FRAME_SIZE, c.txFrameSize());
                req.set(JAVA_INT, PacketStructs.REQ_FRAME_NR, txFrames);
                LibC.check("setsockopt(PACKET_TX_RING " + dev + " " + txFrames + "x" + c.txFrameSize() + ")",
                        LibC.setsockopt(fd, SOL_PACKET, PACKET_TX_RING, req));
                mapLength += (long) blockSize * blocks;
            }
            mapAddress = LibC.check("mmap(packet rings " + dev + ", " + mapLength + " bytes)",
                    LibC.mmap(0, mapLength, LibC.PROT_READ | LibC.PROT_WRITE, LibC.MAP_SHARED, fd, 0));
            MemorySegment sll = arena.allocate(PacketStructs.SOCKADDR_LL);
            sll.set(JAVA_SHORT, PacketStructs.SLL_FAMILY, (short) LibC.AF_PACKET);
            sll.set(CTypes.BE16, PacketStructs.SLL_PROTOCOL, (short) ETH_P_ALL);
            sll.set(JAVA_INT, PacketStructs.SLL_IFINDEX, ifindex);
            LibC.check("bind(AF_PACKET " + dev + ")", LibC.bind(fd, sll));
            if (c.fanoutGroup() >= 0) {
                LibC.check("setsockopt(PACKET_FANOUT " + c.fanoutMode() + " group " + c.fanoutGroup() + " " + dev + ")",
                        LibC.setsockopt(fd, SOL_PACKET, PACKET_FANOUT, c.fanoutGroup() | (c.fanoutMode().value << 16)));
            }
            return new PacketSocket(c, fd, ifindex, mapAddress, mapLength, txFramesPerBlock, txFrames);
        } catch (RuntimeException e) {
            if (mapAddress > 0) {
                LibC.munmap(mapAddress, mapLength);
            }
            LibC.close(fd);
            throw e;
        }
    }

    /**
     * Hands up to {@code max} received frames to {@code handler}, in arrival order; returns how
     * many. Never blocks. Each slot goes back to the kernel when the handler returns. A frame
     * longer than a slot (TP_STATUS_COPY) is read from the receive queue into a buffer of this
     * socket's and handed up from there ({@link #rxCopied()}); frames the kernel truncated
     * (no room to copy them) are skipped and counted in {@link #rxTruncated()}.
     */
    public int receiveBatch(FrameHandler handler, int max) {
        int n = 0;
        MemorySegment r = ring;
        while (n < max && rxFrameCount > 0) {
            long hdr = (long) (rxHead / rxFramesPerBlock) * rxBlockSize + (long) (rxHead % rxFramesPerBlock) * rxFrameSize;
            int status = (int) INT.getAcquire(r, hdr + TP_STATUS);
            if ((status & TP_STATUS_USER) == 0) {
                break;
            }
            if ((status & TP_STATUS_COPY) != 0) {
                long got = LibC.recvfrom(rxErrno, fd, rxCopy.address(), RX_COPY_CAPACITY, LibC.MSG_DONTWAIT | LibC.MSG_TRUNC, 0, 0);
                if (got > 0 && got <= RX_COPY_CAPACITY) {
                    rxCopied++;
                    handler.onFrame(rxCopy, 0, (int) got, status);
                    n++;
                } else {
                    rxTruncated++;
                }
            } else {
                int snaplen = r.get(JAVA_INT, hdr + TP_SNAPLEN);
                int len = r.get(JAVA_INT, hdr + TP_LEN);
                int mac = Short.toUnsignedInt(r.get(JAVA_SHORT, hdr + TP_MAC));
                if (snaplen < len) {
                    rxTruncated++;
                } else if (config.vnetHeader()) {
                    handler.onFrame(r, hdr + mac - VirtioNetHdr.SIZE, snaplen + VirtioNetHdr.SIZE, status);
                    n++;
                } else {
                    handler.onFrame(r, hdr + mac, snaplen, status);
                    n++;
                }
            }
            INT.setRelease(r, hdr + TP_STATUS, TP_STATUS_KERNEL);
            rxHead = rxHead + 1 == rxFrameCount ? 0 : rxHead + 1;
        }
        return n;
    }

    /**
     * Copies one frame ({@code length} bytes at {@code address}: Ethernet header onwards, after
     * a {@code virtio_net_hdr} when the socket uses one) into the next TX slot. False when
     * the ring is full (slots still being sent) or the frame is larger than a slot
     * ({@link #txCapacity()}). Nothing is sent until {@link #flushTx()}. When it returns false
     * for a full ring, a sender should {@link #flushTx()} and try once more before counting a
     * drop: slots come back as soon as the kernel has sent them, usually within that sendto.
     */
    public boolean queueTx(long address, int length) {
        return queue(ALL_MEMORY, address, length);
    }

    /** As {@link #queueTx(long, int)}, from {@code length} bytes of {@code source} at {@code offset}. */
    public boolean queueTx(MemorySegment source, long offset, int length) {
        Objects.checkFromIndexSize(offset, length, source.byteSize());
        return queue(source, offset, length);
    }

    private boolean queue(MemorySegment source, long offset, int length) {
        if (length > txCapacity || length <= 0) {
            return false;
        }
        long slot = txSlot(txHead);
        MemorySegment r = ring;
        int status = (int) INT.getAcquire(r, slot + TP_STATUS);
        if (status != TP_STATUS_AVAILABLE) {
            if (status != TP_STATUS_WRONG_FORMAT) {
                return false;
            }
            txWrongFormat++;
        }
        MemorySegment.copy(source, offset, r, slot + TX_DATA_OFFSET, length);
        r.set(JAVA_INT, slot + TP_LEN, length);
        r.set(JAVA_INT, slot + TP_SNAPLEN, length);
        INT.setRelease(r, slot + TP_STATUS, TP_STATUS_SEND_REQUEST);
        txHead = txHead + 1 == txFrameCount ? 0 : txHead + 1;
        txQueued++;
        return true;
    }

    /**
     * Hands every queued frame to the kernel with one non-blocking {@code sendto}; returns how
     * many were queued since the last successful flush (0: nothing to do), or {@code -errno}
     * (the frames stay queued and the next flush retries them).
     */
    public int flushTx() {
        if (txQueued == 0) {
            return 0;
        }
        long rc = LibC.sendto(txErrno, fd, 0, 0, LibC.MSG_DONTWAIT, 0, 0);
        if (rc < 0) {
            return (int) rc;
        }
        int n = txQueued;
        txQueued = 0;
        return n;
    }

    private long txSlot(int index) {
        return txBase + (long) (index / txFramesPerBlock) * txBlockSize + (long) (index % txFramesPerBlock) * txFrameSize;
    }

    /**
     * Blocks up to {@code timeoutMs} (-1: forever) until an RX frame is ready; true when one is.
     * For idle strategies that park instead of spinning.
     */
    public boolean awaitReadable(int timeoutMs) {
        int revents = LibC.pollOne(fd, LibC.POLLIN, timeoutMs);
        return revents > 0 && (revents & LibC.POLLIN) != 0;
    }

    /** Kernel counters since the last call (PACKET_STATISTICS resets them): packets seen and dropped. */
    public Statistics statistics() {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment st = arena.allocate(PacketStructs.TPACKET_STATS);
            MemorySegment len = arena.allocateFrom(JAVA_INT, (int) st.byteSize());
            LibC.check("getsockopt(PACKET_STATISTICS " + config.interfaceName() + ")",
                    LibC.getsockopt(fd, SOL_PACKET, PACKET_STATISTICS, st, len));
            return new Statistics(Integer.toUnsignedLong(st.get(JAVA_INT, 0)), Integer.toUnsignedLong(st.get(JAVA_INT, 4)));
        }
    }

    /** PACKET_STATISTICS for TPACKET_V2. */
    public record Statistics(long packets, long drops) {
    }

    /** Largest frame (with its virtio_net_hdr, if any) a TX slot takes. */
    public int txCapacity() {
        return txCapacity;
    }

    /** Slots in the TX ring (the configured count rounded up to whole blocks). */
    public int txFrameCount() {
        return txFrameCount;
    }

    /** Frames longer than an RX slot, read whole from the receive queue. */
    public long rxCopied() {
        return rxCopied;
    }

    /** Frames skipped because the kernel truncated them. */
    public long rxTruncated() {
        return rxTruncated;
    }

    /** TX slots the kernel rejected as malformed (reused). */
    public long txWrongFormat() {
        return txWrongFormat;
    }

    public boolean vnetHeader() {
        return config.vnetHeader();
    }

    public String interfaceName() {
        return config.interfaceName();
    }

    public int ifindex() {
        return ifindex;
    }

    /** The file descriptor, -1 once closed. */
    public int fd() {
        return fd;
    }

    /** The ring mapping (RX frames in blocks, then TX slots). */
    public MemorySegment ringMemory() {
        return ring;
    }

    /** Unmaps the rings and closes the socket; idempotent. No other thread may be using it. */
    @Override
    public void close() {
        int f = fd;
        if (f >= 0) {
            fd = -1;
            LibC.munmap(mapAddress, mapLength);
            LibC.close(f);
            copyArena.close();
        }
    }

    @Override
    public String toString() {
        return "packet:" + config.interfaceName();
    }
}
