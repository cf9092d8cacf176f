package dev.ferry.nativeio.packet;

/**
 * Everything a {@link PacketSocket} is opened with, in one place: fluent setters, defaults as
 * named constants, and {@link #conclude()} that validates once before anything is opened.
 *
 * <p>Sizes: the RX ring (TPACKET_V2) is {@code rxBlockCount} blocks of {@code rxBlockSize}
 * bytes, each holding {@code rxBlockSize / rxFrameSize} fixed slots, each handed to user space
 * as soon as the kernel has written it. A frame longer than a slot is queued whole on the
 * socket's receive queue and read from there (TP_STATUS_COPY), so the slots need only hold an
 * MTU-sized frame. The TX ring is {@code txFrameCount} fixed slots of {@code txFrameSize} bytes
 * (header included). With {@link #vnetHeader(boolean)} on, frames may be GSO super-frames of
 * up to 64 KiB, so the TX slots default to {@link #VNET_TX_FRAME_SIZE}.
 */
public final class PacketSocketConfig {
    public static final int DEFAULT_RX_BLOCK_SIZE = 256 * 1024;
    public static final int DEFAULT_RX_BLOCK_COUNT = 32;
    public static final int DEFAULT_RX_FRAME_SIZE = 2048;
    public static final int DEFAULT_TX_FRAME_SIZE = 2048;
    public static final int DEFAULT_TX_FRAME_COUNT = 512;
    /** A TX slot for a 64 KiB GSO frame plus its headers. */
    public static final int VNET_TX_FRAME_SIZE = 68 * 1024;
    public static final int DEFAULT_VNET_TX_FRAME_COUNT = 64;
    public static final int PAGE_SIZE = 4096;

    /** PACKET_FANOUT modes (linux/if_packet.h). */
    public enum FanoutMode {
        HASH(0), LB(1), CPU(2), ROLLOVER(3), RND(4), QM(5);

        final int value;

        FanoutMode(int value) {
            this.value = value;
        }
    }

    private String interfaceName;
    private int rxBlockSize = DEFAULT_RX_BLOCK_SIZE;
    private int rxBlockCount = DEFAULT_RX_BLOCK_COUNT;
    private int rxFrameSize = DEFAULT_RX_FRAME_SIZE;
    private int txFrameSize = -1;
    private int txFrameCount = -1;
    private boolean rxRing = true;
    private boolean txRing = true;
    private int fanoutGroup = -1;
    private FanoutMode fanoutMode = FanoutMode.HASH;
    private boolean qdiscBypass = true;
    private boolean vnetHeader = true;
    private boolean ignoreOutgoing = true;
    private boolean concluded;

    /** The interface to bind to (required), e.g. {@code ferry0p}. */
    public PacketSocketConfig interfaceName(String name) {
        this.interfaceName = name;
        return this;
    }

    public PacketSocketConfig rxBlockSize(int bytes) {
        this.rxBlockSize = bytes;
        return this;
    }

    public PacketSocketConfig rxBlockCount(int count) {
        this.rxBlockCount = count;
        return this;
    }

    /** Size of one RX slot, its tpacket2_hdr included: an MTU-sized frame must fit (longer ones are copied). */
    public PacketSocketConfig rxFrameSize(int bytes) {
        this.rxFrameSize = bytes;
        return this;
    }

    /** Size of one TX slot including its {@value PacketStructs#TPACKET_ALIGNMENT}-aligned header. */
    public PacketSocketConfig txFrameSize(int bytes) {
        this.txFrameSize = bytes;
        return this;
    }

    public PacketSocketConfig txFrameCount(int count) {
        this.txFrameCount = count;
        return this;
    }

    /** Whether to set up the RX ring (default true); without one the socket only sends. */
    public PacketSocketConfig rxRing(boolean enabled) {
        this.rxRing = enabled;
        return this;
    }

    /** Whether to set up the TX ring (default true). */
    public PacketSocketConfig txRing(boolean enabled) {
        this.txRing = enabled;
        return this;
    }

    /** Joins fanout group {@code group} (0..65535) in {@code mode}; every socket of a group must match. */
    public PacketSocketConfig fanout(int group, FanoutMode mode) {
        this.fanoutGroup = group;
        this.fanoutMode = mode;
        return this;
    }

