package dev.ferry.nativeio.packet;

import static dev.ferry.nativeio.packet.PacketStructs.BLOCK_NUM_PKTS;
import static dev.ferry.nativeio.packet.PacketStructs.BLOCK_OFFSET_TO_FIRST_PKT;
import static dev.ferry.nativeio.packet.PacketStructs.BLOCK_STATUS;
import static dev.ferry.nativeio.packet.PacketStructs.TP_LEN;
import static dev.ferry.nativeio.packet.PacketStructs.TP_MAC;
import static dev.ferry.nativeio.packet.PacketStructs.TP_NEXT_OFFSET;
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
 * Documentation/networking/packet_mmap.rst): a TPACKET_V3 RX ring of blocks the kernel fills
 * with variable-length frames, and a TPACKET_V3 TX ring of fixed slots sent with one
 * {@code sendto} per batch. Optionally PACKET_FANOUT (one socket per worker in a group),
 * PACKET_QDISC_BYPASS, PACKET_VNET_HDR and PACKET_IGNORE_OUTGOING. Frames carry their
 * Ethernet header.
 *
 * <p>One thread receives ({@link #receiveBatch}) while another sends ({@link #queueTx},
 * {@link #flushTx}); neither allocates, throws, or makes a system call beyond one
 * {@code sendto} per flush. The socket lives in the network namespace of the thread that
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
    public static final int TPACKET_V3 = 2;
    public static final int ETH_P_ALL = 0x0003;

    public static final int TP_STATUS_KERNEL = 0;
    public static final int TP_STATUS_USER = 1;
    public static final int TP_STATUS_LOSING = 1 << 2;
    public static final int TP_STATUS_CSUMNOTREADY = 1 << 3;
    public static final int TP_STATUS_VLAN_VALID = 1 << 4;
    public static final int TP_STATUS_CSUM_VALID = 1 << 7;
    public static final int TP_STATUS_AVAILABLE = 0;
    public static final int TP_STATUS_SEND_REQUEST = 1;
    public static final int TP_STATUS_SENDING = 2;
    public static final int TP_STATUS_WRONG_FORMAT = 4;

    private static final VarHandle INT = JAVA_INT.varHandle();
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
    private int rxBlock;
    private boolean rxInBlock;
    private int rxRemaining;
    private long rxFrame;
    private long rxTruncated;

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
            LibC.check("setsockopt(PACKET_VERSION TPACKET_V3 " + dev + ")",
                    LibC.setsockopt(fd, SOL_PACKET, PACKET_VERSION, TPACKET_V3));
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
                MemorySegment req = arena.allocate(PacketStructs.TPACKET_REQ3);
                req.set(JAVA_INT, PacketStructs.REQ3_BLOCK_SIZE, c.rxBlockSize());
                req.set(JAVA_INT, PacketStructs.REQ3_BLOCK_NR, c.rxBlockCount());
                req.set(JAVA_INT, PacketStructs.REQ3_FRAME_SIZE, c.rxFrameSize());
                req.set(JAVA_INT, PacketStructs.REQ3_FRAME_NR, c.rxBlockSize() / c.rxFrameSize() * c.rxBlockCount());
                req.set(JAVA_INT, PacketStructs.REQ3_RETIRE_BLK_TOV, c.rxRetireTimeoutMs());
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
                MemorySegment req = arena.allocate(PacketStructs.TPACKET_REQ3);
                req.set(JAVA_INT, PacketStructs.REQ3_BLOCK_SIZE, blockSize);
                req.set(JAVA_INT, PacketStructs.REQ3_BLOCK_NR, blocks);
                req.set(JAVA_INT, PacketStructs.REQ3_FRAME_SIZE, c.txFrameSize());
                req.set(JAVA_INT, PacketStructs.REQ3_FRAME_NR, txFrames);
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
     * many. Never blocks. Frames the kernel truncated (longer than an RX block can hold) are
     * skipped and counted in {@link #rxTruncated()}.
     */
    public int receiveBatch(FrameHandler handler, int max) {
        int n = 0;
        MemorySegment r = ring;
        while (n < max) {
            long block = (long) rxBlock * rxBlockSize;
            if (!rxInBlock) {
                if (rxBlockCount == 0 || ((int) INT.getAcquire(r, block + BLOCK_STATUS) & TP_STATUS_USER) == 0) {
                    break;
                }
                rxInBlock = true;
                rxRemaining = r.get(JAVA_INT, block + BLOCK_NUM_PKTS);
                rxFrame = block + Integer.toUnsignedLong(r.get(JAVA_INT, block + BLOCK_OFFSET_TO_FIRST_PKT));
            }
            if (rxRemaining > 0) {
                long hdr = rxFrame;
                int snaplen = r.get(JAVA_INT, hdr + TP_SNAPLEN);
                int len = r.get(JAVA_INT, hdr + TP_LEN);
                int mac = Short.toUnsignedInt(r.get(JAVA_SHORT, hdr + TP_MAC));
                int status = r.get(JAVA_INT, hdr + TP_STATUS);
                if (snaplen < len) {
                    rxTruncated++;
                } else if (config.vnetHeader()) {
                    handler.onFrame(r, hdr + mac - VirtioNetHdr.SIZE, snaplen + VirtioNetHdr.SIZE, status);
                    n++;
                } else {
                    handler.onFrame(r, hdr + mac, snaplen, status);
                    n++;
                }
                rxRemaining--;
                rxFrame = hdr + Integer.toUnsignedLong(r.get(JAVA_INT, hdr + TP_NEXT_OFFSET));
            }
            if (rxRemaining <= 0) {
                INT.setRelease(r, block + BLOCK_STATUS, TP_STATUS_KERNEL);
                rxInBlock = false;
                rxBlock = rxBlock + 1 == rxBlockCount ? 0 : rxBlock + 1;
            }
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
        r.set(JAVA_INT, slot + TP_NEXT_OFFSET, 0);
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
     * Blocks up to {@code timeoutMs} (-1: forever) until an RX block is ready; true when one is.
     * For idle strategies that park instead of spinning.
     */
    public boolean awaitReadable(int timeoutMs) {
        int revents = LibC.pollOne(fd, LibC.POLLIN, timeoutMs);
        return revents > 0 && (revents & LibC.POLLIN) != 0;
    }

    /** Kernel counters since the last call (PACKET_STATISTICS resets them): packets seen and dropped. */
    public Statistics statistics() {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment st = arena.allocate(PacketStructs.TPACKET_STATS_V3);
            MemorySegment len = arena.allocateFrom(JAVA_INT, (int) st.byteSize());
            LibC.check("getsockopt(PACKET_STATISTICS " + config.interfaceName() + ")",
                    LibC.getsockopt(fd, SOL_PACKET, PACKET_STATISTICS, st, len));
            return new Statistics(Integer.toUnsignedLong(st.get(JAVA_INT, 0)), Integer.toUnsignedLong(st.get(JAVA_INT, 4)),
                    Integer.toUnsignedLong(st.get(JAVA_INT, 8)));
        }
    }

    /** PACKET_STATISTICS for TPACKET_V3. */
    public record Statistics(long packets, long drops, long freezeQueueCount) {
    }

    /** Largest frame (with its virtio_net_hdr, if any) a TX slot takes. */
    public int txCapacity() {
        return txCapacity;
    }

    /** Slots in the TX ring (the configured count rounded up to whole blocks). */
    public int txFrameCount() {
        return txFrameCount;
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

    /** The ring mapping (RX blocks, then TX slots). */
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
        }
    }

    @Override
    public String toString() {
        return "packet:" + config.interfaceName();
    }
}
