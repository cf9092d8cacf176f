package dev.ferry.control.dns;

import io.netty.bootstrap.Bootstrap;
import io.netty.bootstrap.ServerBootstrap;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFuture;
import io.netty.channel.ChannelHandler;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.ChannelOption;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.IoHandlerFactory;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.ServerChannel;
import io.netty.channel.SimpleChannelInboundHandler;
import io.netty.channel.epoll.Epoll;
import io.netty.channel.epoll.EpollDatagramChannel;
import io.netty.channel.epoll.EpollIoHandler;
import io.netty.channel.epoll.EpollServerSocketChannel;
import io.netty.channel.nio.NioIoHandler;
import io.netty.channel.socket.DatagramChannel;
import io.netty.channel.socket.DatagramPacket;
import io.netty.channel.socket.SocketChannel;
import io.netty.channel.socket.nio.NioDatagramChannel;
import io.netty.channel.socket.nio.NioServerSocketChannel;
import io.netty.handler.codec.dns.AbstractDnsOptPseudoRrRecord;
import io.netty.handler.codec.dns.DatagramDnsQuery;
import io.netty.handler.codec.dns.DatagramDnsQueryDecoder;
import io.netty.handler.codec.dns.DatagramDnsResponse;
import io.netty.handler.codec.dns.DatagramDnsResponseEncoder;
import io.netty.handler.codec.dns.DefaultDnsRawRecord;
import io.netty.handler.codec.dns.DefaultDnsResponse;
import io.netty.handler.codec.dns.DnsOpCode;
import io.netty.handler.codec.dns.DnsQuery;
import io.netty.handler.codec.dns.DnsQuestion;
import io.netty.handler.codec.dns.DnsRecord;
import io.netty.handler.codec.dns.DnsRecordType;
import io.netty.handler.codec.dns.DnsResponse;
import io.netty.handler.codec.dns.DnsResponseCode;
import io.netty.handler.codec.dns.DnsSection;
import io.netty.handler.codec.dns.TcpDnsQueryDecoder;
import io.netty.handler.codec.dns.TcpDnsResponseEncoder;
import io.netty.handler.timeout.ReadTimeoutHandler;
import io.netty.util.concurrent.DefaultThreadFactory;

import java.net.InetSocketAddress;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Objects;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.logging.Logger;

/**
 * The agent's DNS server ({@code --dns-address}): answers the cluster domain from the current
 * {@link Zone} and forwards every other name to the upstream resolver ({@code --dns-upstream};
 * without one, REFUSED). UDP and TCP on each address, on Netty's DNS codec
 * ({@link DatagramDnsQueryDecoder}/{@link DatagramDnsResponseEncoder},
 * {@link TcpDnsQueryDecoder}/{@link TcpDnsResponseEncoder}) over the epoll transport (NIO when
 * epoll cannot load), one event-loop thread for all listeners: a zone answer is a map lookup and
 * copies of pre-encoded records, so one thread serves far more than a node's pods ask.
 *
 * <pre>
 *   datagram ─► GuardedQueryDecoder ─► QueryHandler ─► zone.lookup ─► DatagramDnsResponseEncoder ─► client
 *                (malformed: FORMERR                  └ not ours: UpstreamForwarder (virtual thread) ─► raw answer ─► client
 *                 or dropped, counted)
 *   TCP ─► TcpDnsQueryDecoder (2-byte length framing) ─► QueryHandler ─► TcpDnsResponseEncoder
 * </pre>
 *
 * <p>The zone is replaced by {@link #serve(ServiceNames)} with one volatile write; a query sees
 * the old zone or the new one, whole.
 */
public final class DnsServer implements AutoCloseable {
    private static final Logger LOG = Logger.getLogger(DnsServer.class.getName());
    /** CoreDNS's kubernetes plugin: {@code ttl} defaults to 5 seconds. */
    public static final long DEFAULT_TTL_SECONDS = 5;
    public static final String DEFAULT_CLUSTER_DOMAIN = "cluster.local";
    /** The UDP size a query without EDNS may be answered with (RFC 1035 section 4.2.1). */
    static final int CLASSIC_UDP_SIZE = 512;
    /** The UDP size we advertise and answer within at most (the DNS Flag Day 2020 value: no IP fragmentation). */
    static final int EDNS_UDP_SIZE = 1232;
    /** TCP connections open at once over all listeners; more are closed at once. */
    static final int MAX_TCP_CONNECTIONS = 256;
    /** A TCP connection that sends nothing for this long is closed (RFC 7766 asks servers to time idle ones out). */
    static final long TCP_IDLE_TIMEOUT_MS = 10_000;
    private static final int CLASS_IN = 1;
    private static final int CLASS_ANY = 255;
    private static final int HEADER_BYTES = 12;
    private static final int OPT_BYTES = 11;

