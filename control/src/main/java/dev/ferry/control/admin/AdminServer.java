package dev.ferry.control.admin;

import io.netty.bootstrap.ServerBootstrap;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFuture;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.ChannelOption;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.IoHandlerFactory;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.ServerChannel;
import io.netty.channel.epoll.Epoll;
import io.netty.channel.epoll.EpollIoHandler;
import io.netty.channel.epoll.EpollServerDomainSocketChannel;
import io.netty.channel.epoll.EpollServerSocketChannel;
import io.netty.channel.unix.DomainSocketAddress;
import io.netty.channel.nio.NioIoHandler;
import io.netty.channel.socket.SocketChannel;
import io.netty.channel.socket.nio.NioServerSocketChannel;
import io.netty.handler.codec.http.HttpObjectAggregator;
import io.netty.handler.codec.http.HttpServerCodec;
import io.netty.handler.timeout.ReadTimeoutHandler;
import io.netty.util.concurrent.DefaultThreadFactory;
import org.agrona.concurrent.EpochClock;
import org.agrona.concurrent.SystemEpochClock;

import java.io.IOException;
import java.net.InetAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.net.InetSocketAddress;
import java.net.UnknownHostException;
import java.util.Objects;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;

/**
 * The agent's admin endpoints, two HTTP listeners as in kube-proxy: the healthz port
 * ({@code /healthz}, {@code /livez}; default {@value AgentPaths#DEFAULT_HEALTHZ_PORT}) and the
 * metrics port ({@code /metrics}, {@code /services}, {@code /conntrack}; default
 * {@value AgentPaths#DEFAULT_METRICS_PORT}), both on 127.0.0.1 unless configured otherwise.
 *
 * <p>Netty on its epoll transport, one event-loop thread for both listeners; when epoll cannot
 * load (not Linux x86-64, no native access) it logs why once and uses NIO. Requests on the
 * metrics port (a conntrack walk can take a while on a big table) run on a separate worker
 * thread, so a slow listing never delays a health probe.
 *
 * <pre>
 *   AdminServer server = AdminServer.start(new AdminServer.Context().status(agentStatus));
 *   ...
 *   server.close();
 * </pre>
 */
public final class AdminServer implements AutoCloseable {
    private static final System.Logger LOG = System.getLogger(AdminServer.class.getName());
    /** Largest request accepted (requests carry no body; this bounds headers and junk). */
    static final int MAX_REQUEST_BYTES = 64 * 1024;
    /** Admin connections open at once, over all listeners; more are closed at once. */
    public static final int MAX_CONNECTIONS = 64;
    /** Requests waiting for the work thread; more are refused (the connection closed). */
    private static final int MAX_QUEUED_REQUESTS = 2 * MAX_CONNECTIONS;
    /** A connection that sends nothing for this long is closed (a slow or idle client holds no socket for ever). */
    static final long DEFAULT_IDLE_TIMEOUT_MS = 10_000;
    private static final int SHUTDOWN_WAIT_SECONDS = 5;

    private final String transport;
    private final EventLoopGroup group;
    private final ExecutorService work;
    private final ConnectionLimit limit;
    private final long idleTimeoutMs;
    private final Channel healthzChannel;
    private final Channel metricsChannel;
    /** The control socket's channel, or null when none was asked for. */
    private final Channel controlChannel;
    private final Path controlSocket;

