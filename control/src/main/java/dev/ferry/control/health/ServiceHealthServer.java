package dev.ferry.control.health;

import dev.ferry.control.source.DesiredState;
import dev.ferry.control.source.StateHook;

import dev.ferry.dataplane.addr.Ipv4;
import dev.ferry.dataplane.service.EndpointSpec;
import dev.ferry.dataplane.service.ServicePortSpec;
import io.netty.bootstrap.ServerBootstrap;
import io.netty.buffer.Unpooled;
import io.netty.channel.group.ChannelGroup;
import io.netty.channel.group.DefaultChannelGroup;
import io.netty.channel.ChannelFuture;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.ChannelOption;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.IoHandlerFactory;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.ServerChannel;
import io.netty.channel.SimpleChannelInboundHandler;
import io.netty.channel.epoll.Epoll;
import io.netty.channel.epoll.EpollIoHandler;
import io.netty.channel.epoll.EpollServerSocketChannel;
import io.netty.channel.nio.NioIoHandler;
import io.netty.channel.socket.SocketChannel;
import io.netty.channel.socket.nio.NioServerSocketChannel;
import io.netty.handler.codec.http.DefaultFullHttpResponse;
import io.netty.handler.codec.http.FullHttpRequest;
import io.netty.handler.codec.http.FullHttpResponse;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpObjectAggregator;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.HttpServerCodec;
import io.netty.handler.codec.http.HttpUtil;
import io.netty.handler.codec.http.HttpVersion;
import io.netty.util.concurrent.DefaultThreadFactory;
import io.netty.util.concurrent.GlobalEventExecutor;

import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.UnknownHostException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.logging.Logger;

/**
 * kube-proxy's service health check server ({@code pkg/proxy/healthcheck/service_health.go}):
 * for every Service with a healthCheckNodePort (type LoadBalancer, externalTrafficPolicy Local),
 * an HTTP listener on that port of each node address that accepts node ports, which tells the
 * cloud load balancer whether to send this service's traffic to this node. Any request gets:
 * <ul>
 *   <li>200 when the node has at least one ready local endpoint of the service and the agent is
 *       healthy (its sync loop is not stuck), 503 otherwise;</li>
 *   <li>headers {@code Content-Type: application/json}, {@code X-Content-Type-Options: nosniff} and
 *       {@code X-Load-Balancing-Endpoint-Weight: N}, N the local endpoint count (load balancers that
 *       weigh nodes read it);</li>
 *   <li>a JSON body naming the service, the count and the agent's health, laid out as kube-proxy's.</li>
 * </ul>
 * The count is that of distinct ready local endpoint addresses over all the service's ports, as
 * kube-proxy counts: a pod serving two ports is one endpoint; terminating endpoints do not count,
 * so a node whose pods are all going away fails the check while they drain.
 *
 * <p>The dataplane answers LOCAL for a node address and a health check node port, so these
 * listeners see the load balancer's probes directly. Listeners follow each desired state: opened
 * for new services, closed for removed ones or when the port changes. A port that cannot be bound
 * is logged and tried again with the next state. One Netty event loop (epoll, else NIO) serves all.
 */
public final class ServiceHealthServer implements StateHook {
    private static final Logger LOG = Logger.getLogger(ServiceHealthServer.class.getName());
    private static final int MAX_REQUEST_BYTES = 16 * 1024;
    private static final int SHUTDOWN_WAIT_SECONDS = 5;

    private final List<InetAddress> addresses;
    private final EventLoopGroup group;
    private final Class<? extends ServerChannel> channelClass;
    /** Service (namespace/name) to its listeners and local endpoint count; read by the event loop. */
    private final Map<String, Instance> instances = new ConcurrentHashMap<>();
    private volatile SyncTracker tracker;
    private boolean closed;

    /** One service's health check: its port, listeners, and current local endpoint count. */
    private static final class Instance {
        final String namespace;
        final String name;
        final int port;
        /** Listeners and their connections: closing a health check drops a load balancer's kept-alive connection too. */
        final ChannelGroup channels = new DefaultChannelGroup(GlobalEventExecutor.INSTANCE);
        volatile int localEndpoints;