    private final Context ctx;
    private final DnsCounters counters = new DnsCounters();
    private final UpstreamForwarder forwarder;
    private final EventLoopGroup group;
    private final String transport;
    private final List<Channel> channels = new ArrayList<>();
    private final AtomicInteger tcpConnections = new AtomicInteger();
    private final AtomicLong serial = new AtomicLong();
    private volatile Zone zone;

    private DnsServer(final Context ctx) {
        this.ctx = ctx;
        this.zone = Zone.compile(ctx.clusterDomain, ServiceNames.EMPTY, serial.incrementAndGet(), ctx.ttlSeconds);
        this.forwarder = ctx.upstream == null ? null : new UpstreamForwarder(ctx.upstream);
        final boolean epoll = ctx.useEpoll && Epoll.isAvailable();
        final IoHandlerFactory io = epoll ? EpollIoHandler.newFactory() : NioIoHandler.newFactory();
        this.transport = epoll ? "epoll" : "nio";
        this.group = new MultiThreadIoEventLoopGroup(1, new DefaultThreadFactory("ferry-dns", true), io);
        final Class<? extends DatagramChannel> udpClass = epoll ? EpollDatagramChannel.class : NioDatagramChannel.class;
        final Class<? extends ServerChannel> tcpClass = epoll ? EpollServerSocketChannel.class : NioServerSocketChannel.class;
        final QueryHandler handler = new QueryHandler();
        try {
            for (final InetSocketAddress address : ctx.bind ? ctx.addresses : List.<InetSocketAddress>of()) {
                final Channel udp = bindUdp(udpClass, address, handler);
                channels.add(udp);
                // TCP on the port UDP got (a port of 0 asks for one: both listeners then share it)
                channels.add(bindTcp(tcpClass, new InetSocketAddress(address.getAddress(),
                    ((InetSocketAddress) udp.localAddress()).getPort()), handler));
            }
        } catch (final RuntimeException e) {
            close();
            throw e;
        }
        LOG.info("DNS server (" + transport + ") for " + ctx.clusterDomain + " on " + listening() + " (UDP and TCP), upstream "
            + (ctx.upstream == null ? "none (other names REFUSED)" : format(ctx.upstream)) + ", TTL " + ctx.ttlSeconds + " s");
    }

    /** Binds every address (UDP and TCP); throws {@link IllegalStateException} naming the address when one cannot bind. */
    public static DnsServer start(final Context context) {
        return new DnsServer(context.conclude());
    }

    /** Serves {@code names} from now on: compiles the zone and swaps it in. Any thread. */
    public void serve(final ServiceNames names) {
        zone = Zone.compile(ctx.clusterDomain, names, serial.incrementAndGet(), ctx.ttlSeconds);
    }

    /** The zone answered from now (for tests and logs). */
    public Zone zone() {
        return zone;
    }

    public DnsCounters counters() {
        return counters;
    }

    public String transport() {
        return transport;
    }

    /** The bound UDP addresses (with the port taken when 0 was asked for), in the order given. */
    public List<InetSocketAddress> udpAddresses() {
        final List<InetSocketAddress> out = new ArrayList<>();
        for (int i = 0; i < channels.size(); i += 2) {
            out.add((InetSocketAddress) channels.get(i).localAddress());
        }
        return out;
    }

    /**
     * The handlers of a UDP listener's pipeline, decoder to handler, for a channel that is not
     * bound (Netty's EmbeddedChannel in the fuzz test: every datagram through the real code, no
     * socket).
     */
    ChannelHandler[] udpPipeline() {
        return new ChannelHandler[] {new GuardedQueryDecoder(), new ResponseEncoder(), new QueryHandler()};
    }

    private String listening() {
        return udpAddresses().stream().map(DnsServer::format).toList().toString();
    }

