package dev.ferry.dataplane.pipeline;

import dev.ferry.conntrack.ConntrackState;
import dev.ferry.conntrack.ConntrackTable;
import dev.ferry.conntrack.FlowKey;
import dev.ferry.conntrack.TcpFlags;
import dev.ferry.dataplane.counters.CounterType;
import dev.ferry.dataplane.counters.WorkerCounters;
import dev.ferry.dataplane.nat.FlowFlags;
import dev.ferry.dataplane.nat.NatRewriter;
import dev.ferry.dataplane.nat.SnatRange;
import dev.ferry.dataplane.packet.DropReason;
import dev.ferry.dataplane.packet.Ipv4Packet;
import dev.ferry.dataplane.packet.PacketWriter;
import dev.ferry.dataplane.service.RouteDecision;
import dev.ferry.dataplane.service.ServiceRouter;
import dev.ferry.dataplane.service.ServiceTable;
import dev.ferry.nativeio.IpProtocol;
import org.agrona.MutableDirectBuffer;
import org.agrona.concurrent.UnsafeBuffer;

import java.nio.ByteBuffer;

/**
 * What a worker does to one packet: parse, conntrack, service lookup, backend selection,
 * NAT, checksums. The same code runs for {@code ferry trace}, on a packet trace builds.
 *
 * <pre>
 *  parse ──bad──► DROP (counted by reason)
 *    │
 *    ├─ ICMP error quoting a tracked flow ─► translate outer + quoted header ─► FORWARD
 *    ├─ no ports (other protocols, non-first fragments) ─► PASS, or DROP if aimed at a service CIDR
 *    │
 *  conntrack find(5-tuple)
 *    ├─ hit, original direction ─► rewrite to the reply tuple reversed ─► FORWARD
 *    ├─ hit, reply direction    ─► rewrite to the original tuple reversed ─► FORWARD
 *    └─ miss ─► ServiceRouter.route
 *         ├─ PASS / LOCAL ─► FORWARD unchanged
 *         ├─ DROP ─► DROP
 *         ├─ REJECT ─► REPLY (TCP RST, or ICMP port unreachable for UDP/SCTP)
 *         └─ DNAT ─► conntrack insert (SNAT port chosen when masquerading) ─► rewrite ─► FORWARD
 * </pre>
 *
 * One instance per worker: it owns scratch keys and the reply buffer. No allocation and no
 * lock per packet; the conntrack table and the service snapshot are shared.
 */
public final class PacketProcessor {
    /** What to do with the packet after {@link #process}. */
    public enum Action {
        /** Send the packet (rewritten or not) back to the kernel. */
        FORWARD,
        /** Send {@link #replyBuffer()} (a reject answer) back to the kernel instead. */
        REPLY,
        /** Drop it; {@link #lastDropReason()} says why. */
        DROP
    }

    /**
     * SNAT tuples a new flow looks at before it takes over a finished flow's or is refused
     * (netfilter's first round is 128 as well): bounds the cost of a SYN when the range is full.
     */
    static final int SNAT_PROBES = 128;
    /**
     * Tuples looked at after the first finished one met, for a free or an older finished one:
     * bounds the cost when the range is full of TIME_WAIT (the steady state of heavy churn) to
     * about this many lookups instead of {@link #SNAT_PROBES} (measured in docs/PERFORMANCE.md).
     */
    static final int SNAT_PROBES_AFTER_FINISHED = 16;
    /** Distinct walks through the SNAT range, chosen by the flow's hash. */
    private static final int SNAT_STRIDES = 64;
    /** Rank bonus of a tuple whose flow ended by a reset or expired: no endpoint holds it in TIME_WAIT. */
    private static final long NO_TIME_WAIT_PREFERENCE = 1L << 62;
    private static final int REPLY_CAPACITY = PacketWriter.ICMP_ERROR_MAX_LENGTH + 64;

    /**
     * The reply tuple of the masqueraded flow a SYN re-opens (a client reusing its source port
     * while the old flow is in TIME_WAIT or CLOSE), kept for {@link #insertAndTranslate}: the new
     * flow gets the same SNAT tuple when its backend is the same. The backend then sees the same
     * 4-tuple as before, whose TIME_WAIT socket the client's timestamps (per 4-tuple on Linux)
     * pass; a new SNAT port would leave the old one free for a different client, whose older
     * timestamps the backend's TIME_WAIT refuses (PAWS), stalling that connect a full SYN
     * retransmission. {@code reopenedNatPort} is 0 when the packet re-opens nothing.
     */
    private int reopenedBackend;
    private int reopenedBackendPort;
    private int reopenedNatAddress;
    private int reopenedNatPort;

