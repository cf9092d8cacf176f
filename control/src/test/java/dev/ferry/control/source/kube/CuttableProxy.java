package dev.ferry.control.source.kube;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;

/**
 * A TCP relay on loopback in front of the mock API server, for "the API server goes away":
 * {@link #cut()} closes the listener and every relayed connection (clients see resets, then
 * refused connections), {@link #restore()} listens on the same port again. The test's own writer
 * talks to the server directly, so it can change things while the agent's side is cut off.
 */
final class CuttableProxy implements AutoCloseable {
    private final InetSocketAddress target;
    private final int port;
    private final List<Socket> open = new CopyOnWriteArrayList<>();
    private volatile ServerSocket listener;

    CuttableProxy(final InetSocketAddress target) throws IOException {
        this.target = target;
        this.listener = listen(0);
        this.port = listener.getLocalPort();
    }

    int port() {
        return port;
    }

    String url() {
        return "http://127.0.0.1:" + port + "/";
    }

    private ServerSocket listen(final int onPort) throws IOException {
        final ServerSocket socket = new ServerSocket();
        socket.setReuseAddress(true);
        socket.bind(new InetSocketAddress(InetAddress.getLoopbackAddress(), onPort));
        Thread.ofVirtual().name("proxy-accept").start(() -> accept(socket));
        return socket;
    }

    private void accept(final ServerSocket socket) {
        while (!socket.isClosed()) {
            try {
                final Socket client = socket.accept();
                final Socket server = new Socket(target.getAddress(), target.getPort());
                open.add(client);
                open.add(server);
                Thread.ofVirtual().start(() -> pump(client, server));
                Thread.ofVirtual().start(() -> pump(server, client));
            } catch (final IOException e) {
                return; // cut
            }
        }
    }

    private void pump(final Socket from, final Socket to) {
        final byte[] buffer = new byte[16 * 1024];
        try (InputStream in = from.getInputStream(); OutputStream out = to.getOutputStream()) {
            int n;
            while ((n = in.read(buffer)) >= 0) {
                out.write(buffer, 0, n);
                out.flush();
            }
        } catch (final IOException e) {
            // one side closed: close both
        } finally {
            closeQuietly(from);
            closeQuietly(to);
            open.remove(from);
            open.remove(to);
        }
    }

    /** The API server is gone: no new connections, existing ones reset. */
    void cut() throws IOException {
        if (listener.isClosed()) {
            return;
        }
        listener.close();
        for (final Socket socket : open) {
            try {
                socket.setSoLinger(true, 0); // RST, as when the far end vanishes
            } catch (final IOException e) {
                // closed already
            }
            closeQuietly(socket);
        }
        open.clear();
    }

    /** The API server is back, at the same address. */
    void restore() throws IOException {
        listener = listen(port);
    }

    private static void closeQuietly(final Socket socket) {
        try {
            socket.close();
        } catch (final IOException e) {
            // closing anyway
        }
    }

    @Override
    public void close() throws IOException {
        cut();
    }
}
