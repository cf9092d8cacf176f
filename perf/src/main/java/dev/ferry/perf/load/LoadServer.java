package dev.ferry.perf.load;

import io.netty.bootstrap.Bootstrap;
import io.netty.bootstrap.ServerBootstrap;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandler;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.ChannelOption;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.FixedRecvByteBufAllocator;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.epoll.Epoll;
import io.netty.channel.epoll.EpollChannelOption;
import io.netty.channel.epoll.EpollDatagramChannel;
import io.netty.channel.epoll.EpollIoHandler;
import io.netty.channel.epoll.EpollServerSocketChannel;
import io.netty.channel.epoll.EpollSocketChannel;
import io.netty.channel.socket.DatagramPacket;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.LongAdder;

/**
 * The lab's load server, run in a backend pod's namespace ({@code ip netns exec POD java ...
 * bench load-server}): a UDP sink, a request/response echo, a connect-request-close server
 * and a bulk sink, on Netty's epoll transport, plus a stats port (see {@link LoadPorts}). It
 * counts what arrives; the client reads the counters before and after a measurement window.
 * It ends by itself after {@code lifetimeS}, or on SIGTERM.
 */
public final class LoadServer implements AutoCloseable {
    /** Datagrams received per recvmmsg(2) call at most. */
    private static final int DATAGRAMS_PER_READ = 64;
    private static final int MAX_DATAGRAM = 2048;

    private final EventLoopGroup group;
    /** The stats port's own thread: a saturated data port must not delay the snapshot it times. */
    private final EventLoopGroup statsGroup;
    private final List<Channel> channels = new ArrayList<>();
    private final LongAdder udpPackets = new LongAdder();
    private final LongAdder udpBytes = new LongAdder();
    private final LongAdder bulkBytes = new LongAdder();
    private final LongAdder rr = new LongAdder();
    private final LongAdder crr = new LongAdder();
    private final ByteBuf answer = Unpooled.unreleasableBuffer(
        Unpooled.directBuffer(LoadPorts.MESSAGE_BYTES).writeZero(LoadPorts.MESSAGE_BYTES));

    private LoadServer(final int threads) {
        Epoll.ensureAvailability();
        group = new MultiThreadIoEventLoopGroup(threads, EpollIoHandler.newFactory());
        statsGroup = new MultiThreadIoEventLoopGroup(1, EpollIoHandler.newFactory());
    }

    /** Binds every port on all addresses of the calling thread's namespace. */
    public static LoadServer start(final int threads) throws InterruptedException {
        final LoadServer server = new LoadServer(threads);
        try {
            server.bindAll();
        } catch (final RuntimeException | InterruptedException e) {
            server.close();
            throw e;
        }
        return server;
    }

    public ServerStats stats() {
        return new ServerStats(udpPackets.sum(), udpBytes.sum(), bulkBytes.sum(), rr.sum(), crr.sum(), System.nanoTime());
    }

    // Netty 4.2 deprecates RCVBUF_ALLOCATOR (its IoHandle transports size reads themselves); the
    // fixed allocator here is what lets one read take a whole batch of datagrams on epoll
    @SuppressWarnings("deprecation")
    private void bindAll() throws InterruptedException {
        channels.add(new Bootstrap().group(group).channel(EpollDatagramChannel.class)
            .option(ChannelOption.SO_RCVBUF, 8 << 20)
            .option(EpollChannelOption.MAX_DATAGRAM_PAYLOAD_SIZE, MAX_DATAGRAM)
            .option(ChannelOption.RCVBUF_ALLOCATOR, new FixedRecvByteBufAllocator(MAX_DATAGRAM * DATAGRAMS_PER_READ))
            .handler(new UdpSink())
            .bind(LoadPorts.UDP_SINK).sync().channel());
        channels.add(tcp(group, LoadPorts.TCP_RR, () -> new Answering(false)));
        channels.add(tcp(group, LoadPorts.TCP_CRR, () -> new Answering(true)));
        channels.add(tcp(group, LoadPorts.TCP_BULK, BulkSink::new));
        channels.add(tcp(statsGroup, LoadPorts.STATS, StatsWriter::new));
    }

    private Channel tcp(final EventLoopGroup loops, final int port, final java.util.function.Supplier<ChannelHandler> handler)
            throws InterruptedException {
        return new ServerBootstrap().group(loops).channel(EpollServerSocketChannel.class)
            .option(ChannelOption.SO_BACKLOG, 4096)
            .option(ChannelOption.SO_REUSEADDR, true)
            .childOption(ChannelOption.TCP_NODELAY, true)
            .childHandler(new ChannelInitializer<EpollSocketChannel>() {
                @Override
                protected void initChannel(final EpollSocketChannel ch) {
                    ch.pipeline().addLast(handler.get());
                }
            })
            .bind(port).sync().channel();
    }

    @ChannelHandler.Sharable
    private final class UdpSink extends ChannelInboundHandlerAdapter {
        @Override
        public void channelRead(final ChannelHandlerContext ctx, final Object msg) {
            final DatagramPacket packet = (DatagramPacket) msg;
            udpPackets.increment();
            udpBytes.add(packet.content().readableBytes());
            packet.release();
        }
    }

    /** Answers every complete 64-byte request with 64 bytes; with {@code closeAfter}, closes after the first answer. */
    private final class Answering extends ChannelInboundHandlerAdapter {
        private final boolean closeAfter;
        private int pending;

        Answering(final boolean closeAfter) {
            this.closeAfter = closeAfter;
        }

        @Override
        public void channelRead(final ChannelHandlerContext ctx, final Object msg) {
            final ByteBuf in = (ByteBuf) msg;
            pending += in.readableBytes();
            in.release();
            boolean wrote = false;
            while (pending >= LoadPorts.MESSAGE_BYTES) {
                pending -= LoadPorts.MESSAGE_BYTES;
                wrote = true;
                if (closeAfter) {
                    crr.increment();
                    ctx.writeAndFlush(answer.retainedDuplicate()).addListener(ChannelFutureListener.CLOSE);
                    pending = 0;
                    return;
                }
                rr.increment();
                ctx.write(answer.retainedDuplicate());
            }
            if (wrote) {
                ctx.flush();
            }
        }

        @Override
        public void exceptionCaught(final ChannelHandlerContext ctx, final Throwable cause) {
            ctx.close(); // a reset by the client is part of the game
        }
    }

    private final class BulkSink extends ChannelInboundHandlerAdapter {
        @Override
        public void channelRead(final ChannelHandlerContext ctx, final Object msg) {
            final ByteBuf in = (ByteBuf) msg;
            bulkBytes.add(in.readableBytes());
            in.release();
        }

        @Override
        public void exceptionCaught(final ChannelHandlerContext ctx, final Throwable cause) {
            ctx.close();
        }
    }

    private final class StatsWriter extends ChannelInboundHandlerAdapter {
        @Override
        public void channelActive(final ChannelHandlerContext ctx) {
            ctx.writeAndFlush(Unpooled.copiedBuffer(stats().line() + "\n", StandardCharsets.US_ASCII))
                .addListener(ChannelFutureListener.CLOSE);
        }
    }

    @Override
    public void close() {
        for (final Channel channel : channels) {
            channel.close().awaitUninterruptibly(1, TimeUnit.SECONDS);
        }
        group.shutdownGracefully(0, 1, TimeUnit.SECONDS).awaitUninterruptibly(5, TimeUnit.SECONDS);
        statsGroup.shutdownGracefully(0, 1, TimeUnit.SECONDS).awaitUninterruptibly(5, TimeUnit.SECONDS);
    }
}