    private static String format(final InetSocketAddress address) {
        return address.getAddress().getHostAddress() + ":" + address.getPort();
    }

    private Channel bindUdp(final Class<? extends DatagramChannel> channelClass, final InetSocketAddress address,
                            final QueryHandler handler) {
        final Bootstrap bootstrap = new Bootstrap()
            .group(group)
            .channel(channelClass)
            .handler(new ChannelInitializer<DatagramChannel>() {
                @Override
                protected void initChannel(final DatagramChannel ch) {
                    ch.pipeline().addLast(new GuardedQueryDecoder(), new ResponseEncoder(), handler);
                }
            });
        return bind(bootstrap.bind(address), address, "UDP");
    }

    private Channel bindTcp(final Class<? extends ServerChannel> channelClass, final InetSocketAddress address,
                            final QueryHandler handler) {
        final ServerBootstrap bootstrap = new ServerBootstrap()
            .group(group)
            .channel(channelClass)
            .option(ChannelOption.SO_REUSEADDR, true)
            .childHandler(new ChannelInitializer<SocketChannel>() {
                @Override
                protected void initChannel(final SocketChannel ch) {
                    if (tcpConnections.incrementAndGet() > MAX_TCP_CONNECTIONS) {
                        tcpConnections.decrementAndGet();
                        ch.close();
                        return;
                    }
                    ch.closeFuture().addListener(f -> tcpConnections.decrementAndGet());
                    ch.pipeline().addLast(new ReadTimeoutHandler(TCP_IDLE_TIMEOUT_MS, TimeUnit.MILLISECONDS),
                        new TcpDnsQueryDecoder(), new TcpDnsResponseEncoder(), handler);
                }
            });
        return bind(bootstrap.bind(address), address, "TCP");
    }

    private static Channel bind(final ChannelFuture future, final InetSocketAddress address, final String protocol) {
        future.awaitUninterruptibly();
        if (!future.isSuccess()) {
            throw new IllegalStateException("DNS server: cannot listen on " + format(address) + "/" + protocol + ": "
                + future.cause().getMessage() + " (check --dns-address: an address of this host, a port not in use;"
                + " ports below 1024 need root or CAP_NET_BIND_SERVICE)", future.cause());
        }
        return future.channel();
    }

    /**
     * The datagram decoder, answering what it cannot decode: a message with a whole header that
     * is a query gets FORMERR (its ID and opcode echoed, no question); anything shorter, and
     * anything with QR set (a response: answering it could start a loop between two servers),
     * is dropped and counted.
     */
    private final class GuardedQueryDecoder extends DatagramDnsQueryDecoder {
        @Override
        protected void decode(final ChannelHandlerContext context, final DatagramPacket packet, final List<Object> out) {
            final ByteBuf content = packet.content();
            final int start = content.readerIndex();
            try {
                super.decode(context, packet, out);
            } catch (final Exception e) {
                if (content.writerIndex() - start < HEADER_BYTES || (content.getByte(start + 2) & 0x80) != 0) {
                    counters.dropped();
                    return;
                }
                final ByteBuf reply = context.alloc().buffer(HEADER_BYTES);
                reply.writeShort(content.getUnsignedShort(start));
                final int opcode = content.getByte(start + 2) >> 3 & 0xF;
                reply.writeShort(0x8000 | opcode << 11 | DnsResponseCode.FORMERR.intValue());
                reply.writeZero(8);
                counters.response(DnsResponseCode.FORMERR.intValue());
                context.writeAndFlush(new DatagramPacket(reply, packet.sender(), packet.recipient()));
            }
        }
    }

    /**
     * Netty's datagram response encoder, leaving raw datagrams alone: a forwarded answer is a
     * {@link DatagramPacket}, which is an AddressedEnvelope too, and the stock encoder would take
     * it for a response to encode.
     */
    private static final class ResponseEncoder extends DatagramDnsResponseEncoder {
        @Override
        public boolean acceptOutboundMessage(final Object msg) throws Exception {
            return msg instanceof DatagramDnsResponse && super.acceptOutboundMessage(msg);
        }
    }

