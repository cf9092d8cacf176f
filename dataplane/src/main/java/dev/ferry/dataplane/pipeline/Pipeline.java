package dev.ferry.dataplane.pipeline;

import dev.ferry.conntrack.ConntrackTable;
import dev.ferry.dataplane.counters.DataplaneCounters;
import dev.ferry.dataplane.lb.ClientIpAffinitySelector;
import dev.ferry.dataplane.lb.ClientIpAffinityTable;
import dev.ferry.dataplane.nat.SnatRange;
import dev.ferry.dataplane.port.PacketPort;
import dev.ferry.dataplane.service.ServiceRouter;
import org.agrona.BitUtil;
import org.agrona.CloseHelper;
import org.agrona.concurrent.Agent;
import org.agrona.concurrent.AgentRunner;
import org.agrona.concurrent.BackoffIdleStrategy;
import org.agrona.concurrent.EpochClock;
import org.agrona.concurrent.SystemEpochClock;
import org.agrona.concurrent.UnsafeBuffer;
import org.agrona.concurrent.ringbuffer.ManyToOneRingBuffer;
import org.agrona.concurrent.ringbuffer.OneToOneRingBuffer;
import org.agrona.concurrent.ringbuffer.RingBuffer;
import org.agrona.concurrent.ringbuffer.RingBufferDescriptor;

import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;

/**
 * The dataplane's threads and the rings between them:
 *
 * <pre>
 *  port ─► ReceiverAgent ─► [one-to-one ring per worker] ─► WorkerAgent × N ─► [many-to-one ring] ─► TransmitterAgent ─► port
 * </pre>
 *
 * Built from a {@link Context} whose {@code conclude()} checks everything before a thread
 * starts. {@link #start()} runs each agent on its own thread; tests call {@link #doWork()}
 * instead to step every agent once on the calling thread, deterministically.
 */
public final class Pipeline implements AutoCloseable {
    private final Context ctx;
    private final ReceiverAgent receiver;
    private final WorkerAgent[] workers;
    private final PacketProcessor[] processors;
    private final TransmitterAgent transmitter;
    private final List<AgentRunner> runners = new ArrayList<>();

    public Pipeline(final Context context) {
        this.ctx = context.conclude();
        final RingBuffer[] workerRings = new RingBuffer[ctx.workers];
        for (int w = 0; w < ctx.workers; w++) {
            workerRings[w] = new OneToOneRingBuffer(ringMemory(ctx.ringCapacityBytes));
        }
        final RingBuffer txRing = new ManyToOneRingBuffer(ringMemory(ctx.ringCapacityBytes * ctx.workers));
        receiver = new ReceiverAgent(ctx.port, workerRings, ctx.counters.receiver());
        transmitter = new TransmitterAgent(txRing, ctx.port, ctx.counters.transmitter());
        workers = new WorkerAgent[ctx.workers];
        processors = new PacketProcessor[ctx.workers];
        for (int w = 0; w < ctx.workers; w++) {
            final ServiceRouter router = new ServiceRouter(new ClientIpAffinitySelector(ctx.affinity));
            processors[w] = new PacketProcessor(ctx.conntrack, ctx.tables, router, ctx.snat, ctx.counters.worker(w),
                ctx.port.metadataLength());
            // One worker sweeps conntrack per duty cycle; the others stay on the packet path.
            workers[w] = new WorkerAgent(w, workerRings[w], txRing, processors[w], ctx.counters.worker(w), ctx.clock,
                w == 0 ? ctx.gcSlicePerDutyCycle : 0, ctx.port);
        }
    }

    private static UnsafeBuffer ringMemory(final int capacityBytes) {
        final int size = BitUtil.findNextPositivePowerOfTwo(capacityBytes) + RingBufferDescriptor.TRAILER_LENGTH;
        return new UnsafeBuffer(ByteBuffer.allocateDirect(size));
    }

    /** Starts one thread per agent (receiver, each worker, transmitter). */
    public void start() {
        final List<Agent> agents = new ArrayList<>();
        agents.add(receiver);
        agents.addAll(List.of(workers));
        agents.add(transmitter);
        for (final Agent agent : agents) {
            final AgentRunner runner = new AgentRunner(new BackoffIdleStrategy(), ctx.errorHandler, null, agent);
            AgentRunner.startOnThread(runner);
            runners.add(runner);
        }
    }

    /** Steps every agent once on the calling thread; returns the work done. For tests and trace. */
    public int doWork() {
        int work = 0;
        try {
            work += receiver.doWork();
            for (final WorkerAgent worker : workers) {
                work += worker.doWork();
            }
            work += transmitter.doWork();
        } catch (final Exception e) {
            throw new IllegalStateException(e);
        }
        return work;
    }

    /** Steps until no agent has work left (bounded), for tests. */
    public void drain() {
        for (int i = 0; i < 1_000 && doWork() > 0; i++) {
            Thread.onSpinWait();
        }
    }

    public PacketProcessor processor(final int worker) {
        return processors[worker];
    }

    public Context context() {
        return ctx;
    }

    @Override
    public void close() {
        CloseHelper.closeAll(runners);
        runners.clear();
    }

    /** Everything a pipeline needs, with defaults as named constants, validated once by {@link #conclude()}. */
    public static final class Context {
        public static final int DEFAULT_WORKERS = 1;
        public static final int DEFAULT_RING_CAPACITY_BYTES = 4 * 1024 * 1024;
        public static final int DEFAULT_GC_SLICE_PER_DUTY_CYCLE = 64;

        private int workers = DEFAULT_WORKERS;
        private int ringCapacityBytes = DEFAULT_RING_CAPACITY_BYTES;
        private int gcSlicePerDutyCycle = DEFAULT_GC_SLICE_PER_DUTY_CYCLE;
        private PacketPort port;
        private ConntrackTable conntrack;
        private ServiceTableHolder tables;
        private SnatRange snat;
        private DataplaneCounters counters;
        private ClientIpAffinityTable affinity;
        private EpochClock clock = SystemEpochClock.INSTANCE;
        private org.agrona.ErrorHandler errorHandler = Throwable::printStackTrace;

        public Context workers(final int workers) {
            this.workers = workers;
            return this;
        }

        public Context ringCapacityBytes(final int bytes) {
            this.ringCapacityBytes = bytes;
            return this;
        }

        public Context gcSlicePerDutyCycle(final int entries) {
            this.gcSlicePerDutyCycle = entries;
            return this;
        }

        public Context port(final PacketPort port) {
            this.port = port;
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

        public Context clock(final EpochClock clock) {
            this.clock = clock;
            return this;
        }

        public Context errorHandler(final org.agrona.ErrorHandler errorHandler) {
            this.errorHandler = errorHandler;
            return this;
        }

        public int workers() {
            return workers;
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
            if (workers < 1) {
                throw new IllegalArgumentException("workers must be at least 1, was " + workers);
            }
            if (ringCapacityBytes < 64 * 1024) {
                throw new IllegalArgumentException("ring capacity must be at least 64 KiB, was " + ringCapacityBytes);
            }
            Objects.requireNonNull(port, "port");
            Objects.requireNonNull(conntrack, "conntrack");
            Objects.requireNonNull(tables, "tables");
            Objects.requireNonNull(snat, "snat");
            if (counters == null) {
                counters = DataplaneCounters.inMemory(workers);
            } else if (counters.workerCount() != workers) {
                throw new IllegalArgumentException("counters hold " + counters.workerCount() + " workers, pipeline has " + workers);
            }
            if (affinity == null) {
                affinity = new ClientIpAffinityTable();
            }
            return this;
        }
    }
}
