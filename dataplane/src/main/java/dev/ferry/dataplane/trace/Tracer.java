package dev.ferry.dataplane.trace;

import dev.ferry.conntrack.ConntrackTable;
import dev.ferry.conntrack.ConntrackTimeouts;
import dev.ferry.dataplane.addr.Ipv4;
import dev.ferry.dataplane.counters.DataplaneCounters;
import dev.ferry.dataplane.lb.ClientIpAffinitySelector;
import dev.ferry.dataplane.lb.ClientIpAffinityTable;
import dev.ferry.dataplane.lb.RandomSelector;
import dev.ferry.dataplane.nat.SnatRange;
import dev.ferry.dataplane.packet.Ipv4Packet;
import dev.ferry.dataplane.packet.PacketWriter;
import dev.ferry.dataplane.pipeline.PacketProcessor;
import dev.ferry.dataplane.pipeline.ServiceTableHolder;
import dev.ferry.dataplane.service.LocalAddresses;
import dev.ferry.dataplane.service.RouteDecision;
import dev.ferry.dataplane.service.ServiceRouter;
import dev.ferry.dataplane.service.ServiceTable;
import dev.ferry.dataplane.service.Verdict;
import org.agrona.concurrent.UnsafeBuffer;

import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;

/**
 * Runs one synthetic first packet (a TCP SYN, a UDP datagram or an SCTP INIT) through the
 * {@link PacketProcessor} the workers run, on a private conntrack table, and reports what
 * happened: the verdict and reason from the router, the backend and masquerade read back
 * from the rewritten packet. It is the workers' code, not a second implementation.
 */
public final class Tracer {
    private static final long TRACE_TIME_MS = 1_000_000L;
    private static final int TRACE_CONNTRACK_CAPACITY = 1024;

    private final ServiceTable table;
    private final ServiceTableHolder holder;
    private final LocalAddresses localAddresses;
    private final ClientIpAffinityTable affinity = new ClientIpAffinityTable(1024);
    private final UnsafeBuffer buffer = new UnsafeBuffer(new byte[2048]);

    /** A tracer that knows the node by its config's nodeIPs only (ferry trace without an agent). */
    public Tracer(final ServiceTable table) {
        this(table, new LocalAddresses());
    }

    /** A tracer that also knows the node's live local addresses (a running agent's /trace). */
    public Tracer(final ServiceTable table, final LocalAddresses localAddresses) {
        this.table = table;
        this.holder = new ServiceTableHolder(table);
        this.localAddresses = localAddresses;
    }

    /** Traces one flow as a first packet: each call starts from an empty conntrack table. */
    public TraceResult trace(final TraceFlow flow) {
        final int snatAddress = table.node().nodeIps().isEmpty() ? 0 : table.node().nodeIps().getFirst();
        try (ConntrackTable conntrack = ConntrackTable.inMemory(TRACE_CONNTRACK_CAPACITY, ConntrackTimeouts.kubeProxyDefaults());
             DataplaneCounters counters = DataplaneCounters.inMemory(1)) {
            // A fixed seed: the same question gets the same answer.
            final ServiceRouter router = new ServiceRouter(
                new ClientIpAffinitySelector(affinity, new RandomSelector(new SplittableRandom(flow.hashCode()))), localAddresses);
            final PacketProcessor processor = new PacketProcessor(conntrack, holder, router, SnatRange.defaults(snatAddress), counters.queue(0));
            final int length = writeFirstPacket(flow);
            final PacketProcessor.Action action = processor.process(buffer, 0, length, TRACE_TIME_MS);
            return describe(processor, action, flow);
        }
    }

    private int writeFirstPacket(final TraceFlow flow) {
        final int sport = flow.effectiveSrcPort();
        return switch (flow.protocol()) {
            case TCP -> PacketWriter.tcp(buffer, 0, flow.srcAddr(), sport, flow.dstAddr(), flow.dstPort(), 0x02, 1, 0, 0);
            case UDP -> PacketWriter.udp(buffer, 0, flow.srcAddr(), sport, flow.dstAddr(), flow.dstPort(), 16, (byte) 't', true);
            case SCTP -> PacketWriter.sctpInit(buffer, 0, flow.srcAddr(), sport, flow.dstAddr(), flow.dstPort(), 0x1234);
        };
    }

    private static TraceResult describe(final PacketProcessor processor, final PacketProcessor.Action action, final TraceFlow flow) {
        if (!processor.lastRouted()) {
            final String why = action == PacketProcessor.Action.DROP
                ? "dropped before service lookup: " + processor.lastDropReason().description()
                : "not service traffic";
            return new TraceResult(action == PacketProcessor.Action.DROP ? Verdict.DROP.name() : Verdict.PASS.name(),
                null, List.of(), null, false, why);
        }
        final RouteDecision decision = processor.lastDecision();
        final List<String> candidates = new ArrayList<>();
        final List<long[]> sortable = new ArrayList<>();
        for (int i = 0; i < decision.candidateCount(); i++) {
            sortable.add(new long[] {decision.candidateAddress(i) & 0xFFFFFFFFL, decision.candidatePort(i)});
        }
        sortable.sort((a, b) -> a[0] != b[0] ? Long.compare(a[0], b[0]) : Long.compare(a[1], b[1]));
        for (final long[] c : sortable) {
            candidates.add(Ipv4.format((int) c[0], (int) c[1]));
        }
        final String service = decision.servicePort() == null ? null : decision.servicePort().displayName();
        String verdict = decision.verdict().name();
        String reason = decision.reason().description();
        String selected = null;
        boolean masquerade = false;
        if (decision.verdict() == Verdict.DNAT) {
            if (action == PacketProcessor.Action.DROP) {
                verdict = Verdict.DROP.name();
                reason = processor.lastDropReason().description();
            } else {
                final Ipv4Packet out = processor.packet();
                selected = Ipv4.format(out.dstAddr(), out.dstPort());
                masquerade = out.srcAddr() != flow.srcAddr();
                if (masquerade) {
                    reason = reason + "; source masqueraded to " + Ipv4.format(out.srcAddr(), out.srcPort())
                        + " (" + decision.masqueradeReason().description() + ")";
                }
            }
        }
        return new TraceResult(verdict, service, candidates, selected, masquerade, reason);
    }
}