    private AdminServer(final Context ctx) {
        final boolean epoll = ctx.useEpoll && Epoll.isAvailable();
        final IoHandlerFactory io;
        final Class<? extends ServerChannel> channelClass;
        if (epoll) {
            io = EpollIoHandler.newFactory();
            channelClass = EpollServerSocketChannel.class;
        } else {
            io = NioIoHandler.newFactory();
            channelClass = NioServerSocketChannel.class;
            if (ctx.useEpoll) {
                LOG.log(System.Logger.Level.INFO, "admin server: epoll transport unavailable ("
                    + Epoll.unavailabilityCause() + "); using NIO");
            }
        }
        this.transport = epoll ? "epoll" : "nio";
        this.group = new MultiThreadIoEventLoopGroup(1, new DefaultThreadFactory("ferry-admin", true), io);
        this.work = new ThreadPoolExecutor(1, 1, 0, TimeUnit.MILLISECONDS, new ArrayBlockingQueue<>(MAX_QUEUED_REQUESTS),
            new DefaultThreadFactory("ferry-admin-work", true)); // a full queue rejects: the request's connection is closed
        this.limit = new ConnectionLimit(MAX_CONNECTIONS);
        this.idleTimeoutMs = ctx.idleTimeoutMs;
        final AdminRoutes routes = new AdminRoutes(ctx.status, ctx.clock);
        Channel healthz = null;
        Channel metrics = null;
        try {
            healthz = bind(channelClass, ctx.healthzBindAddress, ctx.healthzPort, "/healthz and /livez",
                routes, AdminRoutes.Listener.HEALTHZ, null);
            this.healthzChannel = healthz;
            metrics = bind(channelClass, ctx.metricsBindAddress, ctx.metricsPort,
                "/metrics, /services and /conntrack", routes, AdminRoutes.Listener.METRICS, work);
            this.metricsChannel = metrics;
            this.controlSocket = ctx.controlSocket;
            this.controlChannel = ctx.controlSocket == null ? null : bindControl(epoll, ctx.controlSocket, routes);
        } catch (final RuntimeException e) {
            for (final Channel channel : new Channel[] {healthz, metrics}) {
                if (channel != null) {
                    channel.close().syncUninterruptibly();
                }
            }
            shutdown();
            throw e;
        }
        LOG.log(System.Logger.Level.INFO, "admin server (" + transport + "): healthz on " + describe(healthzAddress())
            + " (/healthz, /livez), metrics on " + describe(metricsAddress()) + " (/metrics, /services, /conntrack)");
    }

    /** Binds both listeners; throws {@link IllegalStateException} naming the address when one cannot bind. */
    public static AdminServer start(final Context context) {
        return new AdminServer(context.conclude());
    }

    private Channel bind(
        final Class<? extends ServerChannel> channelClass,
        final String host,
        final int port,
        final String what,
        final AdminRoutes routes,
        final AdminRoutes.Listener listener,
        final ExecutorService executor) {
        final ServerBootstrap bootstrap = new ServerBootstrap()
            .group(group)
            .channel(channelClass)
            .option(ChannelOption.SO_REUSEADDR, true)
            .childHandler(new ChannelInitializer<SocketChannel>() {
                @Override
                protected void initChannel(final SocketChannel ch) {
                    bounded(ch);
                    ch.pipeline().addLast(new AdminHandler(routes, listener, executor));
                }
            });
        final ChannelFuture bound = bootstrap.bind(new InetSocketAddress(address(host), port)).awaitUninterruptibly();
        if (!bound.isSuccess()) {
            throw new IllegalStateException("cannot listen on " + host + ":" + port + " for " + what + ": "
                + bound.cause().getMessage() + "; is another ferry agent or kube-proxy running? "
                + "Stop it, or choose another address or port in the node config", bound.cause());
        }
        return bound.channel();
    }

    /**
     * The control socket: a Unix socket, mode 0600, so only root (the agent's user) can change
     * the dataplane through it, where every process on the node reaches the TCP listeners. A
     * socket file left by a crashed agent is replaced. Needs the epoll transport (Linux).
     */
    private Channel bindControl(final boolean epoll, final Path socket, final AdminRoutes routes) {
        if (!epoll) {
            throw new IllegalStateException("the control socket " + socket + " needs Netty's epoll transport: "
                + Epoll.unavailabilityCause());
        }
        try {
            Files.deleteIfExists(socket);
        } catch (final IOException e) {
            throw new IllegalStateException("cannot replace the control socket " + socket + ": " + e.getMessage(), e);
        }
        final ServerBootstrap bootstrap = new ServerBootstrap()
            .group(group)
            .channel(EpollServerDomainSocketChannel.class)
            .childHandler(new ChannelInitializer<Channel>() {
                @Override
                protected void initChannel(final Channel ch) {
                    bounded(ch);
                    ch.pipeline().addLast(new AdminHandler(routes, AdminRoutes.Listener.CONTROL, work));
                }
            });
        final ChannelFuture bound = bootstrap.bind(new DomainSocketAddress(socket.toFile())).awaitUninterruptibly();
        if (!bound.isSuccess()) {
            throw new IllegalStateException("cannot listen on the control socket " + socket + ": " + bound.cause().getMessage(),
                bound.cause());
        }
        try {
            Files.setPosixFilePermissions(socket, PosixFilePermissions.fromString("rw-------"));
        } catch (final IOException e) {
            bound.channel().close().syncUninterruptibly();
            throw new IllegalStateException("cannot make the control socket " + socket + " owner-only: " + e.getMessage(), e);
        }
        return bound.channel();
    }

