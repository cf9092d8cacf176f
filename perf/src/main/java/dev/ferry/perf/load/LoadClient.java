package dev.ferry.perf.load;

import io.netty.bootstrap.Bootstrap;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFuture;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.ChannelOption;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.WriteBufferWaterMark;
import io.netty.channel.epoll.Epoll;
import io.netty.channel.epoll.EpollDatagramChannel;
import io.netty.channel.epoll.EpollIoHandler;
import io.netty.channel.epoll.EpollSocketChannel;
import org.HdrHistogram.Histogram;
import org.HdrHistogram.Recorder;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.LongAdder;

/**
 * The lab's load generator, on Netty's epoll transport, run in the client pod's namespace
 * ({@code ip netns exec POD java ... bench load-client}). Every run is bounded twice: in time
 * (warmup plus window, then it stops sending and closes everything) and in count (it stops
 * early at {@code maxCount} operations). It only sends to the addresses it is given, which the
 * lab bench takes from the lab's own namespaces.
 * <ul>
 *   <li>UDP: {@code concurrency} connected sockets blast {@code payloadBytes} datagrams (written
 *       in batches, sent with sendmmsg); the servers count what arrives.</li>
 *   <li>CRR: {@code concurrency} connections in flight, each connect, request, answer, and
 *       close; the next starts when one ends. By default the client aborts with a RST once
 *       answered, so no TIME_WAIT is left on either side; with {@code gracefulClose} it waits
 *       for the server's FIN and closes in turn, as {@code wrk -H 'Connection: close'} against
 *       nginx does: the server holds TIME_WAIT, and so does every conntrack table on the way
 *       (the masquerade benchmarks need exactly that).</li>
 *   <li>RR: {@code concurrency} open connections, each one request in flight.</li>
 *   <li>BULK: {@code concurrency} connections writing 64 KiB chunks; the servers count bytes.</li>
 * </ul>
 * Targets are used round robin: one ClusterIP:port, or the pods' own addresses for the
 * direct baseline.
 */
public final class LoadClient {
    private static final int UDP_BATCH = 64;
    private static final int BULK_CHUNK = 64 * 1024;
    private static final int CONNECT_TIMEOUT_MS = 2000;
    private static final long ANSWER_TIMEOUT_MS = 3000;

    /**
     * @param targets       host:port strings, used round robin
     * @param statsServers  the load servers' addresses, for the UDP and bulk counters
     * @param warmupMs      load before the window (JIT, conntrack, caches)
     * @param durationMs    the measurement window
     * @param maxCount      stop early after this many operations in all (0: no limit besides time)
     * @param gracefulClose crr: the server closes first and the client answers its FIN (else the client resets)
     */
    public record Spec(LoadMode mode, List<String> targets, List<String> statsServers, int concurrency, int payloadBytes,
                       long warmupMs, long durationMs, long maxCount, int threads, boolean gracefulClose) {
        public Spec {
            targets = List.copyOf(targets);
            statsServers = List.copyOf(statsServers);
            if (targets.isEmpty()) {
                throw new IllegalArgumentException("no target");
            }
            if (concurrency < 1 || concurrency > 4096) {
                throw new IllegalArgumentException("concurrency must be 1..4096, was " + concurrency);
            }
            if (durationMs < 100 || durationMs > 3_600_000 || warmupMs < 0 || warmupMs > 600_000) {
                throw new IllegalArgumentException("duration must be 0.1..3600 s and warmup 0..600 s");
            }
            if ((mode == LoadMode.UDP || mode == LoadMode.BULK) && statsServers.isEmpty()) {
                throw new IllegalArgumentException(mode + " needs the servers' addresses (--stats) to count what arrived");
            }
        }
    }

    private final Spec spec;
    private final EventLoopGroup group;
    private final List<InetSocketAddress> targets = new ArrayList<>();
    private final LongAdder done = new LongAdder();
    private final LongAdder errors = new LongAdder();
    private final AtomicLong started = new AtomicLong();
    private final Recorder latencies = new Recorder(3);
    private final List<Channel> channels = new ArrayList<>();
    private volatile boolean running = true;
    private volatile boolean measuring;

    private LoadClient(final Spec spec) {
        Epoll.ensureAvailability();
        this.spec = spec;
        for (final String t : spec.targets()) {
            final int colon = t.lastIndexOf(':');
            if (colon < 0) {
                throw new IllegalArgumentException("a target is HOST:PORT, not '" + t + "'");
            }
            targets.add(new InetSocketAddress(t.substring(0, colon), Integer.parseInt(t.substring(colon + 1))));
        }
        group = new MultiThreadIoEventLoopGroup(spec.threads(), EpollIoHandler.newFactory());
    }