    private final ConntrackTable conntrack;
    private final ServiceTableHolder tables;
    private final ServiceRouter router;
    private final SnatRange snat;
    private final int[] snatStrides;
    /** Advanced per SNAT search, so a retransmitted SYN walks other tuples than the refused one did. */
    private long snatSalt = java.util.concurrent.ThreadLocalRandom.current().nextLong();
    private final WorkerCounters counters;

    private final Ipv4Packet packet = new Ipv4Packet();
    private final FlowKey key = new FlowKey();
    private final FlowKey original = new FlowKey();
    private final FlowKey reply = new FlowKey();
    private final RouteDecision decision = new RouteDecision();
    private final UnsafeBuffer replyBuffer;
    private final int replyHeadroom;

    private int replyLength;
    private boolean checksumPartial;
    private DropReason lastDropReason;
    private boolean lastRouted;

    public PacketProcessor(final ConntrackTable conntrack, final ServiceTableHolder tables, final ServiceRouter router,
                           final SnatRange snat, final WorkerCounters counters) {
        this(conntrack, tables, router, snat, counters, 0);
    }

    /**
     * @param replyHeadroom bytes left free before a reject answer in {@link #replyBuffer()}, for
     *                      the port's metadata
     */
    public PacketProcessor(final ConntrackTable conntrack, final ServiceTableHolder tables, final ServiceRouter router,
                           final SnatRange snat, final WorkerCounters counters, final int replyHeadroom) {
        this.replyHeadroom = replyHeadroom;
        this.replyBuffer = new UnsafeBuffer(ByteBuffer.allocateDirect(REPLY_CAPACITY + replyHeadroom));
        this.conntrack = conntrack;
        this.tables = tables;
        this.router = router;
        this.snat = snat;
        this.snatStrides = snat.probeStrides(SNAT_STRIDES);
        this.counters = counters;
    }

    /**
     * Processes the packet at {@code offset} in place.
     *
     * @param length captured bytes (may exceed the IPv4 total length by link padding)
     * @param nowMs  the worker's clock (epoch milliseconds)
     */
    public Action process(final MutableDirectBuffer buffer, final int offset, final int length, final long nowMs) {
        return process(buffer, offset, length, nowMs, false);
    }

    /**
     * As {@link #process(MutableDirectBuffer, int, int, long)}, for a packet whose TCP/UDP
     * checksum is partial (the kernel completes it after us; see {@link NatRewriter}).
     */
    public Action process(final MutableDirectBuffer buffer, final int offset, final int length, final long nowMs,
                          final boolean l4ChecksumPartial) {
        checksumPartial = l4ChecksumPartial;
        lastRouted = false;
        lastDropReason = null;
        final DropReason malformed = packet.wrap(buffer, offset, length);
        if (malformed != null) {
            if (malformed == DropReason.BAD_IP_VERSION && length > 0 && ((buffer.getByte(offset) & 0xF0) == 0x60)) {
                counters.increment(CounterType.PASSED); // IPv6 is not translated yet; the kernel routes it as usual
                return Action.FORWARD;
            }
            return drop(malformed);
        }

        if (packet.isIcmpError() && packet.quotedHasPorts()) {
            return translateIcmpError();
        }
        if (!packet.hasPorts()) {
            return passOrDropPortless();
        }

        final int protocol = packet.protocol();
        final int src = packet.srcAddr();
        final int dst = packet.dstAddr();
        final int srcPort = packet.srcPort();
        final int dstPort = packet.dstPort();
        key.setIpv4(protocol, src, srcPort, dst, dstPort);
        reopenedNatPort = 0;
        final long handle = conntrack.find(key);
        if (handle >= 0) {
            final boolean reopens = reopensClosedFlow(handle);
            if (conntrack.expiresAtMs(handle) > nowMs && !reopens) {
                final Action action = translateTracked(handle, nowMs);
                if (action != null) {
                    return action;
                }
            } else {
                // Expired but not yet swept, or a new SYN on a connection in TIME_WAIT/CLOSE
                // (a reused source port): the old flow is over and this packet starts a new one
                // with a fresh routing decision, as netfilter does.
                if (reopens && FlowFlags.masqueraded(conntrack.flags(handle)) && readChecked(handle, false)) {
                    reopenedBackend = reply.srcIpv4();
                    reopenedBackendPort = reply.srcPort();
                    reopenedNatAddress = reply.dstIpv4();
                    reopenedNatPort = reply.dstPort();
                }
                conntrack.delete(handle);
            }
        }
        return routeNewFlow(protocol, src, srcPort, dst, dstPort, nowMs);
    }

