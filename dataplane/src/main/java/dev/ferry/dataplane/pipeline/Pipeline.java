package dev.ferry.dataplane.pipeline;

import dev.ferry.conntrack.ConntrackTable;
import dev.ferry.dataplane.counters.DataplaneCounters;
import dev.ferry.dataplane.lb.ClientIpAffinitySelector;
import dev.ferry.dataplane.lb.ClientIpAffinityTable;
import dev.ferry.dataplane.nat.SnatRange;
import dev.ferry.dataplane.port.PacketPort;
import dev.ferry.dataplane.service.LocalAddresses;
import dev.ferry.dataplane.service.ServiceRouter;
import org.agrona.CloseHelper;
import org.agrona.concurrent.AgentRunner;
import org.agrona.concurrent.EpochClock;
import org.agrona.concurrent.SystemEpochClock;

import java.util.ArrayList;
import java.util.List;
import java.util.Objects;

/**
 * The dataplane's threads: one per queue of the device, each running to completion.
 *
 * <pre>
 *  kernel ─► port queue 0 ─► QueueAgent 0: receive batch ─► PacketProcessor in place ─► send ─► flush ─► kernel
 *  kernel ─► port queue 1 ─► QueueAgent 1: ...                                                      (shared:
 *    ...                                                                     conntrack, affinity, service table)
 *  idle: spin {@link Context#idleSpinNs} ─► poll(2) on the queue's fd, at most {@link Context#idlePollTimeoutMs}
 * </pre>
 *
 * A packet never changes threads: the kernel spreads flows over the queues (TUN multi-queue,
 * AF_PACKET fanout by flow hash) and each queue's thread reads, translates and writes back its
 * own. Conntrack, ClientIP affinity and the service snapshot are shared and lock-free. Built
 * from a {@link Context} whose {@code conclude()} checks everything before a thread starts.
 * {@link #start()} runs each queue on its own thread; tests call {@link #doWork()} instead to
 * step every queue once on the calling thread, deterministically.
 */
public final class Pipeline implements AutoCloseable {
    private final Context ctx;
    private final QueueAgent[] queues;
    private final List<AgentRunner> runners = new ArrayList<>();

    public Pipeline(final Context context) {
        this.ctx = context.conclude();
        queues = new QueueAgent[ctx.ports.size()];
        for (int q = 0; q < queues.length; q++) {
            final PacketPort port = ctx.ports.get(q);
            final ServiceRouter router = new ServiceRouter(new ClientIpAffinitySelector(ctx.affinity), ctx.localAddresses);
            final PacketProcessor processor = new PacketProcessor(ctx.conntrack, ctx.tables, router, ctx.snat,
                ctx.counters.queue(q), port.metadataLength());
            // One queue sweeps conntrack per duty cycle; the others stay on the packet path.
            queues[q] = new QueueAgent(q, port, processor, ctx.counters.queue(q), ctx.clock, q == 0 ? ctx.gcSlicePerDutyCycle : 0,
                ctx.errorHandler);
        }
    }

    /** Starts one thread per queue, named after its agent ({@code ferry-queue-N}). */
    public void start() {
        for (final QueueAgent queue : queues) {
            final AgentRunner runner = new AgentRunner(
                new PortIdleStrategy(queue.port(), ctx.idleSpinNs, ctx.idlePollTimeoutMs), ctx.errorHandler, null, queue);
            AgentRunner.startOnThread(runner);
            runners.add(runner);
        }
    }

    /** Steps every queue once on the calling thread; returns the work done. For tests and trace. */
    public int doWork() {
        int work = 0;
        for (final QueueAgent queue : queues) {
            work += queue.doWork();
        }
        return work;
    }

    /** Steps until no queue has work left (bounded), for tests. */
    public void drain() {
        for (int i = 0; i < 1_000 && doWork() > 0; i++) {
            Thread.onSpinWait();
        }
    }

    /** Queues (and threads, once started). */
    public int queueCount() {
        return queues.length;
    }

    public PacketProcessor processor(final int queue) {
        return queues[queue].processor();
    }

    public Context context() {
        return ctx;
    }

    /** Stops the threads (each notices within one poll timeout); the ports stay open: their owner closes them. */
    @Override
    public void close() {
        CloseHelper.closeAll(runners);
        runners.clear();
    }

    /** Everything a pipeline needs, with defaults as named constants, validated once by {@link #conclude()}. */
    public static final class Context {
        public static final int DEFAULT_GC_SLICE_PER_DUTY_CYCLE = 64;
        /**
         * How long an idle queue spins before it blocks in the kernel: long enough to catch the
         * next packet of a burst or a request/response turn on the same host without a
         * wake-up, short enough that an idle agent costs nothing measurable.
         */
        public static final long DEFAULT_IDLE_SPIN_NS = 50_000;
        /** The longest an idle queue blocks in poll(2): the conntrack GC slice still runs this often. */
        public static final int DEFAULT_IDLE_POLL_TIMEOUT_MS = 100;