    /** Runs the load and returns what the window measured; everything is closed when it returns. */
    public static LoadResult run(final Spec spec) throws IOException, InterruptedException {
        final LoadClient client = new LoadClient(spec);
        try {
            return client.measure();
        } finally {
            client.stop();
        }
    }

    private LoadResult measure() throws IOException, InterruptedException {
        switch (spec.mode()) {
            case UDP -> startUdp();
            case CRR -> {
                for (int i = 0; i < spec.concurrency(); i++) {
                    group.next().execute(this::connectOne);
                }
            }
            case RR -> startRr();
            case BULK -> startBulk();
        }
        sleepMs(spec.warmupMs());
        final List<ServerStats> before = needsServerStats() ? ServerStats.queryAll(spec.statsServers()) : List.of();
        final long sent0 = started.get();
        final long done0 = done.sum();
        final long errors0 = errors.sum();
        latencies.getIntervalHistogram(); // drop the warmup's samples
        measuring = true;
        final long t0 = System.nanoTime();
        final long deadline = t0 + TimeUnit.MILLISECONDS.toNanos(spec.durationMs());
        long secondStart = t0;
        long secondDone = done0;
        double slowestSecond = Double.NaN;
        while (System.nanoTime() < deadline && (spec.maxCount() <= 0 || started.get() < spec.maxCount())) {
            sleepMs(Math.min(50, Math.max(1, (deadline - System.nanoTime()) / 1_000_000)));
            final long now = System.nanoTime();
            if (now - secondStart >= 1_000_000_000L) {
                final long doneNow = done.sum();
                final double rate = (doneNow - secondDone) / ((now - secondStart) / 1e9);
                slowestSecond = Double.isNaN(slowestSecond) ? rate : Math.min(slowestSecond, rate);
                secondStart = now;
                secondDone = doneNow;
            }
        }
        final long t1 = System.nanoTime();
        final List<ServerStats> after = needsServerStats() ? ServerStats.queryAll(spec.statsServers()) : List.of();
        measuring = false;
        final long sent = started.get() - sent0;
        final long completed = done.sum() - done0;
        final long failed = errors.sum() - errors0;
        final Histogram histogram = latencies.getIntervalHistogram();
        running = false;
        final double windowS = (t1 - t0) / 1e9;
        final String target = String.join(",", spec.targets());
        return switch (spec.mode()) {
            case UDP -> {
                long packets = 0;
                long bytes = 0;
                double rate = 0;
                double bits = 0;
                double serverWindowS = 0;
                for (int i = 0; i < after.size(); i++) {
                    final ServerStats d = after.get(i).since(before.get(i));
                    final double s = d.timeNs() / 1e9;
                    packets += d.udpPackets();
                    bytes += d.udpBytes();
                    rate += d.udpPackets() / s;
                    bits += d.udpBytes() * 8.0 / s;
                    serverWindowS = Math.max(serverWindowS, s);
                }
                // the client's count of sent datagrams over the client's window, scaled to the servers' window
                yield new LoadResult(LoadMode.UDP, target, serverWindowS, packets, Math.round(sent * serverWindowS / windowS),
                    rate, bits, failed, null);
            }
            case BULK -> {
                long bytes = 0;
                double bits = 0;
                double serverWindowS = 0;
                for (int i = 0; i < after.size(); i++) {
                    final ServerStats d = after.get(i).since(before.get(i));
                    bytes += d.bulkBytes();
                    bits += d.bulkBytes() * 8.0 / (d.timeNs() / 1e9);
                    serverWindowS = Math.max(serverWindowS, d.timeNs() / 1e9);
                }
                yield new LoadResult(LoadMode.BULK, target, serverWindowS, bytes, bytes, bits / 8, bits, failed, null);
            }
            case CRR, RR -> new LoadResult(spec.mode(), target, windowS, completed, completed, completed / windowS, 0, failed,
                LoadResult.Latency.of(histogram), Double.isNaN(slowestSecond) ? completed / windowS : slowestSecond);
        };
    }

    private boolean needsServerStats() {
        return spec.mode() == LoadMode.UDP || spec.mode() == LoadMode.BULK;
    }

    private boolean mayStart() {
        return running && (spec.maxCount() <= 0 || started.get() < spec.maxCount());
    }

    private InetSocketAddress target(final long n) {
        return targets.get((int) (n % targets.size()));
    }