    /** Answers each decoded query, from either transport. One instance for every channel. */
    @ChannelHandler.Sharable
    private final class QueryHandler extends SimpleChannelInboundHandler<DnsQuery> {
        @Override
        protected void channelRead0(final ChannelHandlerContext context, final DnsQuery query) {
            final boolean udp = query instanceof DatagramDnsQuery;
            final DnsQuestion question = query.count(DnsSection.QUESTION) == 1 ? query.recordAt(DnsSection.QUESTION, 0) : null;
            counters.query(question == null ? -1 : question.type().intValue());
            final int clientUdpSize = clientUdpSize(query);
            // before anything echoes the question: a name that cannot be written back would fail the encoder
            if (question == null || !encodable(question.name())) {
                reply(context, query, null, DnsResponseCode.FORMERR, null, clientUdpSize);
                return;
            }
            if (query.opCode() != DnsOpCode.QUERY) {
                reply(context, query, question, DnsResponseCode.NOTIMP, null, clientUdpSize);
                return;
            }
            final int dnsClass = question.dnsClass() & 0xFFFF;
            final Zone.Lookup lookup = zone.lookup(question.name(), question.type().intValue());
            if (lookup.status() == Zone.Status.NOT_OURS) {
                forward(context, query, question, dnsClass, clientUdpSize, udp);
                return;
            }
            if (dnsClass != CLASS_IN && dnsClass != CLASS_ANY) {
                reply(context, query, question, DnsResponseCode.REFUSED, null, clientUdpSize);
                return;
            }
            reply(context, query, question, lookup.status() == Zone.Status.NXDOMAIN ? DnsResponseCode.NXDOMAIN : DnsResponseCode.NOERROR,
                lookup, clientUdpSize);
        }

        @Override
        public void exceptionCaught(final ChannelHandlerContext context, final Throwable cause) {
            // TcpDnsQueryDecoder's frame did not decode (its bytes are gone, so no ID to answer with), or the
            // connection failed: count it and close, as a peer whose stream cannot be trusted.
            if (!(context.channel() instanceof DatagramChannel)) {
                if (!(cause instanceof io.netty.handler.timeout.ReadTimeoutException)) {
                    counters.dropped();
                }
                context.close();
            }
        }

        private void forward(final ChannelHandlerContext context, final DnsQuery query, final DnsQuestion question, final int dnsClass,
                             final int clientUdpSize, final boolean udp) {
            if (forwarder == null) {
                reply(context, query, question, DnsResponseCode.REFUSED, null, clientUdpSize);
                return;
            }
            final InetSocketAddress client = udp ? ((DatagramDnsQuery) query).sender() : null;
            final InetSocketAddress local = udp ? ((DatagramDnsQuery) query).recipient() : null;
            final DnsResponse failure = response(query, question, DnsResponseCode.SERVFAIL, client, local);
            final boolean sent = forwarder.forward(question.name(), question.type().intValue(), dnsClass,
                hasOpt(query) ? clientUdpSize : 0, !udp, query.id(), answer -> {
                    if (answer == null) {
                        counters.forwardFailed();
                        send(context, failure, DnsResponseCode.SERVFAIL.intValue());
                        return;
                    }
                    failure.release();
                    final ByteBuf bytes = Unpooled.wrappedBuffer(answer);
                    // past the encoders: a raw datagram, or the TCP length prefix and the message
                    send(context, udp ? new DatagramPacket(bytes, client, local)
                        : Unpooled.wrappedBuffer(Unpooled.copyShort(answer.length), bytes), answer[3] & 0xF);
                });
            if (sent) {
                counters.forwarded();
            } else {
                failure.release();
                counters.forwardFailed();
                reply(context, query, question, DnsResponseCode.SERVFAIL, null, clientUdpSize);
            }
        }