        Instance(final String namespace, final String name, final int port) {
            this.namespace = namespace;
            this.name = name;
            this.port = port;
        }
    }

    /**
     * @param nodeAddresses the node addresses that accept node ports ({@code NodeSpec.nodePortIps()},
     *                      {@link Ipv4} ints); empty listens on all addresses, as kube-proxy does
     *                      when nodePortAddresses is not set
     */
    public ServiceHealthServer(final List<Integer> nodeAddresses) {
        this.addresses = new ArrayList<>();
        try {
            if (nodeAddresses.isEmpty()) {
                addresses.add(InetAddress.getByName("0.0.0.0"));
            }
            for (final int address : nodeAddresses) {
                addresses.add(InetAddress.getByName(Ipv4.format(address)));
            }
        } catch (final UnknownHostException e) {
            throw new IllegalArgumentException("not an address: " + e.getMessage(), e);
        }
        final boolean epoll = Epoll.isAvailable();
        final IoHandlerFactory io = epoll ? EpollIoHandler.newFactory() : NioIoHandler.newFactory();
        this.channelClass = epoll ? EpollServerSocketChannel.class : NioServerSocketChannel.class;
        this.group = new MultiThreadIoEventLoopGroup(1, new DefaultThreadFactory("ferry-healthcheck", true), io);
    }

    @Override
    public void health(final SyncTracker syncTracker) {
        this.tracker = syncTracker;
    }

    @Override
    public synchronized void accept(final DesiredState state) {
        if (closed) {
            return;
        }
        try {
            follow(state);
        } catch (final RuntimeException e) {
            LOG.severe("health check listeners did not follow the new state: " + e);
        }
    }

    private void follow(final DesiredState state) {
        final Map<String, Integer> ports = new TreeMap<>();
        final Map<String, Set<Integer>> localReady = new HashMap<>();
        for (final ServicePortSpec spec : state.ports()) {
            if (spec.healthCheckNodePort() == 0) {
                continue;
            }
            final String key = spec.namespace() + "/" + spec.name();
            ports.put(key, spec.healthCheckNodePort());
            final Set<Integer> ips = localReady.computeIfAbsent(key, k -> new HashSet<>());
            for (final EndpointSpec endpoint : spec.endpoints()) {
                if (endpoint.local() && endpoint.ready()) {
                    ips.add(endpoint.address());
                }
            }
        }
        instances.entrySet().removeIf(entry -> {
            final Integer port = ports.get(entry.getKey());
            if (port == null || port != entry.getValue().port) {
                closeAll(entry.getValue());
                LOG.info("health check for " + entry.getKey() + " on port " + entry.getValue().port + " closed");
                return true;
            }
            return false;
        });
        ports.forEach((key, port) -> {
            Instance instance = instances.get(key);
            if (instance == null) {
                final int slash = key.indexOf('/');
                instance = new Instance(key.substring(0, slash), key.substring(slash + 1), port);
                if (!listen(instance)) {
                    return; // tried again with the next state
                }
                instances.put(key, instance);
                LOG.info("health check for " + key + " on port " + port + " opened");
            }
            instance.localEndpoints = localReady.get(key).size();
        });
    }

    /** The port of each service's health check listener now (for tests and logs). */
    public Map<String, Integer> listening() {
        final Map<String, Integer> ports = new TreeMap<>();
        instances.forEach((key, instance) -> ports.put(key, instance.port));
        return ports;
    }