        private int gcSlicePerDutyCycle = DEFAULT_GC_SLICE_PER_DUTY_CYCLE;
        private long idleSpinNs = DEFAULT_IDLE_SPIN_NS;
        private int idlePollTimeoutMs = DEFAULT_IDLE_POLL_TIMEOUT_MS;
        private List<PacketPort> ports = List.of();
        private ConntrackTable conntrack;
        private ServiceTableHolder tables;
        private SnatRange snat;
        private DataplaneCounters counters;
        private ClientIpAffinityTable affinity;
        private LocalAddresses localAddresses = new LocalAddresses();
        private EpochClock clock = SystemEpochClock.INSTANCE;
        private org.agrona.ErrorHandler errorHandler = Throwable::printStackTrace;

        /** Spin before blocking in the kernel when idle; 0 blocks at once. */
        public Context idleSpinNs(final long spinNs) {
            this.idleSpinNs = spinNs;
            return this;
        }

        /** Longest block in poll(2) when idle (the GC duty cycle's period when idle). */
        public Context idlePollTimeoutMs(final int timeoutMs) {
            this.idlePollTimeoutMs = timeoutMs;
            return this;
        }

        public Context gcSlicePerDutyCycle(final int entries) {
            this.gcSlicePerDutyCycle = entries;
            return this;
        }

        /** A single-queue device. */
        public Context port(final PacketPort port) {
            this.ports = List.of(port);
            return this;
        }

        /** One port per queue of the device: a thread each. */
        public Context ports(final List<PacketPort> ports) {
            this.ports = List.copyOf(ports);
            return this;
        }

        public Context conntrack(final ConntrackTable conntrack) {
            this.conntrack = conntrack;
            return this;
        }

        public Context tables(final ServiceTableHolder tables) {
            this.tables = tables;
            return this;
        }

        public Context snat(final SnatRange snat) {
            this.snat = snat;
            return this;
        }

        public Context counters(final DataplaneCounters counters) {
            this.counters = counters;
            return this;
        }

        public Context affinity(final ClientIpAffinityTable affinity) {
            this.affinity = affinity;
            return this;
        }

        /** The node's local addresses, kept current by the caller; empty (nodeIPs only) by default. */
        public Context localAddresses(final LocalAddresses localAddresses) {
            this.localAddresses = localAddresses;
            return this;
        }

        public Context clock(final EpochClock clock) {
            this.clock = clock;
            return this;
        }

        public Context errorHandler(final org.agrona.ErrorHandler errorHandler) {
            this.errorHandler = errorHandler;
            return this;
        }

        /** Queues, one thread each. */
        public int queues() {
            return ports.size();
        }

        public long idleSpinNs() {
            return idleSpinNs;
        }

        public int idlePollTimeoutMs() {
            return idlePollTimeoutMs;
        }

        public DataplaneCounters counters() {
            return counters;
        }

        public ConntrackTable conntrack() {
            return conntrack;
        }

        public ServiceTableHolder tables() {
            return tables;
        }

        /** Validates and fills defaults; throws naming the first thing wrong. */
        public Context conclude() {
            if (ports.isEmpty()) {
                throw new IllegalArgumentException("a pipeline needs at least one port (queue)");
            }
            if (ports.size() > DataplaneCounters.MAX_QUEUES) {
                throw new IllegalArgumentException("at most " + DataplaneCounters.MAX_QUEUES + " queues, was " + ports.size());
            }
            if (idleSpinNs < 0) {
                throw new IllegalArgumentException("idle spin must not be negative, was " + idleSpinNs + " ns");
            }
            if (idlePollTimeoutMs < 1 || idlePollTimeoutMs > 1_000) {
                throw new IllegalArgumentException("idle poll timeout must be 1..1000 ms (GC runs that often when idle), was "
                    + idlePollTimeoutMs);
            }
            Objects.requireNonNull(conntrack, "conntrack");
            Objects.requireNonNull(tables, "tables");
            Objects.requireNonNull(snat, "snat");
            Objects.requireNonNull(localAddresses, "localAddresses");
            if (counters == null) {
                counters = DataplaneCounters.inMemory(ports.size());
            } else if (counters.queueCount() != ports.size()) {
                throw new IllegalArgumentException("counters hold " + counters.queueCount() + " queues, pipeline has " + ports.size());
            }
            if (affinity == null) {
                affinity = new ClientIpAffinityTable();
            }
            return this;
        }
    }
}