        private void reply(final ChannelHandlerContext context, final DnsQuery query, final DnsQuestion question,
                           final DnsResponseCode code, final Zone.Lookup lookup, final int clientUdpSize) {
            final boolean udp = query instanceof DatagramDnsQuery;
            final DnsResponse response = udp
                ? response(query, question, code, ((DatagramDnsQuery) query).sender(), ((DatagramDnsQuery) query).recipient())
                : response(query, question, code, null, null);
            final boolean opt = hasOpt(query);
            if (lookup != null) {
                response.setAuthoritativeAnswer(true);
                final long ttl = zone.ttlSeconds();
                int size = HEADER_BYTES + (question == null ? 0 : Rr.wireNameLength(Rr.normalize(question.name())) + 4)
                    + (opt ? OPT_BYTES : 0);
                final int answerBytes = bytes(lookup.answers()) + bytes(lookup.authority());
                final int limit = udp ? clientUdpSize : 65535;
                if (size + answerBytes > limit) {
                    response.setTruncated(true); // RFC 2181 section 9: no partial RRsets; the client asks again over TCP
                    counters.truncated();
                } else {
                    size += answerBytes;
                    add(response, DnsSection.ANSWER, lookup.answers(), ttl);
                    add(response, DnsSection.AUTHORITY, lookup.authority(), ttl);
                    if (size + bytes(lookup.additionals()) <= limit) { // extra: left out rather than truncating
                        add(response, DnsSection.ADDITIONAL, lookup.additionals(), ttl);
                    }
                }
            }
            if (opt) {
                response.addRecord(DnsSection.ADDITIONAL, new OptRecord());
            }
            send(context, response, code.intValue());
        }

        /**
         * Counts an answer by {@code rcode} and writes it; one whose write fails (the encoder
         * refused it, the socket is gone) moves to the dropped count, so every query ends in
         * exactly one of the two. Counted before the write so that a client holding the answer
         * always finds it counted.
         */
        private void send(final ChannelHandlerContext context, final Object answer, final int rcode) {
            counters.response(rcode);
            context.writeAndFlush(answer).addListener(future -> {
                if (!future.isSuccess()) {
                    counters.unsent(rcode);
                    LOG.fine(() -> "DNS answer not sent: " + future.cause());
                }
            });
        }

        private DnsResponse response(final DnsQuery query, final DnsQuestion question, final DnsResponseCode code,
                                     final InetSocketAddress client, final InetSocketAddress local) {
            final DnsResponse response = client != null
                ? new DatagramDnsResponse(local, client, query.id(), query.opCode(), code)
                : new DefaultDnsResponse(query.id(), query.opCode(), code);
            response.setRecursionDesired(query.isRecursionDesired());
            response.setRecursionAvailable(forwarder != null);
            if (question != null && code != DnsResponseCode.FORMERR) {
                response.addRecord(DnsSection.QUESTION, question);
            }
            return response;
        }
    }

    private static boolean hasOpt(final DnsQuery query) {
        for (int i = 0; i < query.count(DnsSection.ADDITIONAL); i++) {
            if (query.recordAt(DnsSection.ADDITIONAL, i).type() == DnsRecordType.OPT) {
                return true;
            }
        }
        return false;
    }

    /** What a UDP answer may take: 512 without EDNS, else the client's size between 512 and ours (RFC 6891 section 6.2.5). */
    private static int clientUdpSize(final DnsQuery query) {
        for (int i = 0; i < query.count(DnsSection.ADDITIONAL); i++) {
            final DnsRecord record = query.recordAt(DnsSection.ADDITIONAL, i);
            if (record.type() == DnsRecordType.OPT) {
                return Math.min(EDNS_UDP_SIZE, Math.max(CLASSIC_UDP_SIZE, record.dnsClass() & 0xFFFF));
            }
        }
        return CLASSIC_UDP_SIZE;
    }

    /** True when the name can be written back on the wire (its labels fit; Netty decodes some that do not). */
    private static boolean encodable(final String name) {
        try {
            Rr.wireName(Rr.normalize(name));
            return !name.isEmpty() && name.chars().allMatch(c -> c > ' ' && c < 0x7F);
        } catch (final IllegalArgumentException e) {
            return false;
        }
    }

    private static int bytes(final List<Rr> records) {
        int total = 0;
        for (final Rr rr : records) {
            total += rr.wireLength();
        }
        return total;
    }

    private static void add(final DnsResponse response, final DnsSection section, final List<Rr> records, final long ttl) {
        for (final Rr rr : records) {
            response.addRecord(section, new DefaultDnsRawRecord(rr.name() + ".", DnsRecordType.valueOf(rr.type()), ttl,
                Unpooled.wrappedBuffer(rr.rdata())));
        }
    }

    /** Our EDNS OPT: UDP size {@value #EDNS_UDP_SIZE}, version 0, no options. */
    private static final class OptRecord extends AbstractDnsOptPseudoRrRecord {
        OptRecord() {
            super(EDNS_UDP_SIZE);
        }
    }

