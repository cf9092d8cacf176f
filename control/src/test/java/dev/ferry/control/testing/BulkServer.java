package dev.ferry.control.testing;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.security.MessageDigest;
import java.util.SplittableRandom;

/**
 * Serves the same {@code size} pseudo-random bytes to every TCP connection, then closes it: the
 * far end of a bulk transfer whose integrity the client checks by SHA-256. Start it inside a
 * namespace ({@code NetworkNamespace.call}): the listening socket stays in that namespace.
 */
public final class BulkServer implements AutoCloseable {
    private final ServerSocket server;
    private final Thread acceptor;

    private BulkServer(final ServerSocket server, final byte[] content) {
        this.server = server;
        this.acceptor = Thread.ofPlatform().daemon().name("bulk-server").start(() -> serve(content));
    }

    public static BulkServer start(final int port, final int size) throws IOException {
        final ServerSocket server = new ServerSocket();
        server.setReuseAddress(true);
        server.bind(new InetSocketAddress("0.0.0.0", port));
        return new BulkServer(server, content(size));
    }

    /** The bytes every connection gets (seeded: the client computes the same). */
    public static byte[] content(final int size) {
        final byte[] bytes = new byte[size];
        final SplittableRandom random = new SplittableRandom(0xF3EE);
        for (int i = 0; i < size; i += 8) {
            long v = random.nextLong();
            for (int b = 0; b < 8 && i + b < size; b++, v >>>= 8) {
                bytes[i + b] = (byte) v;
            }
        }
        return bytes;
    }

    /** Connects, reads until the server closes, returns the SHA-256 of what arrived. */
    public static byte[] fetchSha256(final String host, final int port, final int timeoutMs) throws Exception {
        final MessageDigest sha = MessageDigest.getInstance("SHA-256");
        try (Socket socket = new Socket()) {
            socket.connect(new InetSocketAddress(host, port), timeoutMs);
            socket.setSoTimeout(timeoutMs);
            final InputStream in = socket.getInputStream();
            final byte[] buffer = new byte[64 * 1024];
            int n;
            while ((n = in.read(buffer)) >= 0) {
                sha.update(buffer, 0, n);
            }
        }
        return sha.digest();
    }

    private void serve(final byte[] content) {
        while (!server.isClosed()) {
            try (Socket client = server.accept()) {
                final OutputStream out = client.getOutputStream();
                out.write(content);
                out.flush();
            } catch (final IOException e) {
                // closed, or the client went away: next connection
            }
        }
    }

    @Override
    public void close() {
        try {
            server.close();
        } catch (final IOException e) {
            // closing
        }
        acceptor.interrupt();
    }
}