    /**
     * Every admin connection's first handlers: the connection limit, the idle timeout, and HTTP
     * with bounded request lines, headers (Netty's 4 KiB and 8 KiB) and bodies.
     */
    private void bounded(final Channel ch) {
        ch.pipeline().addLast(limit, new ReadTimeoutHandler(idleTimeoutMs, TimeUnit.MILLISECONDS),
            new HttpServerCodec(), new HttpObjectAggregator(MAX_REQUEST_BYTES));
    }

    /** Connections refused by the connection limit since start. */
    public int refusedConnections() {
        return limit.refused();
    }

    /** The control socket's path, or null. */
    public Path controlSocket() {
        return controlSocket;
    }

    private static InetAddress address(final String host) {
        try {
            return InetAddress.getByName(host);
        } catch (final UnknownHostException e) {
            throw new IllegalStateException("admin bind address '" + host + "' is not an address", e);
        }
    }

    private static String describe(final InetSocketAddress address) {
        final String host = address.getAddress().getHostAddress();
        return (host.indexOf(':') >= 0 ? "[" + host + "]" : host) + ":" + address.getPort();
    }

    /** "epoll" or "nio": the transport in use. */
    public String transport() {
        return transport;
    }

    /** The healthz listener's address, with the actual port when port 0 was asked for. */
    public InetSocketAddress healthzAddress() {
        return (InetSocketAddress) healthzChannel.localAddress();
    }

    /** The metrics listener's address, with the actual port when port 0 was asked for. */
    public InetSocketAddress metricsAddress() {
        return (InetSocketAddress) metricsChannel.localAddress();
    }

    /**
     * Closes both listeners and stops the threads, waiting (a few seconds at most) for a
     * request in progress, so that the agent may close the conntrack table afterwards. Idempotent.
     */
    @Override
    public void close() {
        healthzChannel.close().syncUninterruptibly();
        metricsChannel.close().syncUninterruptibly();
        if (controlChannel != null) {
            controlChannel.close().syncUninterruptibly();
            try {
                Files.deleteIfExists(controlSocket);
            } catch (final IOException e) {
                LOG.log(System.Logger.Level.WARNING, "cannot remove the control socket " + controlSocket + ": " + e.getMessage());
            }
        }
        shutdown();
    }