    // ---- UDP: connected sockets, batches of writes flushed together (sendmmsg) ----

    private void startUdp() throws InterruptedException {
        final ByteBuf payload = Unpooled.unreleasableBuffer(Unpooled.directBuffer(spec.payloadBytes()).writeZero(spec.payloadBytes()));
        for (int i = 0; i < spec.concurrency(); i++) {
            final Channel ch = new Bootstrap().group(group).channel(EpollDatagramChannel.class)
                .option(ChannelOption.SO_SNDBUF, 4 << 20)
                .option(ChannelOption.WRITE_BUFFER_WATER_MARK, new WriteBufferWaterMark(256 << 10, 1 << 20))
                .handler(new UdpBlaster(payload))
                .connect(target(i)).sync().channel();
            channels.add(ch);
        }
        for (final Channel ch : channels) {
            ch.eventLoop().execute(() -> ((UdpBlaster) ch.pipeline().first()).pump(ch));
        }
    }

    private final class UdpBlaster extends ChannelInboundHandlerAdapter {
        private final ByteBuf payload;
        private final Runnable again;
        private Channel channel;

        UdpBlaster(final ByteBuf payload) {
            this.payload = payload;
            this.again = () -> pump(channel);
        }

        void pump(final Channel ch) {
            channel = ch;
            if (!mayStart() || !ch.isActive()) {
                return;
            }
            int n = 0;
            while (n < UDP_BATCH && ch.isWritable()) {
                ch.write(payload.duplicate(), ch.voidPromise());
                n++;
            }
            started.addAndGet(n);
            ch.flush();
            if (ch.isWritable()) {
                ch.eventLoop().execute(again);
            }
            // else channelWritabilityChanged pumps again
        }

        @Override
        public void channelWritabilityChanged(final ChannelHandlerContext ctx) {
            if (ctx.channel().isWritable()) {
                pump(ctx.channel());
            }
        }

        @Override
        public void channelRead(final ChannelHandlerContext ctx, final Object msg) {
            io.netty.util.ReferenceCountUtil.release(msg);
        }

        @Override
        public void exceptionCaught(final ChannelHandlerContext ctx, final Throwable cause) {
            errors.increment(); // ICMP port unreachable on a connected socket, ENOBUFS: counted, not fatal
        }
    }

    // ---- CRR: connect, request, answer, the server closes; then the next connection ----

    private Bootstrap tcp() {
        return new Bootstrap().group(group).channel(EpollSocketChannel.class)
            .option(ChannelOption.CONNECT_TIMEOUT_MILLIS, CONNECT_TIMEOUT_MS)
            .option(ChannelOption.TCP_NODELAY, true);
    }

    private void connectOne() {
        if (!mayStart()) {
            return;
        }
        final long n = started.getAndIncrement();
        final long startNs = System.nanoTime();
        final ChannelFuture f = tcp().handler(new OneRequest(startNs)).connect(target(n));
        f.addListener(done -> {
            if (!done.isSuccess()) {
                errors.increment();
                // do not spin on a refused target: try again shortly
                group.next().schedule(this::connectOne, 10, TimeUnit.MILLISECONDS);
            }
        });
    }

    private final class OneRequest extends ChannelInboundHandlerAdapter {
        private final long startNs;
        private int received;
        private boolean answered;
        private io.netty.util.concurrent.ScheduledFuture<?> timeout;

        OneRequest(final long startNs) {
            this.startNs = startNs;
        }

        @Override
        public void channelActive(final ChannelHandlerContext ctx) {
            ctx.writeAndFlush(Unpooled.directBuffer(LoadPorts.MESSAGE_BYTES).writeZero(LoadPorts.MESSAGE_BYTES));
            timeout = ctx.executor().schedule(() -> {
                ctx.close();
            }, ANSWER_TIMEOUT_MS, TimeUnit.MILLISECONDS);
        }

        @Override
        public void channelRead(final ChannelHandlerContext ctx, final Object msg) {
            final ByteBuf in = (ByteBuf) msg;
            received += in.readableBytes();
            in.release();
            if (!answered && received >= LoadPorts.MESSAGE_BYTES) {
                answered = true;
                if (measuring) {
                    latencies.recordValue(System.nanoTime() - startNs);
                }
                done.increment();
                if (spec.gracefulClose()) {
                    return; // the server's FIN ends the read side, and Netty closes ours in turn
                }
                // Abort (RST) rather than close: no TIME_WAIT on either side. A server TIME_WAIT
                // for a client port that comes round again answers the new SYN with a challenge
                // ACK, and the connect then stalls a full SYN retransmission (1 s).
                ctx.channel().config().setOption(ChannelOption.SO_LINGER, 0);
                ctx.close();
            }
        }