    private boolean listen(final Instance instance) {
        for (final InetAddress address : addresses) {
            final ServerBootstrap bootstrap = new ServerBootstrap()
                .group(group)
                .channel(channelClass)
                .option(ChannelOption.SO_REUSEADDR, true)
                .childHandler(new ChannelInitializer<SocketChannel>() {
                    @Override
                    protected void initChannel(final SocketChannel ch) {
                        instance.channels.add(ch);
                        ch.pipeline().addLast(new HttpServerCodec(), new HttpObjectAggregator(MAX_REQUEST_BYTES), new Handler(instance));
                    }
                });
            final ChannelFuture bound = bootstrap.bind(new InetSocketAddress(address, instance.port)).awaitUninterruptibly();
            if (!bound.isSuccess()) {
                LOG.warning("cannot open the health check of " + instance.namespace + "/" + instance.name + " on "
                    + address.getHostAddress() + ":" + instance.port + ": " + bound.cause().getMessage()
                    + "; load balancers will see this node as unhealthy for it");
                closeAll(instance);
                return false;
            }
            instance.channels.add(bound.channel());
        }
        return true;
    }

    private static void closeAll(final Instance instance) {
        instance.channels.close().syncUninterruptibly();
    }

    /** The answer for one service now: status, weight header and body, as kube-proxy writes them. */
    static Answer answer(final String namespace, final String name, final int localEndpoints, final boolean proxyHealthy) {
        final String body = "{\n"
            + "\t\"service\": {\n"
            + "\t\t\"namespace\": " + quote(namespace) + ",\n"
            + "\t\t\"name\": " + quote(name) + "\n"
            + "\t},\n"
            + "\t\"localEndpoints\": " + localEndpoints + ",\n"
            + "\t\"serviceProxyHealthy\": " + proxyHealthy + "\n"
            + "}";
        return new Answer(localEndpoints > 0 && proxyHealthy ? 200 : 503, localEndpoints, body);
    }

    /** One answer: status code, X-Load-Balancing-Endpoint-Weight, JSON body. */
    record Answer(int status, int weight, String body) {
    }

    private static String quote(final String text) {
        final StringBuilder quoted = new StringBuilder("\"");
        for (final char c : text.toCharArray()) {
            if (c == '"' || c == '\\') {
                quoted.append('\\');
            }
            quoted.append(c);
        }
        return quoted.append('"').toString();
    }

    private final class Handler extends SimpleChannelInboundHandler<FullHttpRequest> {
        private final Instance instance;

        Handler(final Instance instance) {
            this.instance = instance;
        }

        @Override
        protected void channelRead0(final ChannelHandlerContext ctx, final FullHttpRequest request) {
            final SyncTracker health = tracker;
            final Answer answer = answer(instance.namespace, instance.name, instance.localEndpoints,
                health == null || health.health().healthy());
            final byte[] body = answer.body().getBytes(StandardCharsets.UTF_8);
            final boolean keepAlive = request.decoderResult().isSuccess() && HttpUtil.isKeepAlive(request);
            final boolean head = "HEAD".equals(request.method().name());
            final FullHttpResponse response = new DefaultFullHttpResponse(HttpVersion.HTTP_1_1,
                HttpResponseStatus.valueOf(answer.status()), head ? Unpooled.EMPTY_BUFFER : Unpooled.wrappedBuffer(body));
            response.headers().set(HttpHeaderNames.CONTENT_TYPE, "application/json");
            response.headers().set("X-Content-Type-Options", "nosniff");
            response.headers().set("X-Load-Balancing-Endpoint-Weight", Integer.toString(answer.weight()));
            response.headers().setInt(HttpHeaderNames.CONTENT_LENGTH, body.length);
            HttpUtil.setKeepAlive(response, keepAlive);
            final ChannelFuture written = ctx.writeAndFlush(response);
            if (!keepAlive) {
                written.addListener(ChannelFutureListener.CLOSE);
            }
        }

        @Override
        public void exceptionCaught(final ChannelHandlerContext ctx, final Throwable cause) {
            ctx.close();
        }
    }

    /** Closes every listener and stops the event loop. Idempotent. */
    @Override
    public synchronized void close() {
        if (closed) {
            return;
        }
        closed = true;
        instances.values().forEach(ServiceHealthServer::closeAll);
        instances.clear();
        group.shutdownGracefully(0, SHUTDOWN_WAIT_SECONDS, TimeUnit.SECONDS).syncUninterruptibly();
    }
}