    private void shutdown() {
        work.shutdownNow();
        try {
            if (!work.awaitTermination(SHUTDOWN_WAIT_SECONDS, TimeUnit.SECONDS)) {
                LOG.log(System.Logger.Level.WARNING, "admin server: a request still runs after "
                    + SHUTDOWN_WAIT_SECONDS + " s; closing anyway");
            }
        } catch (final InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        group.shutdownGracefully(0, SHUTDOWN_WAIT_SECONDS, TimeUnit.SECONDS).syncUninterruptibly();
    }

    /**
     * Admin server configuration; defaults are kube-proxy's ports on loopback.
     * {@link #conclude()} checks it once before anything binds.
     */
    public static final class Context {
        private AgentStatus status;
        private EpochClock clock = SystemEpochClock.INSTANCE;
        private String healthzBindAddress = AgentPaths.DEFAULT_BIND_ADDRESS;
        private int healthzPort = AgentPaths.DEFAULT_HEALTHZ_PORT;
        private String metricsBindAddress = AgentPaths.DEFAULT_BIND_ADDRESS;
        private int metricsPort = AgentPaths.DEFAULT_METRICS_PORT;
        private boolean useEpoll = true;
        private Path controlSocket;
        private long idleTimeoutMs = DEFAULT_IDLE_TIMEOUT_MS;

        /** Where the endpoints read the agent's state. Required. */
        public Context status(final AgentStatus status) {
            this.status = status;
            return this;
        }

        /** Epoch milliseconds for conntrack expiry times: the dataplane workers' clock. */
        public Context clock(final EpochClock clock) {
            this.clock = clock;
            return this;
        }

        /** Address (not port) of the healthz listener; default 127.0.0.1, "0.0.0.0" for all. */
        public Context healthzBindAddress(final String address) {
            this.healthzBindAddress = address;
            return this;
        }

        /** Port of the healthz listener; 0 picks a free one (tests). */
        public Context healthzPort(final int port) {
            this.healthzPort = port;
            return this;
        }

        public Context metricsBindAddress(final String address) {
            this.metricsBindAddress = address;
            return this;
        }

        public Context metricsPort(final int port) {
            this.metricsPort = port;
            return this;
        }

        /**
         * kube-proxy style "host:port" for the healthz listener ({@code healthzBindAddress}).
         * Throws {@link IllegalArgumentException} naming the value when it does not parse.
         */
        public Context healthzBindAddressAndPort(final String hostPort) {
            final HostPort hp = HostPort.parse("healthzBindAddress", hostPort);
            return healthzBindAddress(hp.host()).healthzPort(hp.port());
        }

        /** kube-proxy style "host:port" for the metrics listener ({@code metricsBindAddress}). */
        public Context metricsBindAddressAndPort(final String hostPort) {
            final HostPort hp = HostPort.parse("metricsBindAddress", hostPort);
            return metricsBindAddress(hp.host()).metricsPort(hp.port());
        }

        /** How long a connection may send nothing before it is closed. */
        public Context idleTimeoutMs(final long ms) {
            this.idleTimeoutMs = ms;
            return this;
        }

        /** Also serve the control socket (conntrack delete) at {@code socket}; none by default. */
        public Context controlSocket(final Path socket) {
            this.controlSocket = socket;
            return this;
        }

        /** False forces NIO (tests of the fallback); true uses epoll when it loads. */
        public Context useEpoll(final boolean useEpoll) {
            this.useEpoll = useEpoll;
            return this;
        }

        Context conclude() {
            Objects.requireNonNull(status, "AdminServer.Context.status is required");
            Objects.requireNonNull(clock, "AdminServer.Context.clock");
            checkPort("healthz", healthzPort);
            checkPort("metrics", metricsPort);
            if (healthzPort != 0 && healthzPort == metricsPort && healthzBindAddress.equals(metricsBindAddress)) {
                throw new IllegalArgumentException("the healthz and metrics listeners are both set to "
                    + healthzBindAddress + ":" + healthzPort + "; give them different ports");
            }
            return this;
        }

        private static void checkPort(final String which, final int port) {
            if (port < 0 || port > 65535) {
                throw new IllegalArgumentException(which + " port " + port + " is not a port (0-65535)");
            }
        }
    }

    /** "127.0.0.1:10249", "0.0.0.0:10256", "[::1]:10249". */
    record HostPort(String host, int port) {
        static HostPort parse(final String field, final String text) {
            final String t = text.trim();
            final int colon = t.lastIndexOf(':');
            if (colon <= 0 || colon == t.length() - 1) {
                throw new IllegalArgumentException(field + ": '" + text + "' is not host:port (e.g. 127.0.0.1:10249)");
            }
            String host = t.substring(0, colon);
            if (host.startsWith("[") && host.endsWith("]")) {
                host = host.substring(1, host.length() - 1);
            }
            final int port;
            try {
                port = Integer.parseInt(t.substring(colon + 1));
            } catch (final NumberFormatException e) {
                throw new IllegalArgumentException(field + ": '" + text + "' has no port number after the last ':'");
            }
            if (port < 0 || port > 65535) {
                throw new IllegalArgumentException(field + ": '" + text + "': " + port + " is not a port (0-65535)");
            }
            return new HostPort(host, port);
        }
    }
}