        @Override
        public void channelInactive(final ChannelHandlerContext ctx) {
            if (timeout != null) {
                timeout.cancel(false);
            }
            if (!answered) {
                errors.increment();
            }
            connectOne();
        }

        @Override
        public void exceptionCaught(final ChannelHandlerContext ctx, final Throwable cause) {
            ctx.close();
        }
    }

    // ---- RR: open connections, one request in flight on each ----

    private void startRr() throws InterruptedException {
        for (int i = 0; i < spec.concurrency(); i++) {
            final ChannelFuture f = tcp().handler(new PingPong()).connect(target(i));
            if (!f.await(CONNECT_TIMEOUT_MS + 1000) || !f.isSuccess()) {
                throw new IllegalStateException("rr: cannot connect to " + target(i) + ": "
                    + (f.cause() == null ? "timed out" : f.cause().getMessage()));
            }
            channels.add(f.channel());
        }
    }

    private final class PingPong extends ChannelInboundHandlerAdapter {
        private long sentNs;
        private int received;

        @Override
        public void channelActive(final ChannelHandlerContext ctx) {
            send(ctx);
        }

        private void send(final ChannelHandlerContext ctx) {
            if (!mayStart()) {
                return;
            }
            started.incrementAndGet();
            sentNs = System.nanoTime();
            ctx.writeAndFlush(Unpooled.directBuffer(LoadPorts.MESSAGE_BYTES).writeZero(LoadPorts.MESSAGE_BYTES));
        }

        @Override
        public void channelRead(final ChannelHandlerContext ctx, final Object msg) {
            final ByteBuf in = (ByteBuf) msg;
            received += in.readableBytes();
            in.release();
            while (received >= LoadPorts.MESSAGE_BYTES) {
                received -= LoadPorts.MESSAGE_BYTES;
                if (measuring) {
                    latencies.recordValue(System.nanoTime() - sentNs);
                }
                done.increment();
                send(ctx);
            }
        }

        @Override
        public void exceptionCaught(final ChannelHandlerContext ctx, final Throwable cause) {
            errors.increment();
            ctx.close();
        }
    }

    // ---- BULK: write 64 KiB chunks while the socket takes them ----

    private void startBulk() throws InterruptedException {
        final ByteBuf chunk = Unpooled.unreleasableBuffer(Unpooled.directBuffer(BULK_CHUNK).writeZero(BULK_CHUNK));
        for (int i = 0; i < spec.concurrency(); i++) {
            final ChannelFuture f = tcp().option(ChannelOption.WRITE_BUFFER_WATER_MARK, new WriteBufferWaterMark(1 << 20, 4 << 20))
                .handler(new BulkWriter(chunk)).connect(target(i));
            if (!f.await(CONNECT_TIMEOUT_MS + 1000) || !f.isSuccess()) {
                throw new IllegalStateException("bulk: cannot connect to " + target(i) + ": "
                    + (f.cause() == null ? "timed out" : f.cause().getMessage()));
            }
            channels.add(f.channel());
        }
    }

    private final class BulkWriter extends ChannelInboundHandlerAdapter {
        private final ByteBuf chunk;

        BulkWriter(final ByteBuf chunk) {
            this.chunk = chunk;
        }

        @Override
        public void channelActive(final ChannelHandlerContext ctx) {
            pump(ctx);
        }

        @Override
        public void channelWritabilityChanged(final ChannelHandlerContext ctx) {
            pump(ctx);
        }

        private void pump(final ChannelHandlerContext ctx) {
            final Channel ch = ctx.channel();
            while (running && ch.isActive() && ch.isWritable()) {
                ch.write(chunk.duplicate(), ch.voidPromise());
                started.incrementAndGet(); // chunks, so that maxCount bounds chunks
            }
            ch.flush();
        }

        @Override
        public void exceptionCaught(final ChannelHandlerContext ctx, final Throwable cause) {
            errors.increment();
            ctx.close();
        }
    }

    private void stop() {
        running = false;
        for (final Channel ch : channels) {
            ch.close().awaitUninterruptibly(1, TimeUnit.SECONDS);
        }
        group.shutdownGracefully(0, 1, TimeUnit.SECONDS).awaitUninterruptibly(5, TimeUnit.SECONDS);
    }

    private static void sleepMs(final long ms) throws InterruptedException {
        if (ms > 0) {
            Thread.sleep(ms);
        }
    }
}