    /** Translates a packet of a tracked flow; null when the entry was deleted under us (the caller routes anew). */
    private Action translateTracked(final long handle, final long nowMs) {
        final boolean originalDirection = ConntrackTable.direction(handle) == 0;
        if (!readChecked(handle, !originalDirection)) {
            return null;
        }
        conntrack.onPacket(handle, packet.tcpFlags(), packet.totalLength(), nowMs);
        if (originalDirection) {
            NatRewriter.translate(packet, reply.dstIpv4(), reply.dstPort(), reply.srcIpv4(), reply.srcPort(), checksumPartial);
        } else {
            NatRewriter.translate(packet, original.dstIpv4(), original.dstPort(), original.srcIpv4(), original.srcPort(), checksumPartial);
        }
        counters.increment(CounterType.TRANSLATED);
        return Action.FORWARD;
    }

    /**
     * Reads one tuple of the entry into {@link #original} or {@link #reply}, if the entry is
     * still the flow the handle names (another queue, gc or a flush may have deleted it and an
     * insert reused it since the lookup: {@link ConntrackTable#readOriginalIfLive}).
     */
    private boolean readChecked(final long handle, final boolean readOriginal) {
        return readOriginal ? conntrack.readOriginalIfLive(handle, original) : conntrack.readReplyIfLive(handle, reply);
    }

    /** An original-direction SYN (no ACK) on a connection that is closing or closed. */
    private boolean reopensClosedFlow(final long handle) {
        if ((packet.tcpFlags() & (TcpFlags.SYN | TcpFlags.ACK)) != TcpFlags.SYN || ConntrackTable.direction(handle) != 0) {
            return false;
        }
        final int state = conntrack.state(handle);
        return state == ConntrackState.TIME_WAIT || state == ConntrackState.CLOSE;
    }

    private Action routeNewFlow(final int protocol, final int src, final int srcPort, final int dst, final int dstPort, final long nowMs) {
        final ServiceTable table = tables.get();
        router.route(table, protocol, src, srcPort, dst, dstPort, nowMs, decision);
        lastRouted = true;
        switch (decision.verdict()) {
            case PASS -> {
                counters.increment(CounterType.PASSED);
                return Action.FORWARD;
            }
            case LOCAL -> {
                counters.increment(CounterType.LOCAL);
                return Action.FORWARD;
            }
            case DROP -> {
                return drop(DropReason.SERVICE_POLICY);
            }
            case REJECT -> {
                return reject();
            }
            case DNAT -> {
                return insertAndTranslate(protocol, src, srcPort, dst, dstPort, nowMs);
            }
            default -> throw new IllegalStateException("unhandled verdict " + decision.verdict());
        }
    }

