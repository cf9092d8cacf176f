package dev.ferry.control.lab;

import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;

import java.io.IOException;
import java.io.OutputStream;
import java.net.DatagramPacket;
import java.net.DatagramSocket;
import java.net.InetSocketAddress;
import java.net.SocketException;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.Executors;

/**
 * The lab's pod: an HTTP server that says which pod answered and which address it saw the
 * request come from, and a UDP echo that does the same. What a test needs to check where a
 * Service sent a connection and whether the source was masqueraded.
 *
 * <pre>
 *  GET /         200  "pod=NAME client=IP:PORT\n"
 *  GET /healthz  200  "ok\n"   (the readiness check)
 *  UDP datagram       "pod=NAME client=IP:PORT\n" sent back to the sender
 * </pre>
 *
 * Sockets are bound in the network namespace of the thread that calls {@link #start}.
 */
public final class PodServer implements AutoCloseable {
    private final String podName;
    private final HttpServer http;
    private final DatagramSocket udp;
    private final Thread udpThread;

    private PodServer(final String podName, final HttpServer http, final DatagramSocket udp) {
        this.podName = podName;
        this.http = http;
        this.udp = udp;
        this.udpThread = udp == null ? null : Thread.ofPlatform().daemon().name("pod-udp-" + podName).unstarted(this::echoLoop);
    }

    /** Binds HTTP on {@code httpPort} and, when {@code udpPort > 0}, UDP on {@code udpPort}, on all addresses. */
    public static PodServer start(final String podName, final int httpPort, final int udpPort) throws IOException {
        final HttpServer http = HttpServer.create(new InetSocketAddress(httpPort), 64);
        final DatagramSocket udp = udpPort > 0 ? new DatagramSocket(udpPort) : null;
        final PodServer server = new PodServer(podName, http, udp);
        http.createContext("/", server::answer);
        http.setExecutor(Executors.newFixedThreadPool(4, r -> Thread.ofPlatform().daemon().name("pod-http-" + podName).unstarted(r)));
        http.start();
        if (server.udpThread != null) {
            server.udpThread.start();
        }
        return server;
    }

    private void answer(final HttpExchange exchange) throws IOException {
        final String body = "/healthz".equals(exchange.getRequestURI().getPath())
            ? "ok\n"
            : "pod=" + podName + " client=" + format(exchange.getRemoteAddress()) + "\n";
        final byte[] bytes = body.getBytes(StandardCharsets.UTF_8);
        exchange.getResponseHeaders().add("Content-Type", "text/plain");
        exchange.sendResponseHeaders(200, bytes.length);
        try (OutputStream out = exchange.getResponseBody()) {
            out.write(bytes);
        }
    }

    private void echoLoop() {
        final byte[] buffer = new byte[2048];
        while (!udp.isClosed()) {
            try {
                final DatagramPacket in = new DatagramPacket(buffer, buffer.length);
                udp.receive(in);
                final byte[] reply = ("pod=" + podName + " client=" + format((InetSocketAddress) in.getSocketAddress()) + "\n")
                    .getBytes(StandardCharsets.UTF_8);
                udp.send(new DatagramPacket(reply, reply.length, in.getSocketAddress()));
            } catch (final SocketException e) {
                return; // closed
            } catch (final IOException e) {
                // a bad datagram must not stop the echo
            }
        }
    }

    private static String format(final InetSocketAddress address) {
        return address.getAddress().getHostAddress() + ":" + address.getPort();
    }

    public String podName() {
        return podName;
    }

    @Override
    public void close() {
        http.stop(0);
        if (udp != null) {
            udp.close();
        }
    }
}
