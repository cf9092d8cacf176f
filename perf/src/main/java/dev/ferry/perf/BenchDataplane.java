package dev.ferry.perf;

import dev.ferry.conntrack.ConntrackState;
import dev.ferry.conntrack.ConntrackTable;
import dev.ferry.conntrack.ConntrackTimeouts;
import dev.ferry.conntrack.FlowKey;
import dev.ferry.dataplane.counters.CounterType;
import dev.ferry.dataplane.counters.DataplaneCounters;
import dev.ferry.dataplane.lb.ClientIpAffinitySelector;
import dev.ferry.dataplane.lb.ClientIpAffinityTable;
import dev.ferry.dataplane.nat.SnatRange;
import dev.ferry.dataplane.packet.DropReason;
import dev.ferry.dataplane.packet.Ipv4Packet;
import dev.ferry.dataplane.packet.PacketWriter;
import dev.ferry.dataplane.pipeline.PacketProcessor;
import dev.ferry.dataplane.pipeline.ServiceTableHolder;
import dev.ferry.dataplane.service.ServiceRouter;
import dev.ferry.dataplane.service.ServiceTable;
import dev.ferry.nativeio.IpProtocol;
import org.agrona.BufferUtil;
import org.agrona.concurrent.UnsafeBuffer;

import static dev.ferry.perf.SyntheticCluster.NOW_MS;
import static dev.ferry.perf.SyntheticCluster.SERVICE_PORT;

/**
 * One worker's {@link PacketProcessor}, built as the dataplane builds it (conntrack table,
 * service snapshot, ClientIP-affinity router, default SNAT range, a worker's counters), over a
 * {@link SyntheticCluster}, with the control-side helpers the benchmarks need to set flows up.
 * Setting up goes through the processor itself (SYN, SYN/ACK, ACK), so the conntrack entries
 * are exactly those the dataplane would hold.
 */
public final class BenchDataplane implements AutoCloseable {
    /** Every benchmark packet: 20-byte IPv4 header, 20-byte TCP header, 20 bytes of payload. */
    public static final int PACKET_LENGTH = 60;
    private static final int PAYLOAD_LENGTH = PACKET_LENGTH - 40;
    private static final int SYN = 0x02;
    private static final int ACK = 0x10;
    private static final long CLIENT_ISN = 1000;
    private static final long SERVER_ISN = 5000;

    public final ServiceTable table;
    public final ConntrackTable conntrack;
    public final DataplaneCounters counters;
    public final PacketProcessor processor;
    /** The receive buffer benchmarks copy templates into: off-heap and cache-line aligned, like a ring slot. */
    public final UnsafeBuffer packet = new UnsafeBuffer(BufferUtil.allocateDirectAligned(2048, 64));

    private final int services;
    private final FlowKey key = new FlowKey();

    public BenchDataplane(final int services, final int conntrackCapacity) {
        this.services = services;
        this.table = ServiceTable.compile(SyntheticCluster.node(), SyntheticCluster.services(services));
        this.conntrack = ConntrackTable.inMemory(conntrackCapacity, ConntrackTimeouts.kubeProxyDefaults());
        this.counters = DataplaneCounters.inMemory(1);
        this.processor = new PacketProcessor(conntrack, new ServiceTableHolder(table),
            new ServiceRouter(new ClientIpAffinitySelector(new ClientIpAffinityTable())),
            SnatRange.defaults(SyntheticCluster.NODE_IP), counters.queue(0));
    }

    /** The service flow {@code flow} connects to: flows are spread round-robin over the services. */
    public int serviceOf(final int flow) {
        return flow % services;
    }

    /** Writes the first packet of {@code flow} (a SYN) into template slot {@code slot}. */
    public void writeSyn(final SyntheticCluster.Source source, final int flow, final PacketTemplates templates, final int slot) {
        PacketWriter.tcp(templates.region(), PacketTemplates.offset(slot),
            SyntheticCluster.clientAddress(source, flow), SyntheticCluster.clientPort(flow),
            SyntheticCluster.clusterIp(serviceOf(flow)), SERVICE_PORT, SYN, CLIENT_ISN, 0, PAYLOAD_LENGTH);
    }

    /**
     * Sends the SYN of {@code flow} through the processor (a new flow: routed, inserted, NATed).
     *
     * @throws IllegalStateException if the processor did not forward it
     */
    public void open(final SyntheticCluster.Source source, final int flow) {
        final int client = SyntheticCluster.clientAddress(source, flow);
        final int clientPort = SyntheticCluster.clientPort(flow);
        final int length = PacketWriter.tcp(packet, 0, client, clientPort,
            SyntheticCluster.clusterIp(serviceOf(flow)), SERVICE_PORT, SYN, CLIENT_ISN, 0, 0);
        expectForward(processor.process(packet, 0, length, NOW_MS), "SYN of flow " + flow);
    }