    @Override
    public void close() {
        for (final Channel channel : channels) {
            channel.close().awaitUninterruptibly();
        }
        if (forwarder != null) {
            forwarder.close();
        }
        group.shutdownGracefully(0, 2, TimeUnit.SECONDS).awaitUninterruptibly();
    }

    /**
     * The server's configuration, checked once by {@link #conclude()} before anything binds.
     */
    public static final class Context {
        private List<InetSocketAddress> addresses = List.of();
        private InetSocketAddress upstream;
        private String clusterDomain = DEFAULT_CLUSTER_DOMAIN;
        private long ttlSeconds = DEFAULT_TTL_SECONDS;
        private boolean useEpoll = true;
        private boolean bind = true;

        /** Where to listen, UDP and TCP each; at least one. */
        public Context addresses(final List<InetSocketAddress> listen) {
            this.addresses = List.copyOf(listen);
            return this;
        }

        /** The resolver for names outside the cluster domain; null to refuse them. */
        public Context upstream(final InetSocketAddress resolver) {
            this.upstream = resolver;
            return this;
        }

        public Context clusterDomain(final String domain) {
            this.clusterDomain = domain;
            return this;
        }

        public Context ttlSeconds(final long seconds) {
            this.ttlSeconds = seconds;
            return this;
        }

        /** False to use NIO (tests of the fallback). */
        public Context useEpoll(final boolean epoll) {
            this.useEpoll = epoll;
            return this;
        }

        /** False to bind nothing ({@link #udpPipeline()} on a channel of the test's own). */
        Context bind(final boolean listen) {
            this.bind = listen;
            return this;
        }

        Context conclude() {
            if (addresses.isEmpty() && bind) {
                throw new IllegalArgumentException("DNS server: no address to listen on");
            }
            clusterDomain = normalizeDomain(clusterDomain);
            if (ttlSeconds < 0 || ttlSeconds > Integer.MAX_VALUE) {
                throw new IllegalArgumentException("DNS TTL must be 0.." + Integer.MAX_VALUE + " seconds, was " + ttlSeconds);
            }
            return this;
        }
    }

    /**
     * The cluster domain as the zone keys it (lower case, no trailing dot); throws
     * {@link IllegalArgumentException} saying what is wrong with it.
     */
    public static String normalizeDomain(final String domain) {
        Objects.requireNonNull(domain, "cluster domain");
        final String normalized = Rr.normalize(domain.trim());
        if (normalized.isEmpty() || !normalized.matches("[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*")) {
            throw new IllegalArgumentException("--cluster-domain '" + domain + "' is not a DNS name: lower-case letters, digits, '-'"
                + " and dots, such as cluster.local");
        }
        Rr.wireName(normalized);
        return normalized.toLowerCase(Locale.ROOT);
    }

    /** "IP:PORT" as the flags take it, e.g. "10.96.0.10:53" or "127.0.0.1:5353"; throws naming the flag. */
    public static InetSocketAddress parseAddress(final String flag, final String text) {
        final int colon = text.lastIndexOf(':');
        if (colon <= 0 || colon == text.length() - 1) {
            throw new IllegalArgumentException(flag + " '" + text + "' is not IP:PORT, e.g. 127.0.0.1:53");
        }
        final String host = text.substring(0, colon);
        final int port;
        try {
            port = Integer.parseInt(text.substring(colon + 1));
        } catch (final NumberFormatException e) {
            throw new IllegalArgumentException(flag + " '" + text + "': the port is not a number");
        }
        if (port < 0 || port > 65535) {
            throw new IllegalArgumentException(flag + " '" + text + "': the port must be 0..65535");
        }
        if (!host.matches("\\d{1,3}(\\.\\d{1,3}){3}")) {
            throw new IllegalArgumentException(flag + " '" + text + "': '" + host + "' is not an IPv4 address (a name would need DNS)");
        }
        try {
            return new InetSocketAddress(java.net.InetAddress.getByName(host), port);
        } catch (final java.net.UnknownHostException e) {
            throw new IllegalArgumentException(flag + " '" + text + "': '" + host + "' is not an IPv4 address");
        }
    }
}
