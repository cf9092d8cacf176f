package dev.ferry.control.admin;

import io.netty.buffer.Unpooled;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.SimpleChannelInboundHandler;
import io.netty.handler.codec.http.DefaultFullHttpResponse;
import io.netty.handler.codec.http.FullHttpRequest;
import io.netty.handler.codec.http.FullHttpResponse;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.HttpUtil;
import io.netty.handler.codec.http.HttpVersion;

import java.util.Map;
import java.util.concurrent.Executor;
import java.util.concurrent.RejectedExecutionException;

/**
 * Adapts Netty's HTTP messages to {@link AdminRoutes}: one full request in, one full response
 * out. With an executor, the route runs there instead of on the event loop (the metrics port's
 * conntrack walks), and the response is written back from it (Netty hands the write to the loop).
 */
final class AdminHandler extends SimpleChannelInboundHandler<FullHttpRequest> {
    private static final System.Logger LOG = System.getLogger(AdminHandler.class.getName());

    private final AdminRoutes routes;
    private final AdminRoutes.Listener listener;
    private final Executor executor;

    AdminHandler(final AdminRoutes routes, final AdminRoutes.Listener listener, final Executor executor) {
        this.routes = routes;
        this.listener = listener;
        this.executor = executor;
    }

    @Override
    protected void channelRead0(final ChannelHandlerContext ctx, final FullHttpRequest request) {
        // Copy what the route needs: the request is released when this method returns.
        final String method = request.method().name();
        final String uri = request.uri();
        final boolean valid = request.decoderResult().isSuccess();
        final boolean keepAlive = valid && HttpUtil.isKeepAlive(request);
        if (executor == null) {
            respond(ctx, method, uri, valid, keepAlive);
            return;
        }
        try {
            executor.execute(() -> respond(ctx, method, uri, valid, keepAlive));
        } catch (final RejectedExecutionException e) {
            ctx.close(); // shutting down
        }
    }

    private void respond(final ChannelHandlerContext ctx, final String method, final String uri, final boolean valid,
                         final boolean keepAlive) {
        AdminRoutes.Response response;
        if (!valid) {
            response = AdminRoutes.Response.of(400, AdminRoutes.TEXT_TYPE, "400 bad request\n");
        } else {
            try {
                response = routes.handle(listener, method, uri);
            } catch (final RuntimeException e) {
                LOG.log(System.Logger.Level.WARNING, "admin request " + method + " " + uri + " failed", e);
                response = AdminRoutes.Response.of(500, AdminRoutes.TEXT_TYPE, "500 internal error: " + e + "\n");
            }
        }
        final boolean head = "HEAD".equals(method);
        final FullHttpResponse out = new DefaultFullHttpResponse(HttpVersion.HTTP_1_1,
            HttpResponseStatus.valueOf(response.status()),
            head ? Unpooled.EMPTY_BUFFER : Unpooled.wrappedBuffer(response.body()));
        out.headers().set(HttpHeaderNames.CONTENT_TYPE, response.contentType());
        out.headers().setInt(HttpHeaderNames.CONTENT_LENGTH, response.body().length);
        for (final Map.Entry<String, String> header : response.headers().entrySet()) {
            out.headers().set(header.getKey(), header.getValue());
        }
        HttpUtil.setKeepAlive(out, keepAlive);
        if (keepAlive) {
            ctx.writeAndFlush(out, ctx.voidPromise());
        } else {
            ctx.writeAndFlush(out).addListener(ChannelFutureListener.CLOSE);
        }
    }

    @Override
    public void exceptionCaught(final ChannelHandlerContext ctx, final Throwable cause) {
        // A client that goes away mid-request is not the agent's problem: drop the connection.
        ctx.close();
    }
}