    /**
     * Runs the three-way handshake of {@code flow} through the processor, checks that its conntrack
     * entry is ESTABLISHED, then writes a 60-byte ACK data packet of each direction as the wire
     * would carry it into the templates (either may be null): client → ClusterIP, and
     * backend → client (or → node SNAT port when masqueraded).
     */
    public void establish(final SyntheticCluster.Source source, final int flow,
                          final PacketTemplates original, final PacketTemplates reply, final int slot) {
        final int client = SyntheticCluster.clientAddress(source, flow);
        final int clientPort = SyntheticCluster.clientPort(flow);
        final int vip = SyntheticCluster.clusterIp(serviceOf(flow));
        open(source, flow);
        final Ipv4Packet out = processor.packet();
        final int backend = out.dstAddr();
        final int backendPort = out.dstPort();
        final int natSrc = out.srcAddr();
        final int natPort = out.srcPort();

        int length = PacketWriter.tcp(packet, 0, backend, backendPort, natSrc, natPort, SYN | ACK, SERVER_ISN, CLIENT_ISN + 1, 0);
        expectForward(processor.process(packet, 0, length, NOW_MS), "SYN/ACK of flow " + flow);
        length = PacketWriter.tcp(packet, 0, client, clientPort, vip, SERVICE_PORT, ACK, CLIENT_ISN + 1, SERVER_ISN + 1, 0);
        expectForward(processor.process(packet, 0, length, NOW_MS), "ACK of flow " + flow);

        key.setIpv4(IpProtocol.TCP, client, clientPort, vip, SERVICE_PORT);
        final long handle = conntrack.find(key);
        if (handle < 0 || conntrack.state(handle) != ConntrackState.ESTABLISHED) {
            throw new IllegalStateException("flow " + flow + " (" + key + ") is not ESTABLISHED after its handshake");
        }
        if (original != null) {
            PacketWriter.tcp(original.region(), PacketTemplates.offset(slot), client, clientPort, vip, SERVICE_PORT,
                ACK, CLIENT_ISN + 1, SERVER_ISN + 1, PAYLOAD_LENGTH);
        }
        if (reply != null) {
            PacketWriter.tcp(reply.region(), PacketTemplates.offset(slot), backend, backendPort, natSrc, natPort,
                ACK, SERVER_ISN + 1, CLIENT_ISN + 1 + PAYLOAD_LENGTH, PAYLOAD_LENGTH);
        }
    }

    /** Deletes the conntrack entry of {@code flow}; allocation-free. @return false if it was not tracked */
    public boolean delete(final SyntheticCluster.Source source, final int flow) {
        key.setIpv4(IpProtocol.TCP, SyntheticCluster.clientAddress(source, flow), SyntheticCluster.clientPort(flow),
            SyntheticCluster.clusterIp(serviceOf(flow)), SERVICE_PORT);
        final long handle = conntrack.find(key);
        return handle >= 0 && conntrack.delete(handle);
    }

    /** Packets dropped so far, all reasons (a benchmark that measured the intended path saw none). */
    public long drops() {
        long sum = 0;
        for (final DropReason reason : DropReason.values()) {
            sum += counters.total(reason);
        }
        return sum;
    }

    /**
     * Fails the trial when the measured packets did not all take the intended path: anything
     * dropped, or a new-flow count other than {@code expectedNewFlows}.
     */
    public void verify(final long expectedNewFlows, final String benchmark) {
        final long drops = drops();
        final long newFlows = counters.total(CounterType.NEW_FLOWS);
        if (drops != 0 || newFlows != expectedNewFlows) {
            throw new IllegalStateException(benchmark + " left the intended path: " + drops + " drops, "
                + newFlows + " new flows where " + expectedNewFlows + " were expected");
        }
    }

    private void expectForward(final PacketProcessor.Action action, final String what) {
        if (action != PacketProcessor.Action.FORWARD) {
            throw new IllegalStateException(what + ": expected FORWARD, got " + action
                + (processor.lastDropReason() == null ? "" : " (" + processor.lastDropReason().description() + ")")
                + "; conntrack holds " + conntrack.size() + " of " + conntrack.capacity() + " flows");
        }
    }

    @Override
    public void close() {
        conntrack.close();
        counters.close();
    }
}