    /**
     * Inserts the new flow and translates its first packet. The reply tuple is the backend
     * towards the flow's new source: the client itself (DNAT only), or the SNAT range.
     *
     * <p>SNAT tuple choice, per backend address and port: walk at most {@link #SNAT_PROBES}
     * tuples of the range ({@link SnatRange}: start and stride from the flow's hash and a
     * per-worker pseudo-random salt, so that, as with netfilter's random start, a SYN retransmitted
     * after a refusal walks other tuples), looking each up in
     * conntrack (a read, no write). The first free one is taken. Taken ones whose flow is over
     * (TCP TIME_WAIT or CLOSE, or expired before gc swept it) are remembered, and once one is,
     * the walk goes on for at most {@link #SNAT_PROBES_AFTER_FINISHED} more tuples; when it finds
     * nothing free, the best of those is taken over: its entry deleted by
     * {@link ConntrackTable#deleteIfOver} (never a live flow) and the new flow inserted in its
     * place, as netfilter lets a new SYN take over a tuple in TIME_WAIT. Free first, as netfilter
     * does, because a backend that closed first keeps its own TIME_WAIT socket on the old tuple
     * (60 s on Linux, less than conntrack's 120 s) and may not accept a new SYN on it; for the
     * same reason a tuple freed by a reset or expiry beats one in TIME_WAIT, and the oldest
     * TIME_WAIT beats younger ones. Nothing free or finished in the walk: the SYN is dropped as
     * {@code snat_ports_exhausted}; established flows are untouched.
     */
    private Action insertAndTranslate(final int protocol, final int src, final int srcPort, final int dst, final int dstPort, final long nowMs) {
        final boolean masquerade = decision.masquerade();
        final int natSrc = masquerade ? snat.address() : src;
        original.setIpv4(protocol, src, srcPort, dst, dstPort);

        // Unmasqueraded flows keep their source port unless another flow already owns the
        // same reply tuple (two services DNATing one client port to one backend); then, like
        // netfilter's clash resolution, they move to a port of the SNAT range.
        if (!masquerade) {
            final Action action = insertWithReply(natSrc, srcPort, nowMs);
            if (action != null) {
                return action;
            }
        }

        if (reopenedNatPort != 0 && reopenedNatAddress == natSrc && reopenedBackend == decision.backendAddress()
            && reopenedBackendPort == decision.backendPort() && reopenedNatPort >= snat.minPort() && reopenedNatPort <= snat.maxPort()) {
            final Action action = insertWithReply(natSrc, reopenedNatPort, nowMs); // the re-opened flow's own tuple, freed just now
            if (action != null) {
                return action;
            }
        }

        final int size = snat.size();
        snatSalt = snatSalt * 6364136223846793005L + 1442695040888963407L; // Knuth's MMIX LCG
        final long h = (key.hash() ^ snatSalt) * 0x9E37_79B9_7F4A_7C15L;
        int index = (int) (((h >>> 32) * size) >>> 32);
        final int stride = snatStrides[(int) (h >>> 20) & (SNAT_STRIDES - 1)];
        int probes = Math.min(size, SNAT_PROBES);
        final int backend = decision.backendAddress();
        final int backendPort = decision.backendPort();
        long finished = ConntrackTable.NOT_FOUND;
        long finishedRank = Long.MAX_VALUE;
        int finishedIndex = 0;
        for (int i = 0; i < probes; i++) {
            reply.setIpv4(protocol, backend, backendPort, natSrc, snat.portAt(index));
            final long holder = conntrack.find(reply);
            if (holder < 0) {
                final Action action = insertWithReply(natSrc, snat.portAt(index), nowMs);
                if (action != null) {
                    return action;
                }
            } else if (conntrack.isOver(holder, nowMs)) {
                if (finished < 0) {
                    probes = Math.min(probes, i + 1 + SNAT_PROBES_AFTER_FINISHED);
                }
                final long rank = takeOverRank(holder, nowMs);
                if (rank < finishedRank) {
                    finished = holder;
                    finishedRank = rank;
                    finishedIndex = index;
                }
            }
            index += stride;
            if (index >= size) {
                index -= size;
            }
        }
        if (finished >= 0) {
            if (conntrack.deleteIfOver(finished, nowMs)) {
                counters.increment(CounterType.SNAT_TUPLES_REUSED);
            }
            // Also when another worker or gc deleted it first: the insert says whether it is free.
            final Action action = insertWithReply(natSrc, snat.portAt(finishedIndex), nowMs);
            if (action != null) {
                return action;
            }
        }
        return drop(DropReason.SNAT_PORTS_EXHAUSTED);
    }

    /** Lower is better: ended by a reset or expired first, then the longest finished. */
    private long takeOverRank(final long holder, final long nowMs) {
        final long lastPacketMs = conntrack.lastPacketMs(holder);
        final boolean noTimeWait = conntrack.state(holder) == ConntrackState.CLOSE || conntrack.expiresAtMs(holder) <= nowMs;
        return noTimeWait ? lastPacketMs - NO_TIME_WAIT_PREFERENCE : lastPacketMs;
    }

    /**
     * Inserts {@link #original} with the reply tuple backend → {@code natSrc:natPort} and
     * translates the packet; or drops it when conntrack is full. Null when the reply tuple is
     * taken (the caller tries another).
     */
    private Action insertWithReply(final int natSrc, final int natPort, final long nowMs) {
        final int backend = decision.backendAddress();
        final int backendPort = decision.backendPort();
        reply.setIpv4(original.protocol(), backend, backendPort, natSrc, natPort);
        for (int attempt = 0; attempt < 2; attempt++) {
            final long handle = conntrack.insert(original, reply, decision.servicePort().id(),
                decision.masquerade() ? FlowFlags.MASQUERADED : 0, nowMs);
            if (handle >= 0) {
                conntrack.onPacket(handle, packet.tcpFlags(), packet.totalLength(), nowMs);
                NatRewriter.translate(packet, natSrc, natPort, backend, backendPort, checksumPartial);
                counters.increment(CounterType.NEW_FLOWS);
                return Action.FORWARD;
            }
            if (handle == ConntrackTable.TABLE_FULL) {
                return drop(DropReason.CONNTRACK_FULL);
            }
            if (handle == ConntrackTable.REPLY_EXISTS) {
                return null;
            }
            final long existing = conntrack.find(key); // ORIGINAL_EXISTS: another worker won the race for this flow
            if (existing >= 0) {
                final Action action = translateTracked(existing, nowMs);
                if (action != null) {
                    return action;
                }
            }
            // both racing inserters withdrew: once more on the same tuple
        }
        return null;
    }

