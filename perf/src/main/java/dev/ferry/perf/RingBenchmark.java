package dev.ferry.perf;

import org.agrona.concurrent.MessageHandler;
import org.agrona.concurrent.UnsafeBuffer;
import org.agrona.concurrent.ringbuffer.ManyToOneRingBuffer;
import org.agrona.concurrent.ringbuffer.OneToOneRingBuffer;
import org.agrona.concurrent.ringbuffer.RingBuffer;
import org.agrona.concurrent.ringbuffer.RingBufferDescriptor;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.Warmup;

import java.nio.ByteBuffer;
import java.util.concurrent.TimeUnit;

/**
 * The ring between two agents, as the pipeline uses it: one packet written (copied in) and
 * read back (handed to a handler in place), on one thread, for the one-to-one rings in front
 * of the workers and the many-to-one ring in front of the transmitter. What a packet pays
 * per hop, without the cross-core cache traffic of a real two-thread pipeline.
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(1) // the fork inherits this JVM's options: jvm.options (perf/README.md)
public class RingBenchmark {
    private static final int CAPACITY = 4 * 1024 * 1024;

    @Param({"oneToOne", "manyToOne"})
    public String ring;

    @Param({"64", "1500"})
    public int packetBytes;

    private RingBuffer buffer;
    private UnsafeBuffer packet;
    private long sink;
    private final MessageHandler handler = (type, memory, index, length) -> sink += memory.getByte(index) + length;

    @Setup(Level.Trial)
    public void setUp() {
        final UnsafeBuffer memory = new UnsafeBuffer(ByteBuffer.allocateDirect(CAPACITY + RingBufferDescriptor.TRAILER_LENGTH));
        buffer = "oneToOne".equals(ring) ? new OneToOneRingBuffer(memory) : new ManyToOneRingBuffer(memory);
        packet = new UnsafeBuffer(ByteBuffer.allocateDirect(packetBytes));
    }

    @Benchmark
    public long writeThenRead() {
        buffer.write(1, packet, 0, packetBytes);
        buffer.read(handler, 1);
        return sink;
    }
}
