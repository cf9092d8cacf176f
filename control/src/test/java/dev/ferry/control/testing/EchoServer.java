package dev.ferry.control.testing;

import dev.ferry.nativeio.netns.NetworkNamespace;

import java.io.IOException;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.charset.StandardCharsets;

/**
 * A TCP echo server inside a namespace (a pod's), a thread per connection, and the client side
 * helpers that go with it: connect inside a namespace, a line there and back.
 */
public final class EchoServer implements AutoCloseable {
    private final ServerSocket socket;
    private final Thread acceptor;

    private EchoServer(final ServerSocket socket) {
        this.socket = socket;
        this.acceptor = Thread.ofPlatform().daemon().name("echo-" + socket.getLocalPort()).start(this::accept);
    }

    /** Listens on {@code port} in namespace {@code ns}. */
    public static EchoServer start(final String ns, final int port) {
        return new EchoServer(NetworkNamespace.call(ns, () -> new ServerSocket(port)));
    }

    private void accept() {
        while (!socket.isClosed()) {
            try {
                final Socket s = socket.accept();
                Thread.ofPlatform().daemon().start(() -> {
                    try (s) {
                        s.getInputStream().transferTo(s.getOutputStream());
                    } catch (final IOException e) {
                        // the client went away
                    }
                });
            } catch (final IOException e) {
                return; // closed
            }
        }
    }

    /**
     * A connection from namespace {@code ns}, made inside it (a socket's descriptor is created at
     * connect, in the calling thread's namespace), with a read timeout long enough for TCP to
     * retransmit what was sent while no agent ran.
     */
    public static Socket connect(final String ns, final String host, final int port, final int connectTimeoutMs) {
        return NetworkNamespace.call(ns, () -> {
            final Socket s = new Socket();
            s.connect(new java.net.InetSocketAddress(host, port), connectTimeoutMs);
            s.setSoTimeout(20_000);
            return s;
        });
    }

    /** Sends {@code line} and returns the line that comes back. */
    public static String roundTrip(final Socket socket, final String line) throws IOException {
        socket.getOutputStream().write((line + "\n").getBytes(StandardCharsets.US_ASCII));
        return readLine(socket);
    }

    /** Reads up to the next newline (or the end of the stream). */
    public static String readLine(final Socket socket) throws IOException {
        final StringBuilder answer = new StringBuilder();
        for (int c = socket.getInputStream().read(); c >= 0 && c != '\n'; c = socket.getInputStream().read()) {
            answer.append((char) c);
        }
        return answer.toString();
    }

    @Override
    public void close() {
        try {
            socket.close();
        } catch (final IOException e) {
            // closing anyway
        }
        try {
            acceptor.join(5000);
        } catch (final InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