    private Action reject() {
        if (packet.protocol() == IpProtocol.TCP && (packet.tcpFlags() & TcpFlags.RST) != 0) {
            return drop(DropReason.SERVICE_POLICY); // never answer a reset with a reset
        }
        counters.increment(CounterType.REJECTED);
        if (packet.protocol() == IpProtocol.TCP) {
            replyLength = PacketWriter.tcpResetFor(packet, replyBuffer, replyHeadroom);
        } else {
            replyLength = PacketWriter.icmpUnreachableFor(packet, Ipv4Packet.ICMP_CODE_PORT_UNREACHABLE, replyBuffer, replyHeadroom);
        }
        return Action.REPLY;
    }

    /**
     * An ICMP error quotes a packet that already went through translation. The flow it quotes,
     * reversed, is one of the conntrack tuples: if the reply tuple, the error travels towards
     * the client and the quoted packet is restored to the original tuple; if the original
     * tuple, the error travels towards the backend and the quoted packet becomes the reply
     * tuple. The outer addresses follow the quoted packet, reversed, as netfilter does.
     */
    private Action translateIcmpError() {
        key.setIpv4(packet.quotedProtocol(), packet.quotedDstAddr(), packet.quotedDstPort(), packet.quotedSrcAddr(), packet.quotedSrcPort());
        final long handle = conntrack.find(key);
        final FlowKey quoted = ConntrackTable.direction(handle) == 1 ? original : reply;
        if (handle < 0 || !readChecked(handle, quoted == original)) {
            if (tables.get().isServiceAddress(packet.dstAddr())) {
                return drop(DropReason.SERVICE_POLICY); // passed back, it would loop through ferry0
            }
            counters.increment(CounterType.PASSED);
            return Action.FORWARD;
        }
        NatRewriter.translateIcmpError(packet, quoted.dstIpv4(), quoted.srcIpv4(),
            quoted.srcIpv4(), quoted.srcPort(), quoted.dstIpv4(), quoted.dstPort());
        counters.increment(CounterType.ICMP_ERRORS_TRANSLATED);
        return Action.FORWARD;
    }

    /**
     * Packets without ports: other protocols (ICMP echo, ...) and non-first fragments.
     * Nothing answers those on a service address, and passing them back would loop them
     * through ferry0 (the service CIDRs are routed here), so they are dropped there.
     * Non-first fragments of translated flows are not reassembled: a service flow's later
     * fragments would arrive here too, aimed at the service address, and are dropped.
     */
    private Action passOrDropPortless() {
        final ServiceTable table = tables.get();
        final int dst = packet.dstAddr();
        if (table.isServiceAddress(dst)) {
            return drop(packet.isFragment() ? DropReason.FRAGMENT_WITHOUT_FLOW : DropReason.SERVICE_POLICY);
        }
        counters.increment(CounterType.PASSED);
        return Action.FORWARD;
    }

    private Action drop(final DropReason reason) {
        lastDropReason = reason;
        counters.drop(reason);
        return Action.DROP;
    }

    /** The reject answer written by the last {@link Action#REPLY}, after {@code replyHeadroom} bytes. */
    public UnsafeBuffer replyBuffer() {
        return replyBuffer;
    }

    public int replyLength() {
        return replyLength;
    }

    public DropReason lastDropReason() {
        return lastDropReason;
    }

    /** True when the last packet was a new flow that went through the service router. */
    public boolean lastRouted() {
        return lastRouted;
    }

    /** The router's decision for the last new flow (valid when {@link #lastRouted()}). */
    public RouteDecision lastDecision() {
        return decision;
    }

    /** The 5-tuple of the last packet as it arrived (before translation); for tests. */
    FlowKey lastDecisionKeyForTest() {
        return key;
    }

    /** The flyweight over the last packet, as rewritten. */
    public Ipv4Packet packet() {
        return packet;
    }

    public ConntrackTable conntrack() {
        return conntrack;
    }
}