    /** PACKET_QDISC_BYPASS on TX (default true): straight to the driver, no qdisc, no taps. */
    public PacketSocketConfig qdiscBypass(boolean enabled) {
        this.qdiscBypass = enabled;
        return this;
    }

    /**
     * PACKET_VNET_HDR (default true): each frame on both rings starts with a
     * {@code virtio_net_hdr} that carries checksum offload (CHECKSUM_PARTIAL) and GSO, so
     * frames from a veth with its default offloads arrive whole and can be sent back as they
     * are. See the package documentation for why this is the default.
     */
    public PacketSocketConfig vnetHeader(boolean enabled) {
        this.vnetHeader = enabled;
        return this;
    }

    /** PACKET_IGNORE_OUTGOING (default true): the RX ring sees only frames arriving on the interface. */
    public PacketSocketConfig ignoreOutgoing(boolean enabled) {
        this.ignoreOutgoing = enabled;
        return this;
    }

    /** Validates and fills derived defaults; called by {@link PacketSocket#open}. */
    public PacketSocketConfig conclude() {
        if (concluded) {
            return this;
        }
        if (interfaceName == null || interfaceName.isEmpty()) {
            throw new IllegalArgumentException("packet socket: interfaceName is required");
        }
        if (txFrameSize < 0) {
            txFrameSize = vnetHeader ? VNET_TX_FRAME_SIZE : DEFAULT_TX_FRAME_SIZE;
        }
        if (txFrameCount < 0) {
            txFrameCount = vnetHeader ? DEFAULT_VNET_TX_FRAME_COUNT : DEFAULT_TX_FRAME_COUNT;
        }
        if (rxRing) {
            require(rxBlockSize > 0 && rxBlockSize % PAGE_SIZE == 0, "rxBlockSize", rxBlockSize, "a positive multiple of " + PAGE_SIZE);
            require(rxBlockCount > 0, "rxBlockCount", rxBlockCount, "positive");
            require(rxFrameSize >= 128 && rxFrameSize % PacketStructs.TPACKET_ALIGNMENT == 0 && rxFrameSize <= rxBlockSize,
                    "rxFrameSize", rxFrameSize, "a multiple of 16 between 128 and rxBlockSize");
        }
        if (txRing) {
            require(txFrameSize > PacketStructs.TX_DATA_OFFSET + 64 && txFrameSize % PacketStructs.TPACKET_ALIGNMENT == 0,
                    "txFrameSize", txFrameSize, "a multiple of 16 above " + (PacketStructs.TX_DATA_OFFSET + 64));
            require(txFrameCount > 0, "txFrameCount", txFrameCount, "positive");
        }
        if (!rxRing && !txRing) {
            throw new IllegalArgumentException("packet socket on " + interfaceName + ": neither an RX nor a TX ring");
        }
        require(fanoutGroup >= -1 && fanoutGroup <= 0xffff, "fanoutGroup", fanoutGroup, "between 0 and 65535 (or -1: none)");
        concluded = true;
        return this;
    }

    private void require(boolean ok, String field, int value, String what) {
        if (!ok) {
            throw new IllegalArgumentException("packet socket on " + interfaceName + ": " + field + " is " + value
                    + ", must be " + what);
        }
    }

    public String interfaceName() {
        return interfaceName;
    }

    public int rxBlockSize() {
        return rxBlockSize;
    }

    public int rxBlockCount() {
        return rxBlockCount;
    }

    public int rxFrameSize() {
        return rxFrameSize;
    }

    public int txFrameSize() {
        return txFrameSize;
    }

    public int txFrameCount() {
        return txFrameCount;
    }

    public boolean rxRing() {
        return rxRing;
    }

    public boolean txRing() {
        return txRing;
    }

    public int fanoutGroup() {
        return fanoutGroup;
    }

    public FanoutMode fanoutMode() {
        return fanoutMode;
    }

    public boolean qdiscBypass() {
        return qdiscBypass;
    }

    public boolean vnetHeader() {
        return vnetHeader;
    }

    public boolean ignoreOutgoing() {
        return ignoreOutgoing;
    }

    /** The TX ring's block size: 64 KiB of whole slots, or one page-rounded slot when slots are larger. */
    int txBlockSize() {
        int pageRounded = ((txFrameSize + PAGE_SIZE - 1) / PAGE_SIZE) * PAGE_SIZE;
        return Math.max(pageRounded, 64 * 1024);
    }
}
